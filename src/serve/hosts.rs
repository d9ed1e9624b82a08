//! The Host names the server answers to, and the `--allow-host` option.
//!
//! Rules: a Host is `NAME[:PORT]` where NAME is a DNS name (letters, digits,
//! `-`, dot-separated labels), an IPv4 address, or an IPv6 address in
//! brackets. Names compare without regard to case (`LOCALHOST:8765` is
//! `localhost:8765`); a trailing dot (`localhost.`) is a different name and
//! refused. A Host without a port means port 80. The server always answers to
//! `127.0.0.1`, `localhost` and `[::1]` on its bound port, and to each
//! `--allow-host NAME[:PORT]`, where a NAME without a port means the bound
//! port.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

/// One `--allow-host NAME[:PORT]` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowHost {
    name: String,
    port: Option<u16>,
}

impl FromStr for AllowHost {
    type Err = String;

    fn from_str(s: &str) -> Result<AllowHost, String> {
        let (name, port) = parse_authority(s).ok_or_else(|| {
            "give a host name, an IPv4 address or a [bracketed] IPv6 address, \
             optionally with :PORT (1-65535), e.g. labels.example.org:8765"
                .to_string()
        })?;
        Ok(AllowHost { name, port })
    }
}

/// The Host names (with ports) the server answers to.
#[derive(Debug, Clone)]
pub struct Hosts {
    allowed: Vec<(String, u16)>,
}

impl Hosts {
    /// The loopback names on `port` (the bound port), and `extra`.
    pub fn new(port: u16, extra: &[AllowHost]) -> Hosts {
        let mut allowed: Vec<(String, u16)> = ["127.0.0.1", "localhost", "[::1]"]
            .into_iter()
            .map(|n| (n.to_string(), port))
            .collect();
        for a in extra {
            let entry = (a.name.clone(), a.port.unwrap_or(port));
            if !allowed.contains(&entry) {
                allowed.push(entry);
            }
        }
        Hosts { allowed }
    }

    /// The allowed `NAME:PORT`s, for the startup message.
    pub fn describe(&self) -> String {
        self.allowed
            .iter()
            .map(|(n, p)| format!("{n}:{p}"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn allows(&self, name: &str, port: u16) -> bool {
        self.allowed.iter().any(|(n, p)| n == name && *p == port)
    }

    /// Whether a Host header's value (or an absolute request target's
    /// authority) names this server.
    pub fn allows_host(&self, host: &str) -> bool {
        parse_authority(host).is_some_and(|(name, port)| self.allows(&name, port.unwrap_or(80)))
    }

    /// Whether an Origin header's value is `http://` or `https://` and an
    /// allowed host (its port defaulting to the scheme's), nothing more.
    pub fn allows_origin(&self, origin: &str) -> bool {
        let (rest, default) = if let Some(r) = origin.strip_prefix("http://") {
            (r, 80)
        } else if let Some(r) = origin.strip_prefix("https://") {
            (r, 443)
        } else {
            return false;
        };
        parse_authority(rest)
            .is_some_and(|(name, port)| self.allows(&name, port.unwrap_or(default)))
    }
}

/// `NAME[:PORT]` as (lowercase NAME, PORT); `None` if it is anything else
/// (a user part, a path, an empty or out-of-range port, a bad name).
fn parse_authority(s: &str) -> Option<(String, Option<u16>)> {
    let (name, port) = if let Some(rest) = s.strip_prefix('[') {
        let (inside, after) = rest.split_once(']')?;
        let ip: Ipv6Addr = inside.parse().ok()?;
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':')?),
        };
        (format!("[{ip}]"), port)
    } else {
        let (name, port) = match s.split_once(':') {
            Some((n, p)) => (n, Some(p)),
            None => (s, None),
        };
        if !(valid_dns_name(name) || name.parse::<Ipv4Addr>().is_ok()) {
            return None;
        }
        (name.to_ascii_lowercase(), port)
    };
    let port = match port {
        None => None,
        Some(p) => Some(parse_port(p)?),
    };
    Some((name, port))
}

fn parse_port(p: &str) -> Option<u16> {
    if p.is_empty() || p.len() > 5 || !p.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    p.parse::<u16>().ok().filter(|&n| n > 0)
}

/// Dot-separated labels of 1–63 letters, digits and `-` (not at either end),
/// 253 characters at most, no empty label (so no trailing dot).
fn valid_dns_name(name: &str) -> bool {
    (1..=253).contains(&name.len())
        && name.split('.').all(|l| {
            (1..=63).contains(&l.len())
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_are_checked_exactly() {
        let extra: Vec<AllowHost> = ["labels.example.org", "10.0.0.5:9000", "[fe80::1]"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        let h = Hosts::new(8765, &extra);
        for good in [
            "127.0.0.1:8765",
            "localhost:8765",
            "LOCALHOST:8765",
            "[::1]:8765",
            "[0:0:0:0:0:0:0:1]:8765",
            "labels.example.org:8765",
            "Labels.Example.Org:8765",
            "10.0.0.5:9000",
            "[FE80::1]:8765",
        ] {
            assert!(h.allows_host(good), "{good}");
        }
        for bad in [
            "",
            "127.0.0.1",
            "localhost",
            "127.0.0.1:8766",
            "127.0.0.1:08765x",
            "localhost.:8765",
            "rebind.evil.example:8765",
            "localhost:8765.evil.example",
            "user@localhost:8765",
            "localhost:8765/x",
            "localhost:",
            "localhost:0",
            "localhost:99999",
            "::1:8765",
            "[::1]8765",
            "[::2]:8765",
            "10.0.0.5:8765",
            "labels.example.org:9000",
            " localhost:8765",
            "localhost:8765 ",
            "local_host:8765",
        ] {
            assert!(!h.allows_host(bad), "{bad:?}");
        }
        let on_80 = Hosts::new(80, &[]);
        assert!(on_80.allows_host("localhost"), "no port means 80");
        assert!(h.allows_origin("http://localhost:8765"));
        assert!(h.allows_origin("http://labels.example.org:8765"));
        assert!(!h.allows_origin("http://labels.example.org"));
        assert!(!h.allows_origin("localhost:8765"));
    }

    #[test]
    fn allow_host_values_are_validated() {
        for bad in [
            "",
            "*",
            "http://labels.example.org",
            "labels.example.org/",
            "labels.example.org:",
            "labels.example.org:0",
            "labels.example.org:65536",
            "labels.example.org.",
            "-bad.example",
            "a b",
            "::1",
            "[not-ip]",
        ] {
            assert!(bad.parse::<AllowHost>().is_err(), "{bad:?}");
        }
        assert_eq!(
            "Lab.Example:81".parse::<AllowHost>().unwrap(),
            AllowHost {
                name: "lab.example".into(),
                port: Some(81)
            }
        );
    }
}

//! A question's or answer's identity in a study: its site and its Id in that
//! site's dump. Ids are only unique within a site, so every map, set and
//! lookup of posts across sites uses this key.

use std::fmt;

/// A post of a study: its site's name and its Id in that site's dump.
/// Ordered by site, then Id (the order of the `(site, id)` primary keys in
/// the store).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PostKey {
    pub site: String,
    pub id: i64,
}

impl PostKey {
    pub fn new(site: impl Into<String>, id: i64) -> PostKey {
        PostKey {
            site: site.into(),
            id,
        }
    }
}

/// "site id", as messages name a post.
impl fmt::Display for PostKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.site, self.id)
    }
}

/// Serialized as the pair `[site, id]`, as the reports wrote the tuple
/// before this type existed.
impl serde::Serialize for PostKey {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        (&self.site, self.id).serialize(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_by_site_then_id_and_serializes_as_a_pair() {
        let mut keys = vec![
            PostKey::new("b", 1),
            PostKey::new("a", 10),
            PostKey::new("a", 2),
        ];
        keys.sort();
        assert_eq!(
            keys,
            [
                PostKey::new("a", 2),
                PostKey::new("a", 10),
                PostKey::new("b", 1)
            ]
        );
        assert_eq!(serde_json::to_string(&keys[0]).unwrap(), r#"["a",2]"#);
        assert_eq!(keys[2].to_string(), "b 1");
    }
}

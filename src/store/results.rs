//! The typed results of `eval` and `agree`, stored as JSON under
//! `eval:SET` and `agree:SET` (the JSON the commands have always stored, so
//! older stores still read) and read back as the library's own types: a
//! renamed field fails to compile instead of reading as missing.

use serde::de::DeserializeOwned;

use super::{Store, StoreError};
use crate::classify::eval::Evaluation;
use crate::label::agree::Agreement;

const EVAL: &str = "eval:";
const AGREE: &str = "agree:";

/// A stored result this build cannot read (written by another version, or
/// edited by hand): its key and why. Callers say so instead of dropping it
/// in silence.
#[derive(Debug, Clone, PartialEq)]
pub struct Unreadable {
    pub key: String,
    pub why: String,
}

/// The latest stored result of each label set, by set name (ordered by
/// name), and the ones that could not be read.
#[derive(Debug, Clone, PartialEq)]
pub struct Latest<T> {
    pub found: Vec<(String, T)>,
    pub unreadable: Vec<Unreadable>,
}

impl Store {
    /// Stores `eval`'s result on label set `set` (replacing the previous).
    pub fn save_eval(&self, set: &str, e: &Evaluation) -> Result<(), StoreError> {
        let key = format!("{EVAL}{set}");
        let json = serde_json::to_string(e).map_err(|err| encode_err(&key, err))?;
        self.save_result(&key, &json)
    }

    /// Stores `agree`'s result on label set `set` (replacing the previous),
    /// as `agree --json` prints it: the set's name with the agreement's
    /// fields.
    pub fn save_agreement(&self, set: &str, a: &Agreement) -> Result<(), StoreError> {
        self.save_result(
            &format!("{AGREE}{set}"),
            &crate::report::agree::to_json(set, a),
        )
    }

    /// The latest `eval` result of each label set.
    pub fn latest_evals(&self) -> Result<Latest<Evaluation>, StoreError> {
        self.latest(EVAL)
    }

    /// The latest `agree` result of each label set.
    pub fn latest_agreements(&self) -> Result<Latest<Agreement>, StoreError> {
        self.latest(AGREE)
    }

    fn latest<T: DeserializeOwned>(&self, prefix: &str) -> Result<Latest<T>, StoreError> {
        let mut latest = Latest {
            found: Vec::new(),
            unreadable: Vec::new(),
        };
        for (key, json) in self.results_with_prefix(prefix)? {
            let Some(set) = key.strip_prefix(prefix) else {
                continue;
            };
            match serde_json::from_str(&json) {
                Ok(v) => latest.found.push((set.to_string(), v)),
                Err(err) => latest.unreadable.push(Unreadable {
                    key: key.clone(),
                    why: err.to_string(),
                }),
            }
        }
        Ok(latest)
    }
}

fn encode_err(key: &str, err: serde_json::Error) -> StoreError {
    StoreError::Encode {
        key: key.to_string(),
        why: err.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::classify::eval::Confusion;
    use crate::label::agree;

    fn evaluation(model: &str) -> Evaluation {
        Evaluation {
            model: model.into(),
            protocol: "cv5".into(),
            warning: None,
            items: 3,
            accuracy: 0.75,
            lenient_accuracy: 1.0,
            macro_precision: 0.5,
            macro_recall: 0.25,
            macro_f1: 0.125,
            micro_f1: 0.75,
            per_category: BTreeMap::new(),
            per_source: BTreeMap::new(),
            confusion: Confusion {
                categories: vec!["crash".into()],
                matrix: vec![vec![3]],
            },
        }
    }

    #[test]
    fn results_read_back_typed_by_set_and_unreadable_ones_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_or_create(&dir.path().join("study.db")).unwrap();
        store.save_eval("b", &evaluation("kw")).unwrap();
        store.save_eval("a", &evaluation("old")).unwrap();
        store.save_eval("a", &evaluation("new")).unwrap();
        let a = agree::measure_with_codes(&[], &["crash".into()], &[]);
        store.save_agreement("dl", &a).unwrap();
        // An older build's agreement, before root-cause codes, still reads.
        let old = crate::report::agree::to_json("old", &a).replace("\"per_root_cause\": [],", "");
        assert!(!old.contains("per_root_cause"));
        store.save_result("agree:old", &old).unwrap();
        store.save_result("eval:broken", "{\"model\": 1}").unwrap();
        let evals = store.latest_evals().unwrap();
        let sets: Vec<(&str, &str)> = evals
            .found
            .iter()
            .map(|(s, e)| (s.as_str(), e.model.as_str()))
            .collect();
        assert_eq!(sets, [("a", "new"), ("b", "kw")]);
        assert_eq!(evals.found[1].1, evaluation("kw"));
        assert_eq!(evals.unreadable.len(), 1);
        assert_eq!(evals.unreadable[0].key, "eval:broken");
        let agreements = store.latest_agreements().unwrap();
        assert!(
            agreements.unreadable.is_empty(),
            "{:?}",
            agreements.unreadable
        );
        assert_eq!(
            agreements.found,
            [("dl".to_string(), a.clone()), ("old".to_string(), a)]
        );
    }
}

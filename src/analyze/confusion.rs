//! Which confusion matrix corrects the classifier's shares (the report's
//! "adjusted share"): the policy, as a pure function of the classifying
//! model and the stored evaluations.

use crate::classify::eval::Evaluation;
use crate::classify::model::{Model, Validation};

/// What the policy needs of the model that classified the questions.
#[derive(Debug, Clone, Copy)]
pub struct Classifying<'a> {
    pub name: &'a str,
    pub categories: &'a [String],
    /// The cross-validation kept with the model.
    pub validation: Option<&'a Validation>,
}

impl<'a> From<&'a Model> for Classifying<'a> {
    fn from(m: &'a Model) -> Classifying<'a> {
        Classifying {
            name: &m.name,
            categories: &m.categories,
            validation: m.validation.as_ref(),
        }
    }
}

/// The confusion the adjusted shares correct for, and where it comes from
/// (a phrase for the report's note).
#[derive(Debug, Clone, PartialEq)]
pub struct Correction {
    /// Rows: labeled kind; columns: predicted, in the study's category order.
    pub matrix: Vec<Vec<u64>>,
    pub source: String,
}

/// The first stored `eval` (`evals` by label set, in the store's order) of
/// the classifying model that is an estimate (held-out posts, not its own
/// training labels: no warning) over the study's categories `keys`, else the
/// cross-validation kept in the model; `None` without a model of these
/// categories or either measure.
pub fn choose(
    model: Option<Classifying>,
    evals: &[(String, Evaluation)],
    keys: &[String],
) -> Option<Correction> {
    let model = model.filter(|m| m.categories == keys)?;
    let square =
        |m: &Vec<Vec<u64>>| m.len() == keys.len() && m.iter().all(|r| r.len() == keys.len());
    let held_out = evals.iter().find_map(|(set, e)| {
        (e.model == model.name
            && e.warning.is_none()
            && e.confusion.categories == keys
            && square(&e.confusion.matrix))
        .then(|| Correction {
            matrix: e.confusion.matrix.clone(),
            source: format!("eval on label set {set} ({})", e.protocol),
        })
    });
    held_out.or_else(|| {
        model.validation.map(|v| Correction {
            matrix: v.confusion.clone(),
            source: format!(
                "the cross-validation kept with model {} ({})",
                model.name, v.protocol
            ),
        })
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::classify::eval::Confusion;

    fn keys() -> Vec<String> {
        vec!["crash".into(), "performance".into()]
    }

    fn eval(model: &str, warning: Option<&str>, matrix: Vec<Vec<u64>>) -> Evaluation {
        Evaluation {
            model: model.into(),
            protocol: "cv5".into(),
            warning: warning.map(Into::into),
            items: 4,
            accuracy: 0.5,
            lenient_accuracy: 0.5,
            macro_precision: 0.5,
            macro_recall: 0.5,
            macro_f1: 0.5,
            micro_f1: 0.5,
            per_category: BTreeMap::new(),
            per_source: BTreeMap::new(),
            confusion: Confusion {
                categories: keys(),
                matrix,
            },
        }
    }

    fn validation() -> Validation {
        Validation {
            protocol: "5-fold".into(),
            items: 10,
            accuracy: 0.9,
            lenient_accuracy: 0.9,
            macro_f1: 0.9,
            confusion: vec![vec![5, 0], vec![1, 4]],
        }
    }

    #[test]
    fn a_held_out_eval_of_the_model_wins_over_its_cross_validation() {
        let k = keys();
        let v = validation();
        let m = Classifying {
            name: "kw",
            categories: &k,
            validation: Some(&v),
        };
        let evals = vec![
            (
                "a".to_string(),
                eval("other", None, vec![vec![9, 9], vec![9, 9]]),
            ),
            (
                "b".to_string(),
                eval("kw", Some("trained on these"), vec![vec![8, 8], vec![8, 8]]),
            ),
            (
                "c".to_string(),
                eval("kw", None, vec![vec![2, 1], vec![0, 3]]),
            ),
            (
                "d".to_string(),
                eval("kw", None, vec![vec![7, 7], vec![7, 7]]),
            ),
        ];
        assert_eq!(
            choose(Some(m), &evals, &k),
            Some(Correction {
                matrix: vec![vec![2, 1], vec![0, 3]],
                source: "eval on label set c (cv5)".into()
            })
        );
        // Only training-set scores or a malformed matrix: the cross-validation.
        let evals = vec![
            (
                "b".to_string(),
                eval("kw", Some("trained on these"), vec![vec![8, 8], vec![8, 8]]),
            ),
            ("c".to_string(), eval("kw", None, vec![vec![2, 1]])),
        ];
        assert_eq!(
            choose(Some(m), &evals, &k),
            Some(Correction {
                matrix: v.confusion.clone(),
                source: "the cross-validation kept with model kw (5-fold)".into()
            })
        );
        assert_eq!(
            choose(
                Some(Classifying {
                    validation: None,
                    ..m
                }),
                &evals,
                &k
            ),
            None
        );
    }

    #[test]
    fn no_correction_without_a_model_of_the_study_categories() {
        let k = keys();
        let evals = vec![(
            "c".to_string(),
            eval("kw", None, vec![vec![2, 1], vec![0, 3]]),
        )];
        assert_eq!(choose(None, &evals, &k), None);
        let other = vec!["crash".to_string()];
        let v = validation();
        let m = Classifying {
            name: "kw",
            categories: &other,
            validation: Some(&v),
        };
        assert_eq!(choose(Some(m), &evals, &k), None);
    }
}

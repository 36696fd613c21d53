//! Public identifiers. Internally the store uses integer keys; what crosses a
//! transport is one of these opaque strings.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// A run id: 32 lowercase hex characters, as MLflow uses (a uuid4 without
/// dashes), so MLflow clients and Runlore clients see the same id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(try_from = "String")]
pub struct RunId(String);

/// Written as the string it holds. (`#[serde(into = "String")]` would clone
/// each id first: a lineage trace writes some 30,000 of them.)
impl Serialize for RunId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl RunId {
    pub fn generate() -> RunId {
        RunId(uuid::Uuid::new_v4().simple().to_string())
    }

    pub fn parse(text: &str) -> Result<RunId> {
        let ok = text.len() == 32
            && text
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if ok {
            Ok(RunId(text.to_owned()))
        } else {
            Err(Error::invalid(format!(
                "invalid run id '{}': expected 32 lowercase hex characters",
                truncate_for_message(text)
            )))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for RunId {
    type Err = Error;
    fn from_str(s: &str) -> Result<RunId> {
        RunId::parse(s)
    }
}

impl TryFrom<String> for RunId {
    type Error = Error;
    fn try_from(s: String) -> Result<RunId> {
        RunId::parse(&s)
    }
}

impl From<RunId> for String {
    fn from(id: RunId) -> String {
        id.0
    }
}

impl fmt::Display for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An experiment id: a decimal integer carried as a string, because MLflow
/// clients send and expect strings (`"0"` is the Default experiment).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ExperimentId(i64);

impl ExperimentId {
    /// The Default experiment of the `default` project, created by the first
    /// migration; MLflow clients log there when they name no experiment.
    pub const DEFAULT: ExperimentId = ExperimentId(0);

    pub fn new(value: i64) -> ExperimentId {
        ExperimentId(value)
    }

    pub fn parse(text: &str) -> Result<ExperimentId> {
        match text.parse::<i64>() {
            Ok(v) if v >= 0 => Ok(ExperimentId(v)),
            _ => Err(Error::invalid(format!(
                "invalid experiment id '{}': expected a non-negative integer",
                truncate_for_message(text)
            ))),
        }
    }

    pub fn value(self) -> i64 {
        self.0
    }
}

impl FromStr for ExperimentId {
    type Err = Error;
    fn from_str(s: &str) -> Result<ExperimentId> {
        ExperimentId::parse(s)
    }
}

impl TryFrom<String> for ExperimentId {
    type Error = Error;
    fn try_from(s: String) -> Result<ExperimentId> {
        ExperimentId::parse(&s)
    }
}

impl From<ExperimentId> for String {
    fn from(id: ExperimentId) -> String {
        id.0.to_string()
    }
}

impl fmt::Display for ExperimentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Keeps user-supplied text in error messages short.
pub fn truncate_for_message(text: &str) -> String {
    const MAX: usize = 64;
    if text.chars().count() <= MAX {
        text.to_owned()
    } else {
        let head: String = text.chars().take(MAX).collect();
        format!("{head}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_run_ids_parse_back() {
        let id = RunId::generate();
        assert_eq!(id.as_str().len(), 32);
        assert_eq!(RunId::parse(id.as_str()).unwrap(), id);
    }

    #[test]
    fn run_ids_reject_uppercase_and_wrong_length() {
        assert!(RunId::parse("ABCDEF0123456789abcdef0123456789").is_err());
        assert!(RunId::parse("abc").is_err());
        assert!(RunId::parse("").is_err());
    }

    #[test]
    fn experiment_ids_are_strings_on_the_wire() {
        let id: ExperimentId = serde_json::from_str("\"12\"").unwrap();
        assert_eq!(id.value(), 12);
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"12\"");
        assert!(serde_json::from_str::<ExperimentId>("\"-1\"").is_err());
        assert!(serde_json::from_str::<ExperimentId>("\"x\"").is_err());
    }
}

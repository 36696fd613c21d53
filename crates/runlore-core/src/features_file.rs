//! Features written as a file: JSON or YAML, read into the JSON tree that
//! the experiment graph stores. One reader for every way in (the CLI's
//! `--features f.yaml`, a `features.yaml` artifact logged through MLflow), so
//! the same file means the same tree whichever way it came.

mod depth;

use serde_json::Value;

pub use depth::MAX_FEATURES_DEPTH;

use crate::graph::MAX_FEATURES_BYTES;
use crate::{Error, Result};

/// Artifact paths, at the root of a run's artifact tree, whose content
/// becomes the run's features when logged through the MLflow API
/// (`mlflow.log_dict(config, "features.yaml")`).
pub const FEATURES_ARTIFACT_PATHS: [&str; 3] = ["features.json", "features.yaml", "features.yml"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeaturesFormat {
    Json,
    Yaml,
}

impl FeaturesFormat {
    /// The format a file name's extension names; YAML for anything else,
    /// since JSON is valid YAML apart from corner cases we refuse anyway.
    pub fn from_path(path: &str) -> FeaturesFormat {
        if path.to_ascii_lowercase().ends_with(".json") {
            FeaturesFormat::Json
        } else {
            FeaturesFormat::Yaml
        }
    }
}

/// Parses a features document. The root must be a mapping; the size limit is
/// the one the store applies to features, and the nesting is bounded
/// ([`MAX_FEATURES_DEPTH`]) before the parser runs. Parsing is CPU work of
/// up to a megabyte: async callers run it off their runtime's threads.
pub fn parse_features(text: &str, format: FeaturesFormat) -> Result<Value> {
    if text.len() > MAX_FEATURES_BYTES {
        return Err(Error::invalid(format!(
            "a features file may be at most {MAX_FEATURES_BYTES} bytes, this one is {}",
            text.len()
        )));
    }
    if depth::within_depth(text, MAX_FEATURES_DEPTH).is_none() {
        return Err(Error::invalid(format!(
            "features may nest at most {MAX_FEATURES_DEPTH} levels deep; this file nests deeper"
        )));
    }
    let tree: Value = match format {
        FeaturesFormat::Json => serde_json::from_str(text)
            .map_err(|e| Error::invalid(format!("features are not valid JSON: {e}")))?,
        FeaturesFormat::Yaml => yaml_serde::from_str(text)
            .map_err(|e| Error::invalid(format!("features are not valid YAML: {e}")))?,
    };
    if !tree.is_object() {
        return Err(Error::invalid(format!(
            "features must be a mapping at the root (key: value), not {}",
            kind_of(&tree)
        )));
    }
    Ok(tree)
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "an empty document",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn yaml_and_json_give_the_same_tree() {
        let yaml =
            "model:\n  lr: 0.001\n  layers: [64, 32]\n  dropout: null\nname: base\nuse_amp: true\n";
        let from_yaml = parse_features(yaml, FeaturesFormat::Yaml).expect("yaml");
        let from_json = parse_features(
            r#"{"model":{"lr":0.001,"layers":[64,32],"dropout":null},"name":"base","use_amp":true}"#,
            FeaturesFormat::Json,
        )
        .expect("json");
        assert_eq!(from_yaml, from_json);
        assert_eq!(from_yaml["model"]["layers"], json!([64, 32]));
    }

    #[test]
    fn a_root_that_is_not_a_mapping_is_refused() {
        for (text, says) in [
            ("- a\n- b\n", "a list"),
            ("42\n", "a number"),
            ("", "an empty document"),
        ] {
            let err = parse_features(text, FeaturesFormat::Yaml).expect_err(text);
            assert!(err.message().contains(says), "{}", err.message());
        }
    }

    #[test]
    fn malformed_documents_say_which_format() {
        let err = parse_features("a: [1, 2\n", FeaturesFormat::Yaml).expect_err("yaml");
        assert!(
            err.message().contains("not valid YAML"),
            "{}",
            err.message()
        );
        let err = parse_features("{\"a\": }", FeaturesFormat::Json).expect_err("json");
        assert!(
            err.message().contains("not valid JSON"),
            "{}",
            err.message()
        );
    }

    #[test]
    fn deep_nesting_is_refused_before_parsing() {
        let flow = "a: ".to_owned() + &"[".repeat(100_000) + &"]".repeat(100_000);
        let block: String = (0..1000)
            .map(|i| format!("{}k:\n", " ".repeat(i)))
            .collect();
        let json = "{\"a\":".repeat(100_000) + "1" + &"}".repeat(100_000);
        for (text, format) in [
            (flow, FeaturesFormat::Yaml),
            (block, FeaturesFormat::Yaml),
            (json, FeaturesFormat::Json),
        ] {
            let err = parse_features(&text, format).expect_err("too deep");
            assert!(
                err.message().contains("at most 64 levels"),
                "{}",
                err.message()
            );
        }
        let ok = "a:\n  b: [".to_owned() + &"[".repeat(20) + &"]".repeat(21) + "\n";
        assert!(parse_features(&ok, FeaturesFormat::Yaml).is_ok());
    }

    #[test]
    fn the_format_follows_the_extension() {
        assert_eq!(FeaturesFormat::from_path("f.JSON"), FeaturesFormat::Json);
        assert_eq!(
            FeaturesFormat::from_path("conf/f.yml"),
            FeaturesFormat::Yaml
        );
        assert_eq!(FeaturesFormat::from_path("features"), FeaturesFormat::Yaml);
    }
}

//! Input rules checked at every edge before anything reaches a store.

use crate::error::{Error, Result};
use crate::model::{ComponentStatus, LogBatch, NewRun};

mod text;
pub use text::{check_name_characters, check_value_characters, forbidden_in_name, shown};

pub const MAX_KEY_LEN: usize = 250;
pub const MAX_PARAM_VALUE_LEN: usize = 6_000;
pub const MAX_TAG_VALUE_LEN: usize = 8_000;
pub const MAX_NAME_LEN: usize = 250;
pub const MAX_PROJECT_NAME_LEN: usize = 100;
pub const MAX_DESCRIPTION_LEN: usize = 10_000;
/// Points one native log request may carry.
pub const MAX_BATCH_METRICS: usize = 100_000;
pub const MAX_BATCH_PARAMS: usize = 1_000;
pub const MAX_BATCH_TAGS: usize = 1_000;

/// Metric, param and tag keys: letters, digits, `_ - . : / space` (as
/// MLflow), at most 250 characters, and never a path that climbs (`..`) or
/// starts at the root, because keys also name files in exports. Control and
/// invisible formatting characters are neither letters nor digits, so they
/// are refused too (and written escaped in the message).
pub fn key(kind: &str, key: &str) -> Result<()> {
    if key.is_empty() {
        return Err(Error::invalid(format!("{kind} key must not be empty")));
    }
    if key.chars().count() > MAX_KEY_LEN {
        return Err(Error::invalid(format!(
            "{kind} key '{}' is longer than {MAX_KEY_LEN} characters",
            shown(key)
        )));
    }
    if let Some(bad) = key
        .chars()
        .find(|c| !(c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '/' | ' ' | ':')))
    {
        return Err(Error::invalid(format!(
            "{kind} key '{}' contains '{}': keys may hold letters, digits, '_', '-', '.', ':', '/' and spaces",
            shown(key),
            bad.escape_debug()
        )));
    }
    if key.starts_with('/') || key.split('/').any(|part| part == ".." || part == ".") {
        return Err(Error::invalid(format!(
            "{kind} key '{}' must be a relative name without '.' or '..' segments",
            shown(key)
        )));
    }
    Ok(())
}

pub fn param_value(key: &str, value: &str) -> Result<()> {
    check_value_characters(&format!("value of param '{key}'"), value)?;
    if value.chars().count() > MAX_PARAM_VALUE_LEN {
        return Err(Error::invalid(format!(
            "value of param '{key}' is longer than {MAX_PARAM_VALUE_LEN} characters"
        )));
    }
    Ok(())
}

pub fn tag_value(key: &str, value: &str) -> Result<()> {
    check_value_characters(&format!("value of tag '{key}'"), value)?;
    if value.chars().count() > MAX_TAG_VALUE_LEN {
        return Err(Error::invalid(format!(
            "value of tag '{key}' is longer than {MAX_TAG_VALUE_LEN} characters"
        )));
    }
    Ok(())
}

/// Project names appear in URLs and paths: a letter or digit, then letters,
/// digits, `_`, `-` or `.`, at most 100 characters.
pub fn project_name(name: &str) -> Result<()> {
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric());
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if !first_ok || !rest_ok || name.len() > MAX_PROJECT_NAME_LEN {
        return Err(Error::invalid(format!(
            "invalid project name '{}': use letters, digits, '_', '-' or '.', start with a letter or digit, at most {MAX_PROJECT_NAME_LEN} characters",
            shown(name)
        )));
    }
    Ok(())
}

/// Experiment and run names: any text of 1 to 250 characters without control
/// or invisible formatting characters (see [`text`]).
pub fn display_name(kind: &str, name: &str) -> Result<()> {
    if name.trim().is_empty() {
        return Err(Error::invalid(format!("{kind} name must not be empty")));
    }
    if name.chars().count() > MAX_NAME_LEN {
        return Err(Error::invalid(format!(
            "{kind} name '{}' is longer than {MAX_NAME_LEN} characters",
            shown(name)
        )));
    }
    check_name_characters(&format!("{kind} name"), name)
}

pub fn description(text: &str) -> Result<()> {
    check_value_characters("description", text)?;
    if text.chars().count() > MAX_DESCRIPTION_LEN {
        return Err(Error::invalid(format!(
            "description is longer than {MAX_DESCRIPTION_LEN} characters"
        )));
    }
    Ok(())
}

/// Checks every key, value and count of a log request; the first problem is
/// reported with the index of the offending point.
pub fn log_batch(batch: &LogBatch) -> Result<()> {
    if batch.metrics.len() > MAX_BATCH_METRICS {
        return Err(Error::invalid(format!(
            "a log request may carry at most {MAX_BATCH_METRICS} metric points, got {}",
            batch.metrics.len()
        )));
    }
    if batch.params.len() > MAX_BATCH_PARAMS {
        return Err(Error::invalid(format!(
            "a log request may carry at most {MAX_BATCH_PARAMS} params, got {}",
            batch.params.len()
        )));
    }
    if batch.tags.len() > MAX_BATCH_TAGS {
        return Err(Error::invalid(format!(
            "a log request may carry at most {MAX_BATCH_TAGS} tags, got {}",
            batch.tags.len()
        )));
    }
    for (index, point) in batch.metrics.iter().enumerate() {
        key("metric", &point.key)
            .map_err(|e| Error::invalid(format!("metrics[{index}]: {}", e.message())))?;
        if point.timestamp.is_some_and(|t| t < 0) {
            return Err(Error::invalid(format!(
                "metrics[{index}]: timestamp must not be negative"
            )));
        }
    }
    for (k, v) in &batch.params {
        key("param", k)?;
        param_value(k, v)?;
    }
    for (k, v) in &batch.tags {
        key("tag", k)?;
        tag_value(k, v)?;
    }
    if batch.components.len() > MAX_BATCH_TAGS {
        return Err(Error::invalid(format!(
            "a log request may carry at most {MAX_BATCH_TAGS} component reports, got {}",
            batch.components.len()
        )));
    }
    for (index, c) in batch.components.iter().enumerate() {
        key("component", &c.name)
            .map_err(|e| Error::invalid(format!("components[{index}]: {}", e.message())))?;
        check_value_characters(
            &format!("components[{index}]: the reason of '{}'", c.name),
            &c.reason,
        )?;
        if c.reason.chars().count() > MAX_TAG_VALUE_LEN {
            return Err(Error::invalid(format!(
                "components[{index}]: the reason of '{}' is longer than {MAX_TAG_VALUE_LEN} characters",
                c.name
            )));
        }
        // A part that is missing must say why; that is the point of
        // components.
        if c.status != ComponentStatus::Success && c.reason.trim().is_empty() {
            return Err(Error::invalid(format!(
                "components[{index}]: a {} component '{}' needs a reason",
                c.status.as_str(),
                c.name
            )));
        }
    }
    Ok(())
}

pub fn new_run(run: &NewRun) -> Result<()> {
    project_name(&run.project)?;
    if let Some(name) = &run.experiment {
        display_name("experiment", name)?;
    }
    if let Some(name) = &run.name {
        display_name("run", name)?;
    }
    // The user is shown next to the run's name, so it follows the same
    // character rules (it may be empty: MLflow clients send what they have).
    if let Some(user) = &run.user {
        check_name_characters("run user", user)?;
    }
    for (k, v) in &run.params {
        key("param", k)?;
        param_value(k, v)?;
    }
    for (k, v) in &run.tags {
        key("tag", k)?;
        tag_value(k, v)?;
    }
    crate::graph::validate(run.features.as_ref(), &run.parents, run.id.as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_follow_mlflow_syntax() {
        assert!(key("metric", "loss").is_ok());
        assert!(key("metric", "loss/train epoch-1.x_y").is_ok());
        assert!(key("metric", "").is_err());
        assert!(key("metric", "a\"b").is_err());
        assert!(key("metric", &"k".repeat(250)).is_ok());
        assert!(key("metric", &"k".repeat(251)).is_err());
        assert!(key("metric", "../etc").is_err());
        assert!(key("metric", "/abs").is_err());
    }

    #[test]
    fn value_lengths_are_bounded() {
        assert!(param_value("p", &"v".repeat(6_000)).is_ok());
        assert!(param_value("p", &"v".repeat(6_001)).is_err());
        assert!(tag_value("t", &"v".repeat(8_000)).is_ok());
        let err = tag_value("t", &"v".repeat(8_001)).unwrap_err();
        assert!(err.message().contains("tag 't'"), "{}", err.message());
    }

    #[test]
    fn project_names_are_url_safe() {
        assert!(project_name("vit-imagenet").is_ok());
        assert!(project_name("a.b_c").is_ok());
        assert!(project_name("").is_err());
        assert!(project_name("-x").is_err());
        assert!(project_name("has space").is_err());
        assert!(project_name("a/b").is_err());
    }

    #[test]
    fn keys_refuse_control_and_invisible_characters_with_exact_messages() {
        let err = key("tag", "a\0b").unwrap_err();
        assert_eq!(
            err.message(),
            "tag key 'a\\u{0000}b' contains '\\0': keys may hold letters, digits, '_', '-', '.', ':', '/' and spaces"
        );
        let err = key("param", "lr\u{202e}gnp").unwrap_err();
        assert_eq!(
            err.message(),
            "param key 'lr\\u{202e}gnp' contains '\\u{202e}': keys may hold letters, digits, '_', '-', '.', ':', '/' and spaces"
        );
        assert!(key("metric", "zero\u{200b}width").is_err());
        assert!(key("metric", "tab\tkey").is_err());
        assert!(key("metric", "Genauigkeit/größe").is_ok());
    }

    #[test]
    fn names_refuse_what_keys_refuse_but_keep_any_printable_text() {
        assert!(display_name("run", "trial #3 (lr=1e-3) ✓").is_ok());
        let err = display_name("run", "evil\u{202e}gpj.exe").unwrap_err();
        assert_eq!(
            err.message(),
            "run name 'evil\\u{202e}gpj.exe' contains U+202E, a bidirectional override: names may not hold control characters, bidirectional overrides or invisible formatting characters"
        );
        let err = display_name("experiment", "a\u{2066}b").unwrap_err();
        assert!(
            err.message()
                .starts_with("experiment name 'a\\u{2066}b' contains U+2066"),
            "{}",
            err.message()
        );
        assert!(display_name("run", "two\nlines").is_err());
    }

    #[test]
    fn values_refuse_nul_and_keep_tabs_and_newlines() {
        assert!(param_value("cmd", "a\tb\nc").is_ok());
        assert!(tag_value("note", "# Title\n\nbody\r\n").is_ok());
        assert_eq!(
            tag_value("note", "cut\0here").unwrap_err().message(),
            "value of tag 'note' contains a NUL character (U+0000): values may hold any text, tabs and newlines included, but not NUL"
        );
        assert_eq!(
            param_value("lr", "0.1\0").unwrap_err().message(),
            "value of param 'lr' contains a NUL character (U+0000): values may hold any text, tabs and newlines included, but not NUL"
        );
        assert!(description("line\nline").is_ok());
        assert!(description("nul\0").is_err());
        let mut run = NewRun::default();
        run.tags.insert("t".into(), "x\0".into());
        assert!(
            new_run(&run)
                .unwrap_err()
                .message()
                .starts_with("value of tag 't'")
        );
        let run = NewRun {
            user: Some("ada\u{202e}".into()),
            ..NewRun::default()
        };
        assert!(
            new_run(&run)
                .unwrap_err()
                .message()
                .starts_with("run user 'ada\\u{202e}' contains U+202E")
        );
        let mut batch = LogBatch::default();
        batch.params.insert("p".into(), "\0".into());
        assert!(
            log_batch(&batch)
                .unwrap_err()
                .message()
                .starts_with("value of param 'p'")
        );
    }

    #[test]
    fn batch_errors_name_the_offending_point() {
        let mut batch = LogBatch::default();
        batch.metrics.push(crate::model::MetricPoint {
            key: "ok".into(),
            value: crate::model::MetricValue(1.0),
            step: 0,
            timestamp: None,
        });
        batch.metrics.push(crate::model::MetricPoint {
            key: "bad\"key".into(),
            value: crate::model::MetricValue(1.0),
            step: 0,
            timestamp: None,
        });
        let err = log_batch(&batch).unwrap_err();
        assert!(err.message().starts_with("metrics[1]"), "{}", err.message());
    }
}

//! Input rules checked at every edge before anything reaches a store.

use crate::error::{Error, Result};
use crate::ids::truncate_for_message;
use crate::model::{ComponentStatus, LogBatch, NewRun};

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

/// Metric, param and tag keys: letters, digits, `_ - . / space` (as MLflow),
/// at most 250 characters, and never a path that climbs (`..`) or starts at
/// the root, because keys also name files in exports.
pub fn key(kind: &str, key: &str) -> Result<()> {
    if key.is_empty() {
        return Err(Error::invalid(format!("{kind} key must not be empty")));
    }
    if key.chars().count() > MAX_KEY_LEN {
        return Err(Error::invalid(format!(
            "{kind} key '{}' is longer than {MAX_KEY_LEN} characters",
            truncate_for_message(key)
        )));
    }
    if let Some(bad) = key
        .chars()
        .find(|c| !(c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '/' | ' ' | ':')))
    {
        return Err(Error::invalid(format!(
            "{kind} key '{}' contains '{}': keys may hold letters, digits, '_', '-', '.', ':', '/' and spaces",
            truncate_for_message(key),
            bad.escape_debug()
        )));
    }
    if key.starts_with('/') || key.split('/').any(|part| part == ".." || part == ".") {
        return Err(Error::invalid(format!(
            "{kind} key '{}' must be a relative name without '.' or '..' segments",
            truncate_for_message(key)
        )));
    }
    Ok(())
}

pub fn param_value(key: &str, value: &str) -> Result<()> {
    if value.chars().count() > MAX_PARAM_VALUE_LEN {
        return Err(Error::invalid(format!(
            "value of param '{key}' is longer than {MAX_PARAM_VALUE_LEN} characters"
        )));
    }
    Ok(())
}

pub fn tag_value(key: &str, value: &str) -> Result<()> {
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
            truncate_for_message(name)
        )));
    }
    Ok(())
}

/// Experiment and run names: any printable text, 1 to 250 characters.
pub fn display_name(kind: &str, name: &str) -> Result<()> {
    if name.trim().is_empty() {
        return Err(Error::invalid(format!("{kind} name must not be empty")));
    }
    if name.chars().count() > MAX_NAME_LEN {
        return Err(Error::invalid(format!(
            "{kind} name '{}' is longer than {MAX_NAME_LEN} characters",
            truncate_for_message(name)
        )));
    }
    if name.chars().any(char::is_control) {
        return Err(Error::invalid(format!(
            "{kind} name '{}' contains control characters",
            truncate_for_message(name)
        )));
    }
    Ok(())
}

pub fn description(text: &str) -> Result<()> {
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

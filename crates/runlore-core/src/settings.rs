//! Changing a project's settings: `PATCH` merges, `PUT` replaces and so
//! needs every field, so that neither a forgotten nor a misspelt field can
//! erase a setting without anyone asking for it.

use serde::{Deserialize, Deserializer};
use utoipa::ToSchema;

use crate::error::{Error, Result};
use crate::graph::{KeyMetric, NamingRule, ProjectSettings};

/// A settings change as the native API takes it. For each field: left out,
/// it is not part of the change; `null` clears it; a value sets it. Unknown
/// fields are refused.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsUpdate {
    /// The naming rule; `null` removes it.
    #[serde(default, deserialize_with = "given")]
    #[schema(value_type = Option<NamingRule>, nullable)]
    pub naming: Option<Option<NamingRule>>,
    /// The key metrics, in display order; `null` or `[]` removes them all.
    #[serde(default, deserialize_with = "given")]
    #[schema(value_type = Option<Vec<KeyMetric>>, nullable)]
    pub key_metrics: Option<Option<Vec<KeyMetric>>>,
}

/// Tells a field given as `null` (`Some(None)`) from one left out (`None`,
/// through `#[serde(default)]`).
fn given<'de, D, T>(deserializer: D) -> std::result::Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

impl SettingsUpdate {
    /// `PATCH`: the fields given replace those of `current`; the others stay.
    pub fn merged_into(self, current: ProjectSettings) -> ProjectSettings {
        ProjectSettings {
            naming: match self.naming {
                Some(naming) => naming,
                None => current.naming,
            },
            key_metrics: match self.key_metrics {
                Some(metrics) => metrics.unwrap_or_default(),
                None => current.key_metrics,
            },
        }
    }

    /// `PUT`: the whole new settings; a field left out is an error that
    /// names it.
    pub fn into_replacement(self) -> Result<ProjectSettings> {
        let missing: Vec<&str> = [
            ("naming", self.naming.is_none()),
            ("key_metrics", self.key_metrics.is_none()),
        ]
        .into_iter()
        .filter_map(|(name, absent)| absent.then_some(name))
        .collect();
        if !missing.is_empty() {
            return Err(Error::invalid(format!(
                "PUT replaces all of a project's settings, so every field must be given; missing: {} (give null to clear a setting, or use PATCH to change only some)",
                missing.join(", ")
            )));
        }
        Ok(self.merged_into(ProjectSettings::default()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::{MetricAggregation, MetricGoal, ParentFrom};

    fn current() -> ProjectSettings {
        ProjectSettings {
            naming: Some(NamingRule {
                pattern: r"(?P<id>\d+)_.*".into(),
                parent_from: ParentFrom::Explicit,
                enforce: true,
            }),
            key_metrics: vec![KeyMetric {
                key: "val_loss".into(),
                direction: MetricGoal::Min,
                aggregation: MetricAggregation::Best,
            }],
        }
    }

    fn update(json: &str) -> std::result::Result<SettingsUpdate, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn a_patch_changes_only_the_fields_it_gives() {
        let only_metrics = update(r#"{"key_metrics": [{"key": "acc", "direction": "max"}]}"#)
            .unwrap()
            .merged_into(current());
        assert_eq!(only_metrics.naming, current().naming);
        assert_eq!(only_metrics.key_metrics[0].key, "acc");
        let cleared = update(r#"{"naming": null, "key_metrics": null}"#)
            .unwrap()
            .merged_into(current());
        assert_eq!(cleared, ProjectSettings::default());
        assert_eq!(update("{}").unwrap().merged_into(current()), current());
    }

    #[test]
    fn a_put_needs_every_field() {
        let err = update(r#"{"key_metrics": []}"#)
            .unwrap()
            .into_replacement()
            .unwrap_err();
        assert_eq!(
            err.message(),
            "PUT replaces all of a project's settings, so every field must be given; missing: naming (give null to clear a setting, or use PATCH to change only some)"
        );
        let err = update("{}").unwrap().into_replacement().unwrap_err();
        assert!(
            err.message().contains("missing: naming, key_metrics"),
            "{}",
            err.message()
        );
        let replaced = update(r#"{"naming": null, "key_metrics": []}"#)
            .unwrap()
            .into_replacement()
            .unwrap();
        assert_eq!(replaced, ProjectSettings::default());
    }

    #[test]
    fn misspelt_fields_are_refused_by_name() {
        let err = update(r#"{"key_metric": []}"#).unwrap_err().to_string();
        assert!(
            err.starts_with("unknown field `key_metric`, expected `naming` or `key_metrics`"),
            "{err}"
        );
        let err = update(r#"{"naming": {"pattern": "x", "enforced": true}}"#)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("unknown field `enforced`"), "{err}");
    }
}

//! Names of fields: the `prefix.` spellings and the attribute aliases. Both
//! are matched case-insensitively, because MLflow users write `Metrics.acc`
//! and `attribute.Status` and nothing is gained by refusing them.

use super::ast::{Attribute, DatasetField, Field};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Prefix {
    Metric,
    Param,
    Tag,
    Attribute,
    Dataset,
    Feature,
}

pub(super) fn prefix(name: &str) -> Option<Prefix> {
    const PREFIXES: [(&str, Prefix); 16] = [
        ("metrics", Prefix::Metric),
        ("metric", Prefix::Metric),
        ("params", Prefix::Param),
        ("param", Prefix::Param),
        ("parameter", Prefix::Param),
        ("tags", Prefix::Tag),
        ("tag", Prefix::Tag),
        ("attributes", Prefix::Attribute),
        ("attribute", Prefix::Attribute),
        ("attr", Prefix::Attribute),
        ("run", Prefix::Attribute),
        ("datasets", Prefix::Dataset),
        ("dataset", Prefix::Dataset),
        ("features", Prefix::Feature),
        ("feature", Prefix::Feature),
        // W&B calls a run's configuration `config`.
        ("config", Prefix::Feature),
    ];
    PREFIXES
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|&(_, p)| p)
}

pub(super) fn attribute(name: &str) -> Option<Attribute> {
    const ALIASES: [(&str, Attribute); 8] = [
        ("run_uuid", Attribute::RunId),
        ("id", Attribute::RunId),
        ("name", Attribute::RunName),
        ("created_at", Attribute::Created),
        ("creation_time", Attribute::Created),
        ("updated_at", Attribute::Updated),
        ("last_update_time", Attribute::Updated),
        ("user_id", Attribute::User),
    ];
    Attribute::ALL
        .iter()
        .map(|&a| (a.name(), a))
        .chain(ALIASES)
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, a)| a)
}

/// The canonical attribute names, for messages.
pub(super) fn attribute_list() -> String {
    Attribute::ALL.map(Attribute::name).join(", ")
}

/// Builds the field once the key is known; only attributes can fail here.
pub(super) fn build(prefix: Prefix, key: String) -> Result<Field, String> {
    Ok(match prefix {
        Prefix::Metric => Field::Metric(key),
        Prefix::Param => Field::Param(key),
        Prefix::Tag => Field::Tag(key),
        Prefix::Feature => {
            crate::filter::feature_path(&key)?;
            Field::Feature(key)
        }
        Prefix::Dataset => match key.to_ascii_lowercase().as_str() {
            "name" => Field::Dataset(DatasetField::Name),
            "digest" => Field::Dataset(DatasetField::Digest),
            "context" => Field::Dataset(DatasetField::Context),
            _ => {
                return Err(format!(
                    "unknown dataset field '{key}'; valid: datasets.name, datasets.digest, datasets.context"
                ));
            }
        },
        Prefix::Attribute => match attribute(&key) {
            Some(a) => Field::Attribute(a),
            None => {
                return Err(format!(
                    "unknown attribute '{key}'; valid attributes: {}",
                    attribute_list()
                ));
            }
        },
    })
}

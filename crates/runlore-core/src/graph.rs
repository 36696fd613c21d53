//! The experiment graph: typed edges between runs and hierarchical
//! features stored as RFC 6902 diffs against the primary parent.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::error::{Error, Result};
use crate::ids::RunId;

/// At most this many parents per run (merges are of a few runs).
pub const MAX_PARENTS: usize = 16;
/// Features larger than this (as JSON) are refused.
pub const MAX_FEATURES_BYTES: usize = 1 << 20;

/// How a run relates to a parent.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EdgeKind {
    /// "run 12 is run 8 with a smaller learning rate" (the default).
    #[default]
    DerivedFrom,
    /// Continued from a checkpoint of the parent, at `resume_step`.
    ResumedFrom,
    /// One of several runs whose ideas this run combines.
    MergedFrom,
    /// The parent with something switched off.
    AblationOf,
}

impl EdgeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EdgeKind::DerivedFrom => "derived_from",
            EdgeKind::ResumedFrom => "resumed_from",
            EdgeKind::MergedFrom => "merged_from",
            EdgeKind::AblationOf => "ablation_of",
        }
    }

    pub fn parse(text: &str) -> Result<EdgeKind> {
        match text {
            "derived_from" => Ok(EdgeKind::DerivedFrom),
            "resumed_from" => Ok(EdgeKind::ResumedFrom),
            "merged_from" => Ok(EdgeKind::MergedFrom),
            "ablation_of" => Ok(EdgeKind::AblationOf),
            other => Err(Error::invalid(format!(
                "unknown edge kind '{other}': expected derived_from, resumed_from, merged_from or ablation_of"
            ))),
        }
    }
}

/// A parent of a run; the first one listed is the primary parent, the one
/// its features are diffed against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ParentLink {
    #[schema(value_type = String)]
    pub run_id: RunId,
    #[serde(default)]
    pub kind: EdgeKind,
    /// Only for `resumed_from`: the parent's step the run resumed at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resume_step: Option<i64>,
}

/// One recorded change of a run's parents: what they were, what they
/// became, who changed them and when (ms since the epoch).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ParentChange {
    pub old_parents: Vec<ParentLink>,
    pub new_parents: Vec<ParentLink>,
    pub changed_by: String,
    pub changed_at: i64,
}

/// `GET /api/v1/runs/{id}/features`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RunFeatures {
    /// The whole tree as logged (`{}` for a run without features).
    #[schema(value_type = Object)]
    pub full: Value,
    /// RFC 6902 operations that turn the primary parent's features into
    /// this run's (from `{}` for a run without a parent).
    #[schema(value_type = Vec<Object>)]
    pub diff: Value,
    pub parents: Vec<ParentLink>,
    /// Where the run's line of work starts: following each run's first
    /// `derived_from` parent up to a run without one (the run itself when
    /// it has none).
    #[schema(value_type = String)]
    pub root: RunId,
}

/// Where a new run's primary parent comes from when none is given.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ParentFrom {
    /// The `parent` group of the name: `12_from_8_lr` derives from the run
    /// whose `id` group is `8`.
    Group,
    /// Only an explicit parent given at creation (the default).
    #[default]
    Explicit,
    /// Runs of this project have no parents.
    None,
}

/// A project's rule for run names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NamingRule {
    /// A regular expression with named groups, matched against the whole
    /// name, e.g. `(?P<id>\d+)_from_(?P<parent>\d+)_.*`.
    pub pattern: String,
    #[serde(default)]
    pub parent_from: ParentFrom,
    /// Refuse run names that do not match.
    #[serde(default)]
    pub enforce: bool,
}

/// Per-project settings (`GET/PUT/PATCH /api/v1/projects/{name}/settings`).
/// Every field is written out, `null` or `[]` when unset, so what `GET`
/// answers can be edited and sent back with `PUT`, which needs every field
/// (see [`crate::SettingsUpdate`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ProjectSettings {
    #[serde(default)]
    pub naming: Option<NamingRule>,
    /// The metrics that judge a run in this project, in display order.
    #[serde(default)]
    pub key_metrics: Vec<KeyMetric>,
}

/// Whether smaller or larger values of a metric are better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum MetricGoal {
    Min,
    Max,
}

/// Which single value of a metric's history stands for the run.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum MetricAggregation {
    /// The latest value logged.
    #[default]
    Last,
    /// The best value over the history, by the goal.
    Best,
    /// The mean of the history's values.
    Average,
}

/// A metric that judges runs: `val_loss`, smaller is better, last value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyMetric {
    pub key: String,
    pub direction: MetricGoal,
    #[serde(default)]
    pub aggregation: MetricAggregation,
}

/// Most key metrics a project may name.
pub const MAX_KEY_METRICS: usize = 20;

impl ProjectSettings {
    /// Checks what the store cannot: the naming pattern compiles with the
    /// groups its rule needs, and key metrics are valid, distinct keys.
    pub fn validate(&self) -> Result<()> {
        if let Some(rule) = &self.naming {
            rule.compile()?;
        }
        if self.key_metrics.len() > MAX_KEY_METRICS {
            return Err(Error::invalid(format!(
                "a project may name at most {MAX_KEY_METRICS} key metrics"
            )));
        }
        let mut seen = std::collections::BTreeSet::new();
        for metric in &self.key_metrics {
            crate::validate::key("metric", &metric.key)?;
            if !seen.insert(metric.key.as_str()) {
                return Err(Error::invalid(format!(
                    "key metric '{}' is listed twice",
                    metric.key
                )));
            }
        }
        Ok(())
    }
}

/// The longest naming pattern accepted.
pub const MAX_PATTERN_LEN: usize = 1_000;

impl NamingRule {
    /// Compiles the pattern anchored to the whole name, checking that the
    /// groups the parent rule needs are there.
    pub fn compile(&self) -> Result<regex::Regex> {
        if self.pattern.len() > MAX_PATTERN_LEN {
            return Err(Error::invalid(format!(
                "the naming pattern is longer than {MAX_PATTERN_LEN} characters"
            )));
        }
        let regex = regex::Regex::new(&format!("^(?:{})$", self.pattern))
            .map_err(|e| Error::invalid(format!("the naming pattern does not compile: {e}")))?;
        if self.parent_from == ParentFrom::Group {
            for group in ["id", "parent"] {
                if !regex.capture_names().flatten().any(|n| n == group) {
                    return Err(Error::invalid(format!(
                        "parent_from = group needs a named group '{group}' in the pattern, e.g. (?P<{group}>\\d+)"
                    )));
                }
            }
        }
        Ok(regex)
    }
}

/// A run as a node of the graph: enough to draw it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct GraphNode {
    #[schema(value_type = String)]
    pub id: RunId,
    pub name: String,
    pub status: crate::model::RunStatus,
    /// Latest value of each metric, by key.
    #[schema(value_type = Object)]
    pub metrics: std::collections::BTreeMap<String, crate::model::MetricValue>,
    /// Generations from the run asked about (ancestry queries only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub depth: Option<u32>,
}

/// A parent → child edge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct GraphEdge {
    #[schema(value_type = String)]
    pub parent: RunId,
    #[schema(value_type = String)]
    pub child: RunId,
    pub kind: EdgeKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resume_step: Option<i64>,
    /// 0 for the child's primary parent.
    pub position: u32,
}

/// Nodes and the edges between them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Graph {
    pub nodes: Vec<GraphNode>,
    pub edges: Vec<GraphEdge>,
}

/// Which way an ancestry query walks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Parents, their parents …
    Up,
    /// Children, their children …
    Down,
}

/// The deepest an ancestry query may go.
pub const MAX_DEPTH: u32 = 1_000;

/// The JSON Pointer paths whose values are not the same in every tree
/// (missing counts as a value), sorted; leaves only, arrays compared whole.
pub fn differing_paths(trees: &[Value]) -> Vec<String> {
    fn leaves(value: &Value, prefix: String, out: &mut std::collections::BTreeMap<String, Value>) {
        match value {
            Value::Object(map) if !map.is_empty() => {
                for (k, v) in map {
                    let key = k.replace('~', "~0").replace('/', "~1");
                    leaves(v, format!("{prefix}/{key}"), out);
                }
            }
            other => {
                out.insert(prefix, other.clone());
            }
        }
    }
    let flat: Vec<_> = trees
        .iter()
        .map(|t| {
            let mut out = std::collections::BTreeMap::new();
            leaves(t, String::new(), &mut out);
            out
        })
        .collect();
    let mut paths: std::collections::BTreeSet<&String> = std::collections::BTreeSet::new();
    for f in &flat {
        paths.extend(f.keys());
    }
    paths
        .into_iter()
        .filter(|path| {
            let first = flat.first().and_then(|f| f.get(*path));
            flat.iter().any(|f| f.get(*path) != first)
        })
        .map(|p| {
            if p.is_empty() {
                "/".to_owned()
            } else {
                p.clone()
            }
        })
        .collect()
}

/// Checks a run's features and parents before anything is stored.
pub fn validate(
    features: Option<&Value>,
    parents: &[ParentLink],
    own: Option<&RunId>,
) -> Result<()> {
    if let Some(features) = features {
        if !features.is_object() {
            return Err(Error::invalid(
                "features must be a tree with an object at its root (a YAML or JSON mapping)",
            ));
        }
        let size = serde_json::to_vec(features)
            .map_err(|e| Error::invalid(format!("features cannot be encoded: {e}")))?
            .len();
        if size > MAX_FEATURES_BYTES {
            return Err(Error::invalid(format!(
                "features take {size} bytes as JSON; at most {MAX_FEATURES_BYTES} are allowed"
            )));
        }
    }
    if parents.len() > MAX_PARENTS {
        return Err(Error::invalid(format!(
            "a run may have at most {MAX_PARENTS} parents, got {}",
            parents.len()
        )));
    }
    for (i, parent) in parents.iter().enumerate() {
        if parents[..i].iter().any(|p| p.run_id == parent.run_id) {
            return Err(Error::invalid(format!(
                "run {} is listed twice as a parent",
                parent.run_id
            )));
        }
        if own == Some(&parent.run_id) {
            return Err(Error::invalid("a run cannot be its own parent"));
        }
        match (parent.kind, parent.resume_step) {
            (EdgeKind::ResumedFrom, None) => {
                return Err(Error::invalid(format!(
                    "resumed_from {} needs the resume_step",
                    parent.run_id
                )));
            }
            (kind, Some(_)) if kind != EdgeKind::ResumedFrom => {
                return Err(Error::invalid(format!(
                    "resume_step only goes with resumed_from (parent {} is {})",
                    parent.run_id,
                    kind.as_str()
                )));
            }
            _ => {}
        }
    }
    Ok(())
}

/// The minimal RFC 6902 patch from `base` to `target`.
pub fn diff(base: &Value, target: &Value) -> Value {
    serde_json::to_value(json_patch::diff(base, target)).unwrap_or(Value::Array(Vec::new()))
}

/// Applies a stored patch to `base`.
pub fn apply(base: &Value, patch: &Value) -> Result<Value> {
    let patch: json_patch::Patch = serde_json::from_value(patch.clone())
        .map_err(|e| Error::internal(format!("a stored feature diff is malformed: {e}")))?;
    let mut out = base.clone();
    json_patch::patch(&mut out, &patch)
        .map_err(|e| Error::internal(format!("a stored feature diff does not apply: {e}")))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn diffs_are_minimal_and_apply_back() {
        let parent = json!({"model": {"lr": 0.1, "layers": [64, 64]}, "seed": 1});
        let child = json!({"model": {"lr": 0.01, "layers": [64, 64]}, "data": "imagenet"});
        let patch = diff(&parent, &child);
        let ops: Vec<&str> = patch
            .as_array()
            .unwrap()
            .iter()
            .map(|op| op["op"].as_str().unwrap())
            .collect();
        assert_eq!(ops.len(), 3, "{patch}");
        assert!(ops.contains(&"replace") && ops.contains(&"remove") && ops.contains(&"add"));
        assert_eq!(apply(&parent, &patch).unwrap(), child);
    }

    #[test]
    fn differing_paths_name_the_leaves_that_vary() {
        let a = json!({"model": {"lr": 0.1, "depth": 12}, "data": "imagenet", "tags": [1]});
        let b = json!({"model": {"lr": 0.01, "depth": 12}, "data": "imagenet", "tags": [1]});
        let c = json!({"model": {"lr": 0.1, "depth": 12, "kl": {"w/x": 1}}, "data": "imagenet", "tags": [2]});
        assert_eq!(differing_paths(&[a.clone(), b.clone()]), vec!["/model/lr"]);
        assert_eq!(
            differing_paths(&[a.clone(), b, c]),
            vec!["/model/kl/w~1x", "/model/lr", "/tags"]
        );
        assert!(differing_paths(&[a.clone(), a]).is_empty());
    }

    #[test]
    fn bad_features_and_parents_are_refused() {
        let id = RunId::parse("0123456789abcdef0123456789abcdef").unwrap();
        let link = |kind, resume_step| ParentLink {
            run_id: id.clone(),
            kind,
            resume_step,
        };
        assert!(validate(Some(&json!([1, 2])), &[], None).is_err());
        assert!(validate(Some(&json!("lr=0.1")), &[], None).is_err());
        assert!(validate(Some(&json!({"a": 1})), &[], None).is_ok());
        assert!(validate(None, &[link(EdgeKind::ResumedFrom, None)], None).is_err());
        assert!(validate(None, &[link(EdgeKind::DerivedFrom, Some(3))], None).is_err());
        assert!(validate(None, &[link(EdgeKind::ResumedFrom, Some(3))], None).is_ok());
        let twice = [
            link(EdgeKind::DerivedFrom, None),
            link(EdgeKind::MergedFrom, None),
        ];
        assert!(validate(None, &twice, None).is_err());
        assert!(validate(None, &[link(EdgeKind::DerivedFrom, None)], Some(&id)).is_err());
    }
}

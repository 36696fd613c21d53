//! A feature tree's leaves as the `feature_values` index holds them, with
//! paths spelled as SQLite's `json_tree` spells them (its `fullkey`):
//! `$.model.lr`, `$."batch_size"`, `$.layers[0]`. A member name is bare
//! when it is an ASCII letter followed by ASCII letters and digits, and
//! quoted (as JSON writes it) otherwise. SQLite fills its index with
//! `json_tree` itself; other backends use [`leaves`], and search spells a
//! filter's path with [`push_member`], so both meet on the same text.

use runlore_core::filter::{FeatureStep, feature_path};
use runlore_core::{Error, Result};
use serde_json::{Number, Value};

/// One indexed leaf: numbers compare as numbers; strings and booleans
/// (`"true"`, `"false"`) as text. Nulls, empty objects and empty arrays are
/// not leaves.
#[derive(Debug, Clone, PartialEq)]
pub enum Leaf {
    Number(Number),
    Text(String),
}

/// Every leaf of `tree` with its path, depth first in document order.
pub fn leaves(tree: &Value) -> Vec<(String, Leaf)> {
    let mut out = Vec::new();
    let mut path = String::from("$");
    walk(tree, &mut path, &mut out);
    out
}

fn walk(value: &Value, path: &mut String, out: &mut Vec<(String, Leaf)>) {
    let len = path.len();
    match value {
        Value::Null => {}
        Value::Bool(b) => out.push((path.clone(), Leaf::Text(b.to_string()))),
        Value::Number(n) => out.push((path.clone(), Leaf::Number(n.clone()))),
        Value::String(s) => out.push((path.clone(), Leaf::Text(s.clone()))),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                path.push_str(&format!("[{i}]"));
                walk(item, path, out);
                path.truncate(len);
            }
        }
        Value::Object(members) => {
            for (key, item) in members {
                push_member(path, key);
                walk(item, path, out);
                path.truncate(len);
            }
        }
    }
}

/// Appends `.key` or `."key"` to a path, as `json_tree` spells it.
pub fn push_member(path: &mut String, key: &str) {
    let mut chars = key.chars();
    let bare = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric());
    if bare {
        path.push('.');
        path.push_str(key);
    } else {
        path.push_str(".\"");
        // As JSON writes the name inside its quotes (a String always
        // serialises).
        let quoted = serde_json::to_string(key).unwrap_or_default();
        path.push_str(quoted.get(1..quoted.len().saturating_sub(1)).unwrap_or(""));
        path.push('"');
    }
}

/// A filter's feature path (`features.model.lr`, as the filter language
/// writes it) spelled as the index spells it.
pub fn tree_path(path: &str) -> Result<String> {
    let steps = feature_path(path).map_err(Error::invalid)?;
    let mut out = String::from("$");
    for step in steps {
        match step {
            FeatureStep::Key(key) => push_member(&mut out, &key),
            FeatureStep::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    Ok(out)
}

//! Feature paths as SQLite's `json_tree` names them (its `fullkey`
//! column): `$.model.lr`, `$."batch_size"`, `$.layers[0]`. The
//! `feature_values` index is filled by `json_tree`, so a lookup must spell
//! a path exactly as it does: a member name is bare when it is a letter
//! followed by letters and digits, and quoted otherwise.

use runlore_core::filter::{FeatureStep, feature_path};
use runlore_core::{Error, Result};

pub fn tree_path(path: &str) -> Result<String> {
    let steps = feature_path(path).map_err(Error::invalid)?;
    let mut out = String::from("$");
    for step in steps {
        match step {
            FeatureStep::Key(key) => {
                let mut chars = key.chars();
                let bare = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
                    && chars.all(|c| c.is_ascii_alphanumeric());
                if bare {
                    out.push('.');
                    out.push_str(&key);
                } else {
                    out.push_str(".\"");
                    // As JSON writes the name inside its quotes.
                    let quoted =
                        serde_json::to_string(&key).map_err(|e| Error::internal(e.to_string()))?;
                    out.push_str(&quoted[1..quoted.len() - 1]);
                    out.push('"');
                }
            }
            FeatureStep::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The spelling must match SQLite's own, key shape by key shape.
    #[test]
    fn paths_are_spelled_as_json_tree_spells_them() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        let keys = [
            "lr",
            "LR2",
            "batch_size",
            "a.b",
            "a b",
            "2x",
            "x-y",
            "é",
            "日本",
            "_x",
            "a/b",
            "tab\t",
        ];
        for key in keys {
            let tree = serde_json::json!({"outer": {key: [1, {"leaf": true}]}});
            let full: Vec<String> = {
                let mut stmt = conn
                    .prepare("SELECT fullkey FROM json_tree(?1) WHERE type = 'true'")
                    .unwrap();
                stmt.query_map([tree.to_string()], |r| r.get(0))
                    .unwrap()
                    .map(Result::unwrap)
                    .collect()
            };
            let pointer = format!(
                "/outer/{}/1/leaf",
                key.replace('~', "~0").replace('/', "~1")
            );
            assert_eq!(vec![tree_path(&pointer).unwrap()], full, "key {key:?}");
        }
    }
}

//! Feature paths as SQLite's `json_tree` names them (its `fullkey`
//! column): `$.model.lr`, `$."batch_size"`, `$.layers[0]`. The
//! `feature_values` index is filled by `json_tree`, so a lookup must spell
//! a path exactly as it does: a member name is bare when it is a letter
//! followed by letters and digits, and quoted otherwise.

pub use crate::codec::feature_leaves::tree_path;

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

    /// The leaves other backends index are the ones `json_tree` gives,
    /// path for path and value for value.
    #[test]
    fn leaves_match_json_tree() {
        use crate::codec::feature_leaves::{Leaf, leaves};
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        let tree = serde_json::json!({
            "model": {"lr": 0.001, "layers": [64, 128, {"act": "relu"}], "bias": true},
            "batch size": 32, "2x": false, "none": null, "empty": {}, "list": [],
            "big": 12345678901234567890u64, "neg": -3, "é": "ü"
        });
        let mut stmt = conn
            .prepare(
                "SELECT fullkey, type, atom FROM json_tree(?1)
                 WHERE type IN ('integer', 'real', 'text', 'true', 'false') ORDER BY fullkey",
            )
            .unwrap();
        let from_sqlite: Vec<(String, String)> = stmt
            .query_map([tree.to_string()], |r| {
                let kind: String = r.get(1)?;
                let atom = match kind.as_str() {
                    "true" | "false" => kind.clone(),
                    "text" => r.get::<_, String>(2)?,
                    "integer" => r
                        .get::<_, i64>(2)
                        .map(|v| v.to_string())
                        .or_else(|_| r.get::<_, f64>(2).map(|v| v.to_string()))?,
                    _ => r.get::<_, f64>(2)?.to_string(),
                };
                Ok((r.get(0)?, atom))
            })
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let mut ours: Vec<(String, String)> = leaves(&tree)
            .into_iter()
            .map(|(path, leaf)| {
                let text = match leaf {
                    Leaf::Text(t) => t,
                    Leaf::Number(n) => match n.as_i64() {
                        Some(i) => i.to_string(),
                        None => n.as_f64().unwrap().to_string(),
                    },
                };
                (path, text)
            })
            .collect();
        ours.sort();
        assert_eq!(ours, from_sqlite);
    }
}

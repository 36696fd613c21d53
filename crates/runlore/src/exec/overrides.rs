//! The config layer of `runlore exec`: a base YAML/JSON file plus dotted
//! `--set key.path=value` overrides, typed the way YAML types them
//! (`1` a number, `true` a bool, `[64, 32]` a list, `null`, else a string).
//! An override of a key the base lacks is refused unless allowed, because a
//! typo (`--set model.lerning_rate=…`) would otherwise run the default.

use std::path::Path;

use runlore_core::features_file::{FeaturesFormat, parse_features};
use runlore_core::{Error, Result};
use serde_json::{Map, Value};

pub use runlore_core::repro::Override;

/// Parses `KEY=VALUE`: a dotted key of non-empty segments, and a value read
/// as YAML (an empty value is the empty string).
pub fn parse(text: &str) -> Result<Override> {
    let Some((key, raw)) = text.split_once('=') else {
        return Err(Error::invalid(format!(
            "--set takes KEY=VALUE (e.g. model.lr=0.01), got '{text}'"
        )));
    };
    let key = key.trim();
    if key.is_empty() || key.split('.').any(|s| s.trim().is_empty()) {
        return Err(Error::invalid(format!(
            "--set '{text}': the key must be dotted names like model.lr (no empty parts)"
        )));
    }
    let value = if raw.is_empty() {
        Value::String(String::new())
    } else {
        yaml_serde::from_str::<Value>(raw).map_err(|e| {
            Error::invalid(format!(
                "--set {key}: '{raw}' is not a valid value ({e}); quote strings that look like YAML"
            ))
        })?
    };
    Ok(Override {
        key: key.to_owned(),
        value,
    })
}

pub fn parse_all(items: &[String]) -> Result<Vec<Override>> {
    let mut out: Vec<Override> = Vec::with_capacity(items.len());
    for item in items {
        let parsed = parse(item)?;
        if out.iter().any(|o| o.key == parsed.key) {
            return Err(Error::invalid(format!(
                "--set {} is given twice",
                parsed.key
            )));
        }
        out.push(parsed);
    }
    Ok(out)
}

/// Reads a base config (a mapping at the root, YAML or JSON by extension).
pub fn read_base(path: &Path) -> Result<Value> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::invalid(format!("cannot read base config {}: {e}", path.display())))?;
    parse_features(&text, FeaturesFormat::from_path(&path.to_string_lossy()))
        .map_err(|e| Error::invalid(format!("base config {}: {}", path.display(), e.message())))
}

/// Applies the overrides in order. A key missing from the tree is an error
/// unless `allow_new`; a numeric segment indexes an existing list.
pub fn apply(mut tree: Value, overrides: &[Override], allow_new: bool) -> Result<Value> {
    for o in overrides {
        set(&mut tree, o, allow_new)?;
    }
    Ok(tree)
}

fn set(tree: &mut Value, o: &Override, allow_new: bool) -> Result<()> {
    let segments: Vec<&str> = o.key.split('.').map(str::trim).collect();
    let mut node = tree;
    for (i, segment) in segments.iter().enumerate() {
        let last = i + 1 == segments.len();
        let here = segments[..=i].join(".");
        node = match node {
            Value::Object(map) => {
                if !map.contains_key(*segment) {
                    if !allow_new {
                        return Err(Error::invalid(format!(
                            "--set {}: the base config has no key '{here}' (add --allow-new to add it){}",
                            o.key,
                            suggestion(map, segment)
                        )));
                    }
                    let fresh = if last {
                        Value::Null
                    } else {
                        Value::Object(Map::new())
                    };
                    map.insert((*segment).to_owned(), fresh);
                }
                map.get_mut(*segment)
                    .ok_or_else(|| Error::internal("key vanished"))?
            }
            Value::Array(items) => {
                let len = items.len();
                let index = segment.parse::<usize>().ok().filter(|i| *i < len);
                let Some(index) = index else {
                    return Err(Error::invalid(format!(
                        "--set {}: '{here}' indexes a list of {len} item(s); use 0 to {}",
                        o.key,
                        len.saturating_sub(1)
                    )));
                };
                &mut items[index]
            }
            other => {
                return Err(Error::invalid(format!(
                    "--set {}: '{}' is {}, not a mapping",
                    o.key,
                    segments[..i].join("."),
                    kind(other)
                )));
            }
        };
    }
    *node = o.value.clone();
    Ok(())
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a bool",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

/// ` (did you mean 'x'?)` when a key differs by case or one edit.
fn suggestion(map: &Map<String, Value>, wanted: &str) -> String {
    let close = map.keys().find(|k| {
        k.eq_ignore_ascii_case(wanted) || edit_distance(k, wanted) <= 2.min(wanted.len() / 3)
    });
    close.map_or_else(String::new, |k| format!(" (did you mean '{k}'?)"))
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            let next = (row[j + 1] + 1).min(row[j] + 1).min(prev + cost);
            prev = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

/// Leaves of the tree as `a.b.c` → text, for params (MLflow-style filters
/// such as `params.model.lr = '0.01'`). Lists are one JSON value.
pub fn flatten(tree: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    walk(tree, String::new(), &mut out);
    out
}

fn walk(value: &Value, prefix: String, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (k, v) in map {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                walk(v, key, out);
            }
        }
        Value::String(s) => out.push((prefix, s.clone())),
        other => out.push((prefix, other.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sets(items: &[&str]) -> Vec<Override> {
        parse_all(&items.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>()).expect("parse")
    }

    #[test]
    fn values_are_typed_like_yaml() {
        let o = sets(&[
            "a=1",
            "b=0.5",
            "c=true",
            "d=null",
            "e=[64, 32]",
            "f=hello",
            "g=",
            "h='1'",
            "i=1e-3",
        ]);
        let values: Vec<Value> = o.into_iter().map(|o| o.value).collect();
        assert_eq!(
            values,
            vec![
                json!(1),
                json!(0.5),
                json!(true),
                Value::Null,
                json!([64, 32]),
                json!("hello"),
                json!(""),
                json!("1"),
                json!(0.001)
            ]
        );
    }

    #[test]
    fn malformed_sets_are_refused() {
        for bad in ["novalue", "=1", "a..b=1", ".a=1", "a.=1", "x=[1, 2"] {
            let err = parse(bad).expect_err(bad);
            assert_eq!(
                err.kind(),
                runlore_core::ErrorKind::InvalidArgument,
                "{bad}"
            );
        }
        let err = parse_all(&["a=1".into(), "a=2".into()]).expect_err("twice");
        assert!(err.to_string().contains("given twice"));
    }

    #[test]
    fn overrides_replace_known_keys_and_refuse_unknown_ones() {
        let base = json!({"model": {"lr": 0.1, "layers": [64, 32]}, "seed": 1});
        let tree = apply(
            base.clone(),
            &sets(&["model.lr=0.01", "model.layers.1=16"]),
            false,
        )
        .expect("apply");
        assert_eq!(
            tree,
            json!({"model": {"lr": 0.01, "layers": [64, 16]}, "seed": 1})
        );
        let err = apply(base.clone(), &sets(&["model.lrr=1"]), false).expect_err("unknown");
        assert!(err.to_string().contains("no key 'model.lrr'"), "{err}");
        assert!(err.to_string().contains("did you mean 'lr'"), "{err}");
        let err = apply(base.clone(), &sets(&["seed.x=1"]), false).expect_err("scalar");
        assert!(err.to_string().contains("'seed' is a number"), "{err}");
        let err = apply(base.clone(), &sets(&["model.layers.5=1"]), false).expect_err("index");
        assert!(err.to_string().contains("list of 2"), "{err}");
        let tree = apply(base, &sets(&["opt.name=adam"]), true).expect("allow new");
        assert_eq!(tree["opt"], json!({"name": "adam"}));
    }

    #[test]
    fn flatten_gives_dotted_leaves() {
        let flat = flatten(&json!({"a": {"b": 1, "c": "x"}, "l": [1, 2], "e": {}}));
        assert_eq!(
            flat,
            vec![
                ("a.b".to_owned(), "1".to_owned()),
                ("a.c".to_owned(), "x".to_owned()),
                ("e".to_owned(), "{}".to_owned()),
                ("l".to_owned(), "[1,2]".to_owned())
            ]
        );
    }
}

//! Paths into a run's features tree, as `features.<path>` names them.

/// One step of a feature path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeatureStep {
    /// An object member.
    Key(String),
    /// An array element (an all-digit part).
    Index(u64),
}

/// Reads `model.lr` (dots between parts) or `/model/lr` (a JSON Pointer,
/// RFC 6901, for keys that hold dots). An all-digit part indexes an array.
pub fn feature_path(text: &str) -> Result<Vec<FeatureStep>, String> {
    let parts: Vec<String> = match text.strip_prefix('/') {
        Some(pointer) => pointer
            .split('/')
            .map(|p| p.replace("~1", "/").replace("~0", "~"))
            .collect(),
        None => text.split('.').map(str::to_owned).collect(),
    };
    if parts.iter().any(String::is_empty) {
        return Err(format!(
            "feature path '{text}' has an empty part; write features.model.lr or a JSON Pointer such as features.`/model/lr`"
        ));
    }
    // Stores address JSON with quoted member names; a quote inside one
    // cannot be written there.
    if let Some(bad) = parts.iter().find(|p| p.contains('"')) {
        return Err(format!(
            "feature key '{bad}' holds a double quote, which filters cannot address"
        ));
    }
    Ok(parts
        .into_iter()
        .map(|p| match p.parse::<u64>() {
            Ok(i) if p.bytes().all(|b| b.is_ascii_digit()) => FeatureStep::Index(i),
            _ => FeatureStep::Key(p),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotted_paths_pointers_and_indexes() {
        assert_eq!(
            feature_path("model.lr").unwrap(),
            vec![
                FeatureStep::Key("model".into()),
                FeatureStep::Key("lr".into())
            ]
        );
        assert_eq!(
            feature_path("/data/a.b~1c/2").unwrap(),
            vec![
                FeatureStep::Key("data".into()),
                FeatureStep::Key("a.b/c".into()),
                FeatureStep::Index(2)
            ]
        );
        assert!(
            feature_path("model..lr")
                .unwrap_err()
                .contains("empty part")
        );
        assert!(feature_path("a.\"b").unwrap_err().contains("double quote"));
    }
}

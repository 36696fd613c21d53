//! Offset page tokens for the lists this adapter pages itself (experiment
//! search, metric history, logged models): base64 of `{"offset": N}`, the
//! shape MLflow uses. Clients treat tokens as opaque.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

use super::error::{MlflowError, MlflowResult};

pub fn encode(offset: usize) -> String {
    STANDARD.encode(format!("{{\"offset\": {offset}}}"))
}

pub fn decode(token: Option<&str>) -> MlflowResult<usize> {
    let Some(token) = token.filter(|t| !t.is_empty()) else {
        return Ok(0);
    };
    let bytes = STANDARD
        .decode(token)
        .map_err(|_| MlflowError::invalid("Invalid page token, could not base64-decode"))?;
    let value: Value = serde_json::from_slice(&bytes)
        .map_err(|_| MlflowError::invalid("Invalid page token, could not parse it as JSON"))?;
    value
        .get("offset")
        .and_then(Value::as_u64)
        .and_then(|n| usize::try_from(n).ok())
        .ok_or_else(|| MlflowError::invalid("Invalid page token: it holds no offset"))
}

/// `max_results` checks shared by the searches: 1 to `max`, `default` when
/// absent.
pub fn max_results(value: Option<i64>, default: usize, max: usize) -> MlflowResult<usize> {
    match value {
        None => Ok(default),
        Some(n) if n <= 0 => Err(MlflowError::invalid(format!(
            "Invalid value {n} for parameter 'max_results' supplied. It must be a positive integer"
        ))),
        Some(n) if usize::try_from(n).map_or(true, |n| n > max) => {
            Err(MlflowError::invalid(format!(
                "Invalid value {n} for parameter 'max_results' supplied. It must be at most {max}"
            )))
        }
        Some(n) => Ok(usize::try_from(n).unwrap_or(default)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_garbage_is_refused() {
        assert_eq!(decode(Some(&encode(42))).unwrap(), 42);
        assert_eq!(decode(Some("eyJvZmZzZXQiOiAyfQ==")).unwrap(), 2);
        assert_eq!(decode(None).unwrap(), 0);
        assert!(decode(Some("!!!")).is_err());
        assert!(decode(Some("aGVsbG8=")).is_err());
        assert!(max_results(Some(0), 1000, 50000).is_err());
        assert!(max_results(Some(50001), 1000, 50000).is_err());
        assert_eq!(max_results(None, 1000, 50000).unwrap(), 1000);
    }
}

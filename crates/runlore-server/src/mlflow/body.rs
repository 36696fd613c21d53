//! Reading MLflow requests. Bodies are read as loose JSON objects rather
//! than strict structs because the client's messages vary by version (extra
//! fields, the legacy `run_uuid` beside `run_id`, numbers sent as strings),
//! and MLflow's own errors name the one field that is missing or wrong.

use std::collections::{BTreeMap, HashMap};

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};
use runlore_core::{ExperimentId, RunId};
use serde_json::{Map, Value};

use super::error::{MlflowError, MlflowResult};
use crate::AppState;

/// A POST body: a JSON object. A body that is not valid JSON reads as empty,
/// as MLflow does, so the error names the first missing field.
pub struct Body(pub Map<String, Value>);

impl FromRequest<AppState> for Body {
    type Rejection = MlflowError;

    async fn from_request(req: Request, state: &AppState) -> Result<Body, MlflowError> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim_start().starts_with("application/json"));
        if !is_json {
            return Err(MlflowError::invalid(
                "Bad Request. Content-Type must be one of ['application/json'].",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                MlflowError::invalid(format!(
                    "request body is larger than the limit of {} bytes",
                    state.max_body_bytes
                ))
            } else {
                MlflowError::invalid(format!(
                    "cannot read request body: {}",
                    rejection.body_text()
                ))
            }
        })?;
        let object = match serde_json::from_slice::<Value>(&bytes) {
            Ok(Value::Object(map)) => map,
            // Valid JSON of another shape is a caller's mistake worth naming.
            Ok(other) => {
                return Err(MlflowError::invalid(format!(
                    "Invalid request body: expected a JSON object, got {}",
                    type_name(&other)
                )));
            }
            // Unparsable bodies read as empty (as MLflow), so the error
            // names the first missing field.
            Err(_) => Map::new(),
        };
        Ok(Body(object))
    }
}

/// Query-string arguments of GET requests, first value of each name.
pub fn query_map(query: Option<&str>) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for (k, v) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        out.entry(k.into_owned()).or_insert_with(|| v.into_owned());
    }
    out
}

/// Typed access to the fields of a body or query, with MLflow's messages.
pub trait Fields {
    fn field(&self, name: &str) -> Option<Value>;

    /// A string field; a JSON number or bool is refused (a raw caller's
    /// mistake that MLflow would store as an empty string).
    fn opt_str(&self, name: &str) -> MlflowResult<Option<String>> {
        match self.field(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(wrong_type(name, &other)),
        }
    }

    fn req_str(&self, name: &str) -> MlflowResult<String> {
        match self.opt_str(name)? {
            Some(s) if !s.is_empty() => Ok(s),
            _ => Err(MlflowError::missing(name)),
        }
    }

    /// An integer field, also accepted as a numeric string.
    fn opt_i64(&self, name: &str) -> MlflowResult<Option<i64>> {
        match self.field(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => n
                .as_i64()
                .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64))
                .map(Some)
                .ok_or_else(|| wrong_type(name, &Value::Number(n))),
            Some(Value::String(s)) => s
                .trim()
                .parse::<i64>()
                .map(Some)
                .map_err(|_| wrong_type(name, &Value::String(s))),
            Some(other) => Err(wrong_type(name, &other)),
        }
    }

    /// The run id, from `run_id` or the legacy `run_uuid`.
    fn run_id(&self) -> MlflowResult<RunId> {
        let text = match self.opt_str("run_id")? {
            Some(s) if !s.is_empty() => s,
            _ => match self.opt_str("run_uuid")? {
                Some(s) if !s.is_empty() => s,
                _ => return Err(MlflowError::missing("run_id")),
            },
        };
        parse_run_id(&text)
    }

    /// An experiment id: a JSON string of a decimal integer.
    fn experiment_id(&self, name: &str) -> MlflowResult<ExperimentId> {
        let text = self.req_str(name)?;
        parse_experiment_id(&text)
    }

    /// `[{"key","value"}]` lists (tags, params) as a map; later entries win.
    fn key_values(&self, name: &str) -> MlflowResult<Vec<(String, String)>> {
        let items = match self.field(name) {
            None | Some(Value::Null) => return Ok(Vec::new()),
            Some(Value::Array(items)) => items,
            Some(other) => return Err(wrong_type(name, &other)),
        };
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            let Value::Object(obj) = item else {
                return Err(MlflowError::invalid(format!(
                    "Invalid value for parameter '{name}': each element must be an object with 'key' and 'value'"
                )));
            };
            let key = obj.req_str("key")?;
            let value = obj.opt_str("value")?.unwrap_or_default();
            out.push((key, value));
        }
        Ok(out)
    }
}

impl Fields for Map<String, Value> {
    fn field(&self, name: &str) -> Option<Value> {
        self.get(name).cloned()
    }
}

impl Fields for HashMap<String, String> {
    fn field(&self, name: &str) -> Option<Value> {
        self.get(name).map(|s| Value::String(s.clone()))
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "NoneType",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_i64() || n.is_u64() => "int",
        Value::Number(_) => "float",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

pub fn wrong_type(name: &str, value: &Value) -> MlflowError {
    MlflowError::invalid(format!(
        "Invalid value {value} for parameter '{name}' supplied: Hint: Value was of type '{}'.",
        type_name(value)
    ))
}

pub fn parse_run_id(text: &str) -> MlflowResult<RunId> {
    // An id of the wrong shape cannot name a stored run.
    RunId::parse(text).map_err(|_| {
        MlflowError::not_found(format!(
            "Run with id={} not found",
            runlore_core::ids::truncate_for_message(text)
        ))
    })
}

pub fn parse_experiment_id(text: &str) -> MlflowResult<ExperimentId> {
    ExperimentId::parse(text).map_err(|_| {
        MlflowError::invalid(format!(
            "Invalid experiment ID '{}'. Experiment ID must be a valid integer.",
            runlore_core::ids::truncate_for_message(text)
        ))
    })
}

/// Tags as a map (later entries win), for writes.
pub fn to_map(pairs: Vec<(String, String)>) -> BTreeMap<String, String> {
    pairs.into_iter().collect()
}

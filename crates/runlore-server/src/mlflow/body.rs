//! Reading MLflow requests. Bodies are read as loose JSON objects rather
//! than strict structs because the client's messages vary by version (extra
//! fields, the legacy `run_uuid` beside `run_id`, numbers sent as strings),
//! and MLflow's own errors name the one field that is missing or wrong.

use std::collections::{BTreeMap, HashMap};

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header;
use futures_util::StreamExt;
use runlore_core::{ExperimentId, RunId};
use serde::Deserialize;
use serde::de::{Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use super::error::{MlflowError, MlflowResult};
use crate::AppState;

/// A POST body: a JSON object. A body that is not valid JSON reads as empty,
/// as MLflow does, so the error names the first missing field.
pub struct Body(pub Map<String, Value>);

impl FromRequest<AppState> for Body {
    type Rejection = MlflowError;

    async fn from_request(req: Request, state: &AppState) -> Result<Body, MlflowError> {
        let bytes = read_json_bytes(req, state.max_body_bytes).await?;
        parse_object(&bytes).map(Body)
    }
}

/// A `log-batch` body: read only up to what MLflow's limits allow
/// ([`MAX_BATCH_BODY_BYTES`]), and its lists counted before any of it is
/// built in memory, so a batch of a million metrics is refused for the
/// price of scanning its bytes once.
pub struct BatchBody(pub Map<String, Value>);

impl FromRequest<AppState> for BatchBody {
    type Rejection = MlflowError;

    async fn from_request(req: Request, state: &AppState) -> Result<BatchBody, MlflowError> {
        let limit = MAX_BATCH_BODY_BYTES.min(state.max_body_bytes);
        let bytes = read_json_bytes(req, limit).await?;
        // Text that is not a JSON object is left to `parse_object`, which
        // answers as MLflow does.
        if let Ok(shape) = serde_json::from_slice::<BatchShape>(&bytes) {
            shape.check()?;
        }
        parse_object(&bytes).map(BatchBody)
    }
}

/// MLflow's limits on one `log-batch` request, with its messages.
pub const MAX_METRICS: usize = 1000;
pub const MAX_PARAMS: usize = 100;
pub const MAX_TAGS: usize = 100;
pub const MAX_ENTRIES: usize = 1000;

/// The largest `log-batch` body that can hold a batch within MLflow's
/// limits: every key at 250 characters, every param and tag value at its
/// longest (6,000 and 8,000 characters), each character escaped as
/// `\uXXXX` (6 bytes, what Python's `json.dumps` sends for non-ASCII
/// text), plus field names, numbers and punctuation. About 10 MB; anything
/// larger cannot be a batch MLflow accepts.
pub const MAX_BATCH_BODY_BYTES: usize = {
    const ESCAPED: usize = 6;
    const KEY: usize = runlore_core::validate::MAX_KEY_LEN * ESCAPED;
    const ENTRY_OVERHEAD: usize = 200;
    let metric = KEY + ENTRY_OVERHEAD;
    let param = KEY + runlore_core::validate::MAX_PARAM_VALUE_LEN * ESCAPED + ENTRY_OVERHEAD;
    let tag = KEY + runlore_core::validate::MAX_TAG_VALUE_LEN * ESCAPED + ENTRY_OVERHEAD;
    MAX_METRICS * metric + MAX_PARAMS * param + MAX_TAGS * tag + 4096
};

pub fn limit_error(what: &str, max: usize, got: usize) -> MlflowError {
    MlflowError::invalid(format!(
        "A batch logging request can contain at most {max} {what}. Got {got} {what}. Please \
         split up {what} across multiple requests and try again."
    ))
}

/// The lengths of a batch's lists, read without keeping their elements.
#[derive(Deserialize)]
struct BatchShape {
    #[serde(default)]
    metrics: ListLength,
    #[serde(default)]
    params: ListLength,
    #[serde(default)]
    tags: ListLength,
}

impl BatchShape {
    fn check(&self) -> MlflowResult<()> {
        let (metrics, params, tags) = (self.metrics.0, self.params.0, self.tags.0);
        if metrics > MAX_METRICS {
            return Err(limit_error("metrics", MAX_METRICS, metrics));
        }
        if params > MAX_PARAMS {
            return Err(limit_error("params", MAX_PARAMS, params));
        }
        if tags > MAX_TAGS {
            return Err(limit_error("tags", MAX_TAGS, tags));
        }
        let total = metrics + params + tags;
        if total > MAX_ENTRIES {
            return Err(limit_error("metrics, params, and tags", MAX_ENTRIES, total));
        }
        Ok(())
    }
}

/// How many elements a JSON list has; 0 for any other value (the full
/// parse names that mistake).
#[derive(Default)]
struct ListLength(usize);

impl<'de> Deserialize<'de> for ListLength {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<ListLength, D::Error> {
        deserializer.deserialize_any(ListLengthVisitor)
    }
}

struct ListLengthVisitor;

impl<'de> Visitor<'de> for ListLengthVisitor {
    type Value = ListLength;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<ListLength, A::Error> {
        let mut count = 0;
        while seq.next_element::<IgnoredAny>()?.is_some() {
            count += 1;
        }
        Ok(ListLength(count))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ListLength, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(ListLength(0))
    }

    fn visit_bool<E>(self, _: bool) -> Result<ListLength, E> {
        Ok(ListLength(0))
    }

    fn visit_i64<E>(self, _: i64) -> Result<ListLength, E> {
        Ok(ListLength(0))
    }

    fn visit_u64<E>(self, _: u64) -> Result<ListLength, E> {
        Ok(ListLength(0))
    }

    fn visit_f64<E>(self, _: f64) -> Result<ListLength, E> {
        Ok(ListLength(0))
    }

    fn visit_str<E>(self, _: &str) -> Result<ListLength, E> {
        Ok(ListLength(0))
    }

    fn visit_unit<E>(self) -> Result<ListLength, E> {
        Ok(ListLength(0))
    }
}

/// The bytes of a JSON body, at most `limit` of them: a `Content-Length`
/// over the limit is refused before anything is read.
async fn read_json_bytes(req: Request, limit: usize) -> MlflowResult<Bytes> {
    let headers = req.headers();
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().starts_with("application/json"));
    if !is_json {
        return Err(MlflowError::invalid(
            "Bad Request. Content-Type must be one of ['application/json'].",
        ));
    }
    let too_large = |size: Option<u64>| {
        let size = size.map_or_else(String::new, |n| format!(" ({n} bytes)"));
        MlflowError::invalid(format!(
            "The request body{size} is larger than the limit of {limit} bytes; split it into \
             smaller requests"
        ))
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large(declared));
    }
    let mut bytes = Vec::with_capacity(declared.map_or(0, |n| n as usize));
    let mut stream = req.into_body().into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk =
            chunk.map_err(|e| MlflowError::invalid(format!("cannot read request body: {e}")))?;
        if bytes.len() + chunk.len() > limit {
            return Err(too_large(None));
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(bytes))
}

fn parse_object(bytes: &[u8]) -> MlflowResult<Map<String, Value>> {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(map)) => Ok(map),
        // Valid JSON of another shape is a caller's mistake worth naming.
        Ok(other) => Err(MlflowError::invalid(format!(
            "Invalid request body: expected a JSON object, got {}",
            type_name(&other)
        ))),
        // Unparsable bodies read as empty (as MLflow), so the error names
        // the first missing field.
        Err(_) => Ok(Map::new()),
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

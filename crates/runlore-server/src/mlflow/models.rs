//! `/logged-models`: MLflow 3 logged models, enough for `log_model` and
//! `load_model`: create, get, finalize, tags and search by name.

use axum::Json;
use axum::extract::{Path, State};
use runlore_core::filter::{Attribute, CompareOp, Expr, Field, Operand, parse_filter};
use runlore_core::{ErrorKind, LoggedModel, ModelId, ModelQuery, NewLoggedModel, RunId};
use serde_json::{Map, Value, json};

use super::body::{Body, Fields, parse_experiment_id, to_map, wrong_type};
use super::error::{MlflowError, MlflowResult};
use super::{experiments, runs, token, wire};
use crate::AppState;

type Reply = MlflowResult<Json<Value>>;

fn parse_id(text: &str) -> MlflowResult<ModelId> {
    ModelId::parse(text).map_err(|_| {
        MlflowError::not_found(format!(
            "Logged model with ID '{}' not found",
            runlore_core::ids::truncate_for_message(text)
        ))
    })
}

async fn find(state: &AppState, id: &ModelId) -> MlflowResult<LoggedModel> {
    state.models.get_logged_model(id).await.map_err(|e| {
        if e.kind() == ErrorKind::NotFound {
            MlflowError::not_found(format!("Logged model with ID '{id}' not found"))
        } else {
            e.into()
        }
    })
}

async fn model_json(state: &AppState, model: &LoggedModel) -> MlflowResult<Value> {
    let location = runs::exp_location(state, model.experiment_id).await?;
    Ok(wire::logged_model(model, location.as_deref()))
}

pub async fn create(State(state): State<AppState>, Body(body): Body) -> Reply {
    let experiment_id = body.experiment_id("experiment_id")?;
    experiments::find(&state, experiment_id).await?;
    let source_run_id = match body.opt_str("source_run_id")?.filter(|s| !s.is_empty()) {
        Some(text) => {
            let id = super::body::parse_run_id(&text)?;
            runs::find(&state, &id).await?;
            Some(id)
        }
        None => None,
    };
    let name = match body.opt_str("name")?.filter(|s| !s.trim().is_empty()) {
        Some(name) => name,
        None => format!("model-{}", &ModelId::generate().as_str()[2..10]),
    };
    let model = state
        .models
        .create_logged_model(NewLoggedModel {
            experiment_id,
            name,
            model_type: body.opt_str("model_type")?.unwrap_or_default(),
            source_run_id,
            tags: to_map(body.key_values("tags")?),
            params: to_map(body.key_values("params")?),
        })
        .await?;
    Ok(Json(json!({"model": model_json(&state, &model).await?})))
}

pub async fn get(State(state): State<AppState>, Path(id): Path<String>) -> Reply {
    let model = find(&state, &parse_id(&id)?).await?;
    Ok(Json(json!({"model": model_json(&state, &model).await?})))
}

pub async fn finalize(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Body(body): Body,
) -> Reply {
    let id = parse_id(&id)?;
    find(&state, &id).await?;
    let status_text = body.req_str("status")?;
    let status = wire::parse_model_status(&status_text).ok_or_else(|| {
        MlflowError::invalid(format!(
            "Invalid logged model status '{status_text}': expected LOGGED_MODEL_READY or \
             LOGGED_MODEL_UPLOAD_FAILED"
        ))
    })?;
    let model = state.models.set_logged_model_status(&id, status).await?;
    Ok(Json(json!({"model": model_json(&state, &model).await?})))
}

pub async fn set_tags(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Body(body): Body,
) -> Reply {
    let id = parse_id(&id)?;
    find(&state, &id).await?;
    let tags = to_map(body.key_values("tags")?);
    let model = state.models.set_logged_model_tags(&id, tags).await?;
    Ok(Json(json!({"model": model_json(&state, &model).await?})))
}

pub async fn delete_tag(
    State(state): State<AppState>,
    Path((id, key)): Path<(String, String)>,
) -> Reply {
    let id = parse_id(&id)?;
    find(&state, &id).await?;
    state.models.delete_logged_model_tag(&id, &key).await?;
    Ok(Json(json!({})))
}

/// Collects `name = '…'` and `source_run_id = '…'` conditions joined by AND,
/// the filters the client sends when resolving models.
fn conditions(expr: &Expr, query: &mut ModelQuery) -> MlflowResult<()> {
    match expr {
        Expr::And(a, b) => {
            conditions(a, query)?;
            conditions(b, query)
        }
        Expr::Compare(cmp) if cmp.op == CompareOp::Eq => match (&cmp.field, &cmp.value) {
            (Field::Attribute(Attribute::RunName), Operand::String(name)) => {
                query.name = Some(name.clone());
                Ok(())
            }
            (Field::Attribute(Attribute::RunId), Operand::String(run)) => {
                query.source_run_id = Some(RunId::parse(run)?);
                Ok(())
            }
            _ => Err(unsupported()),
        },
        _ => Err(unsupported()),
    }
}

/// `source_run_id` is not a run-filter attribute; read it as `run_id`
/// wherever it stands outside quotes (a model may be named after it).
fn rename_source_run_id(filter: &str) -> String {
    const FIELD: &str = "source_run_id";
    let mut out = String::with_capacity(filter.len());
    let mut quote: Option<char> = None;
    let mut rest = filter;
    while let Some(c) = rest.chars().next() {
        if quote.is_none() && rest.starts_with(FIELD) {
            out.push_str("run_id");
            rest = &rest[FIELD.len()..];
            continue;
        }
        match quote {
            Some(q) if c == q => quote = None,
            None if matches!(c, '\'' | '"' | '`') => quote = Some(c),
            _ => {}
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

fn unsupported() -> MlflowError {
    MlflowError::invalid(
        "Logged models can be searched by `name = '…'` and `source_run_id = '…'` joined by AND",
    )
}

pub async fn search(State(state): State<AppState>, Body(body): Body) -> Reply {
    let mut query = ModelQuery {
        limit: token::max_results(body.opt_i64("max_results")?, 100, 10_000)?,
        offset: token::decode(body.opt_str("page_token")?.as_deref())?,
        ..ModelQuery::default()
    };
    match body.get("experiment_ids") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            for item in items {
                match item {
                    Value::String(s) => query.experiment_ids.push(parse_experiment_id(s)?),
                    other => return Err(wrong_type("experiment_ids", other)),
                }
            }
        }
        Some(other) => return Err(wrong_type("experiment_ids", other)),
    }
    let text = rename_source_run_id(&body.opt_str("filter")?.unwrap_or_default());
    if let Some(expr) = parse_filter(&text)? {
        conditions(&expr, &mut query)?;
    }
    let offset = query.offset;
    let page = state.models.search_logged_models(query).await?;
    let mut out = Map::new();
    if !page.items.is_empty() {
        let mut models = Vec::with_capacity(page.items.len());
        for model in &page.items {
            models.push(model_json(&state, model).await?);
        }
        out.insert("models".into(), Value::Array(models));
    }
    if page.next_cursor.is_some() {
        out.insert(
            "next_page_token".into(),
            json!(token::encode(offset + page.items.len())),
        );
    }
    Ok(Json(Value::Object(out)))
}

#[cfg(test)]
mod tests {
    use super::rename_source_run_id;

    #[test]
    fn source_run_id_is_renamed_outside_quotes_only() {
        assert_eq!(
            rename_source_run_id("source_run_id = 'abc' AND name = 'source_run_id-model'"),
            "run_id = 'abc' AND name = 'source_run_id-model'"
        );
        assert_eq!(rename_source_run_id("name = \"é\""), "name = \"é\"");
    }
}

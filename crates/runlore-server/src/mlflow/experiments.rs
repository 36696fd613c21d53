//! `/experiments/*`: MLflow experiments are Runlore experiments; the name
//! `P/name` puts one in project `P`.

use std::cmp::Ordering;

use axum::Json;
use axum::extract::{RawQuery, State};
use runlore_core::filter::{Attribute, Field, parse_filter, parse_order_by};
use runlore_core::store::{ExperimentQuery, MAX_PAGE_SIZE};
use runlore_core::{ErrorKind, Experiment, ExperimentId, Lifecycle, LifecycleView, NewExperiment};
use serde_json::{Value, json};

use super::body::{Body, Fields, query_map, to_map};
use super::error::{MlflowError, MlflowResult};
use super::matcher::{FieldValue, matches};
use super::{token, wire};
use crate::AppState;

type Reply = MlflowResult<Json<Value>>;

/// Longest list of experiments a search scans; far beyond real use.
const MAX_EXPERIMENTS_SCANNED: usize = 1_000_000;

pub async fn find(state: &AppState, id: ExperimentId) -> MlflowResult<Experiment> {
    state.store.get_experiment(id).await.map_err(|e| {
        if e.kind() == ErrorKind::NotFound {
            MlflowError::not_found(format!("No Experiment with id={id} exists"))
        } else {
            e.into()
        }
    })
}

pub async fn find_by_name(state: &AppState, name: &str) -> MlflowResult<Experiment> {
    let (project, plain) = wire::split_experiment_name(name);
    state
        .store
        .get_experiment_by_name(&project, &plain)
        .await
        .map_err(|e| {
            if e.kind() == ErrorKind::NotFound {
                MlflowError::not_found(format!("Could not find experiment with name '{name}'"))
            } else {
                e.into()
            }
        })
}

pub async fn get_by_name(State(state): State<AppState>, RawQuery(q): RawQuery) -> Reply {
    let name = query_map(q.as_deref()).req_str("experiment_name")?;
    let exp = find_by_name(&state, &name).await?;
    Ok(Json(json!({"experiment": wire::experiment(&exp)})))
}

pub async fn get(State(state): State<AppState>, RawQuery(q): RawQuery) -> Reply {
    let id = query_map(q.as_deref()).experiment_id("experiment_id")?;
    let exp = find(&state, id).await?;
    Ok(Json(json!({"experiment": wire::experiment(&exp)})))
}

pub async fn create(State(state): State<AppState>, Body(body): Body) -> Reply {
    let name = body.req_str("name")?;
    let (project, plain) = wire::split_experiment_name(&name);
    let tags = to_map(body.key_values("tags")?);
    let artifact_location = body.opt_str("artifact_location")?.filter(|s| !s.is_empty());
    let exp = state
        .store
        .create_experiment(NewExperiment {
            project,
            name: plain,
            description: String::new(),
            tags,
            artifact_location,
        })
        .await
        .map_err(|e| {
            if e.kind() == ErrorKind::AlreadyExists {
                MlflowError::new(
                    axum::http::StatusCode::BAD_REQUEST,
                    super::error::RESOURCE_ALREADY_EXISTS,
                    format!("Experiment(name={name}) already exists."),
                )
            } else {
                e.into()
            }
        })?;
    Ok(Json(json!({"experiment_id": exp.id.to_string()})))
}

pub async fn update(State(state): State<AppState>, Body(body): Body) -> Reply {
    let id = body.experiment_id("experiment_id")?;
    let current = find(&state, id).await?;
    let Some(new_name) = body.opt_str("new_name")?.filter(|s| !s.is_empty()) else {
        return Ok(Json(json!({})));
    };
    let (project, plain) = wire::split_experiment_name(&new_name);
    if project != current.project {
        return Err(MlflowError::invalid(format!(
            "Cannot rename experiment {id} to '{new_name}': it belongs to project '{}', and \
             renaming does not move experiments between projects",
            current.project
        )));
    }
    state.store.rename_experiment(id, &plain).await?;
    Ok(Json(json!({})))
}

async fn set_lifecycle(
    state: &AppState,
    body: &serde_json::Map<String, Value>,
    to: Lifecycle,
) -> Reply {
    let id = body.experiment_id("experiment_id")?;
    find(state, id).await?;
    state.store.set_experiment_lifecycle(id, to).await?;
    Ok(Json(json!({})))
}

pub async fn delete(State(state): State<AppState>, Body(body): Body) -> Reply {
    set_lifecycle(&state, &body, Lifecycle::Deleted).await
}

pub async fn restore(State(state): State<AppState>, Body(body): Body) -> Reply {
    set_lifecycle(&state, &body, Lifecycle::Active).await
}

pub async fn set_tag(State(state): State<AppState>, Body(body): Body) -> Reply {
    let id = body.experiment_id("experiment_id")?;
    let key = body.req_str("key")?;
    let value = wire::truncate_tag(body.opt_str("value")?.unwrap_or_default());
    find(&state, id).await?;
    state.store.set_experiment_tag(id, &key, &value).await?;
    Ok(Json(json!({})))
}

pub async fn delete_tag(State(state): State<AppState>, Body(body): Body) -> Reply {
    let id = body.experiment_id("experiment_id")?;
    let key = body.req_str("key")?;
    find(&state, id).await?;
    state.store.delete_experiment_tag(id, &key).await?;
    Ok(Json(json!({})))
}

fn view(text: Option<String>) -> LifecycleView {
    match text.as_deref() {
        Some("DELETED_ONLY") => LifecycleView::Inactive,
        Some("ALL") => LifecycleView::All,
        _ => LifecycleView::Active,
    }
}

/// The value of a filter or order field on an experiment.
fn field_value(exp: &Experiment, field: &Field) -> Option<FieldValue> {
    match field {
        Field::Attribute(Attribute::RunName) => Some(FieldValue::Text(wire::experiment_name(exp))),
        Field::Attribute(Attribute::Created) => Some(FieldValue::Number(exp.created_at as f64)),
        Field::Attribute(Attribute::Updated) => Some(FieldValue::Number(exp.updated_at as f64)),
        Field::Attribute(Attribute::ExperimentId) => Some(FieldValue::Text(exp.id.to_string())),
        Field::Tag(key) => exp.tags.get(key).cloned().map(FieldValue::Text),
        _ => None,
    }
}

/// Experiments are filtered on `name`, `creation_time`, `last_update_time`,
/// `experiment_id` and tags; anything else is a mistake worth naming.
fn check_field(field: &Field, ordering: bool) -> MlflowResult<()> {
    let ok = match field {
        Field::Attribute(
            Attribute::RunName | Attribute::Created | Attribute::Updated | Attribute::ExperimentId,
        ) => true,
        Field::Tag(_) => !ordering,
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(MlflowError::invalid(format!(
            "Invalid {} for experiments: {field:?}. Experiments are {} on name, creation_time, \
             last_update_time and experiment_id{}",
            if ordering {
                "order_by key"
            } else {
                "filter field"
            },
            if ordering { "ordered" } else { "filtered" },
            if ordering { "" } else { ", and tags" }
        )))
    }
}

fn check_fields(expr: &runlore_core::filter::Expr) -> MlflowResult<()> {
    use runlore_core::filter::Expr;
    match expr {
        Expr::And(a, b) | Expr::Or(a, b) => {
            check_fields(a)?;
            check_fields(b)
        }
        Expr::Compare(cmp) => check_field(&cmp.field, false),
    }
}

fn cmp_values(a: Option<FieldValue>, b: Option<FieldValue>) -> Ordering {
    match (a, b) {
        (Some(FieldValue::Number(x)), Some(FieldValue::Number(y))) => x.total_cmp(&y),
        (Some(FieldValue::Text(x)), Some(FieldValue::Text(y))) => {
            // Experiment ids sort as numbers.
            match (x.parse::<i64>(), y.parse::<i64>()) {
                (Ok(i), Ok(j)) => i.cmp(&j),
                _ => x.cmp(&y),
            }
        }
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        _ => Ordering::Equal,
    }
}

pub async fn search(State(state): State<AppState>, Body(body): Body) -> Reply {
    let limit = token::max_results(body.opt_i64("max_results")?, 1000, 50_000)?;
    let offset = token::decode(body.opt_str("page_token")?.as_deref())?;
    let filter = parse_filter(&body.opt_str("filter")?.unwrap_or_default())?;
    if let Some(expr) = &filter {
        check_fields(expr)?;
    }
    let order_texts: Vec<String> = match body.get("order_by") {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    };
    let order = parse_order_by(&order_texts)?;
    for key in &order {
        check_field(&key.field, true)?;
    }
    let mut all = Vec::new();
    let mut cursor = None;
    loop {
        let page = state
            .store
            .list_experiments(ExperimentQuery {
                project: None,
                view: view(body.opt_str("view_type")?),
                name_contains: None,
                limit: MAX_PAGE_SIZE,
                cursor,
            })
            .await?;
        all.extend(page.items);
        cursor = page.next_cursor;
        if cursor.is_none() || all.len() >= MAX_EXPERIMENTS_SCANNED {
            break;
        }
    }
    if let Some(expr) = &filter {
        all.retain(|exp| matches(expr, &|f| field_value(exp, f)));
    }
    // Default and tie-break: newest first, as MLflow.
    all.sort_by(|a, b| {
        for key in &order {
            let o = cmp_values(field_value(a, &key.field), field_value(b, &key.field));
            let o = if key.descending { o.reverse() } else { o };
            if o != Ordering::Equal {
                return o;
            }
        }
        b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id))
    });
    let page: Vec<Value> = all
        .iter()
        .skip(offset)
        .take(limit)
        .map(wire::experiment)
        .collect();
    let mut out = serde_json::Map::new();
    if !page.is_empty() {
        out.insert("experiments".into(), Value::Array(page));
    }
    if offset + limit < all.len() {
        out.insert(
            "next_page_token".into(),
            json!(token::encode(offset + limit)),
        );
    }
    Ok(Json(Value::Object(out)))
}

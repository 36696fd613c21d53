//! The OpenAPI document of the native API, generated from the handlers.
//! Each handler's annotation names its own statuses; the answers that come
//! from the layers every route shares (the browser guard, the extractors,
//! the body limit) are added here, by [`SharedAnswers`], so that no
//! operation can forget them.

use utoipa::openapi::path::Operation;
use utoipa::openapi::{ContentBuilder, OpenApi as Document, Ref, RefOr, ResponseBuilder};
use utoipa::{Modify, OpenApi};

use super::{artifacts, experiments, graph, lineage, metrics, projects, report, runs};
use crate::error::ErrorBody;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Runlore native API",
        description = "Projects, experiments, runs, metrics. Errors are {\"error\":{\"code\",\"message\"}}."
    ),
    paths(
        super::health,
        document,
        projects::create,
        projects::list,
        projects::get,
        projects::archive,
        projects::unarchive,
        projects::settings,
        projects::set_settings,
        projects::patch_settings,
        experiments::create,
        experiments::list,
        experiments::get,
        experiments::rename,
        experiments::delete,
        experiments::restore,
        experiments::set_tag,
        experiments::delete_tag,
        runs::create,
        runs::list,
        runs::search,
        runs::get,
        runs::update,
        runs::delete,
        runs::restore,
        runs::log,
        runs::delete_tag,
        metrics::keys,
        metrics::history,
        artifacts::put,
        artifacts::get,
        artifacts::list,
        graph::features,
        graph::set_features,
        graph::diff,
        graph::set_parents,
        graph::parents,
        graph::ancestors,
        graph::descendants,
        graph::project_graph,
        graph::differing,
        graph::feature_trees,
        metrics::summaries,
        lineage::lineage,
        lineage::verify,
        lineage::gc,
        lineage::use_input,
        lineage::artifact_diff,
        report::report,
    ),
    // Named by query parameters only, which utoipa does not collect.
    components(schemas(metrics::HistoryFormat, ErrorBody)),
    modifiers(&SharedAnswers)
)]
struct ApiDoc;

/// Adds to every operation the error answers of the shared layers:
/// - 400: a request without `Host`, or a path, query or body that does not
///   parse (the extractors in `crate::extract`);
/// - 403: a `Host` that is not this server's, or a cross-site write
///   (`crate::guard`);
/// - 404: an operation with path parameters names something that is not
///   there;
/// - 415: a write with a non-JSON `Content-Type`, or a JSON body without
///   one (artifact uploads take any type);
/// - 413: a JSON body over the server's body limit.
struct SharedAnswers;

impl Modify for SharedAnswers {
    fn modify(&self, document: &mut Document) {
        for (path, item) in document.paths.paths.iter_mut() {
            let has_path_params = path.contains('{');
            let writes = [
                (&mut item.post, true),
                (&mut item.put, true),
                (&mut item.patch, true),
                (&mut item.delete, true),
                (&mut item.get, false),
            ];
            for (operation, is_write) in writes {
                if let Some(operation) = operation.as_mut() {
                    add_shared(operation, has_path_params, is_write);
                }
            }
        }
    }
}

fn add_shared(operation: &mut Operation, has_path_params: bool, is_write: bool) {
    // utoipa names an operation after its function, and several modules
    // have a `list` or a `get`: the tag makes the id unique, as OpenAPI
    // requires.
    if let (Some(id), Some(tag)) = (
        operation.operation_id.as_mut(),
        operation.tags.as_ref().and_then(|tags| tags.first()),
    ) {
        *id = format!("{tag}_{id}");
    }
    let json_body = operation
        .request_body
        .as_ref()
        .is_some_and(|body| body.content.keys().any(|t| t == "application/json"));
    let raw_body = operation.request_body.is_some() && !json_body;
    let mut add = |status: &str, description: &str| {
        operation
            .responses
            .responses
            .entry(status.to_owned())
            .or_insert_with(|| error_response(description));
    };
    add(
        "400",
        "Missing Host header, or a path, query or body that does not parse",
    );
    add(
        "403",
        "Host not allowed (DNS rebinding), or a cross-site write",
    );
    if has_path_params {
        add("404", "No such object");
    }
    if is_write && !raw_body {
        add("415", "A write with a Content-Type other than JSON");
    }
    if json_body {
        add("413", "The body is larger than the server's body limit");
    }
}

fn error_response(description: &str) -> RefOr<utoipa::openapi::Response> {
    let content = ContentBuilder::new()
        .schema(Some(Ref::from_schema_name("ErrorBody")))
        .build();
    RefOr::T(
        ResponseBuilder::new()
            .description(description)
            .content("application/json", content)
            .build(),
    )
}

#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "server",
    responses((status = 200, description = "This document (OpenAPI 3.1)", body = Object)))]
pub async fn document() -> axum::Json<utoipa::openapi::OpenApi> {
    axum::Json(ApiDoc::openapi())
}

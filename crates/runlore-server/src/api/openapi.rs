//! The OpenAPI document of the native API, generated from the handlers.

use utoipa::OpenApi;

use super::{artifacts, experiments, graph, lineage, metrics, projects, report, runs};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Runlore native API",
        description = "Projects, experiments, runs, metrics. Errors are {\"error\":{\"code\",\"message\"}}."
    ),
    paths(
        super::health,
        projects::create,
        projects::list,
        projects::get,
        projects::archive,
        projects::unarchive,
        projects::settings,
        projects::set_settings,
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
    )
)]
struct ApiDoc;

pub async fn document() -> axum::Json<utoipa::openapi::OpenApi> {
    axum::Json(ApiDoc::openapi())
}

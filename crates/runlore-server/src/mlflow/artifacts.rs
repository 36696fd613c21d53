//! The artifact proxy, `/api/2.0/mlflow-artifacts/artifacts/…`: MLflow
//! clients upload and download every artifact through the tracking server.
//! Paths are `<exp>/<run_id>/artifacts/<path>` for runs and
//! `<exp>/models/<model_id>/artifacts/<path>` for logged models. Bytes go
//! to the content-addressed blob store (the same file logged twice is
//! stored once); rows in the artifact index name them.

use axum::Json;
use axum::body::Body as HttpBody;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use futures_util::TryStreamExt;
use runlore_core::artifact::{list_dir, normalize_dir, validate_path};
use runlore_core::features_file::{FEATURES_ARTIFACT_PATHS, FeaturesFormat, parse_features};
use runlore_core::graph::MAX_FEATURES_BYTES;
use runlore_core::{ArtifactDirection, ArtifactOwner, ErrorKind, ModelId, NewArtifact, RunId};
use serde_json::{Value, json};

use super::body::query_map;
use super::error::{MlflowError, MlflowResult};
use crate::{AppState, artifact_http};

/// An artifact location: the experiment segment the client named, whose
/// tree, and the path inside it (`""` for the root).
struct Location {
    experiment: String,
    owner: ArtifactOwner,
    path: String,
}

fn invalid_path() -> MlflowError {
    MlflowError::invalid("Invalid path")
}

/// Splits a proxy path; `None` when it does not name a run's or a model's
/// artifact tree. `..`, `.` and empty segments are refused outright.
fn locate(raw: &str) -> MlflowResult<Option<Location>> {
    let trimmed = raw.trim_matches('/');
    if trimmed.is_empty() {
        return Ok(None);
    }
    if trimmed.split('/').any(|s| s == ".." || s == ".") || raw.contains('\0') || raw.contains('\\')
    {
        return Err(invalid_path());
    }
    let parts: Vec<&str> = trimmed.splitn(5, '/').collect();
    let (experiment, owner, rest): (&str, ArtifactOwner, String) = match parts.as_slice() {
        [exp, "models", model, "artifacts", rest @ ..] => match ModelId::parse(model) {
            Ok(id) => (exp, ArtifactOwner::Model(id), rest.join("/")),
            Err(_) => return Ok(None),
        },
        [exp, run, "artifacts", rest @ ..] => match RunId::parse(run) {
            Ok(id) => (exp, ArtifactOwner::Run(id), rest.join("/")),
            Err(_) => return Ok(None),
        },
        _ => return Ok(None),
    };
    let path = normalize_dir(&rest).map_err(|_| invalid_path())?;
    Ok(Some(Location {
        experiment: experiment.to_owned(),
        owner,
        path,
    }))
}

fn not_found(raw: &str) -> MlflowError {
    MlflowError::not_found(format!("No such artifact: '{raw}'"))
}

/// Checks that the run or model exists, is writable, and belongs to the
/// experiment its path names.
async fn check_owner(state: &AppState, location: &Location) -> MlflowResult<()> {
    if let ArtifactOwner::Run(id) = &location.owner {
        let run = state
            .store
            .get_run(id)
            .await
            .map_err(|e| super::runs::not_found_as_run(e, id))?;
        if run.lifecycle == runlore_core::Lifecycle::Deleted {
            return Err(MlflowError::invalid(format!(
                "The run {id} must be in the 'active' state. Current state is deleted."
            )));
        }
    }
    if !in_named_experiment(state, location).await? {
        return Err(MlflowError::not_found(format!(
            "The experiment '{}' has no {}",
            location.experiment,
            owner_name(&location.owner)
        )));
    }
    Ok(())
}

fn owner_name(owner: &ArtifactOwner) -> String {
    match owner {
        ArtifactOwner::Run(id) => format!("run '{id}'"),
        ArtifactOwner::Model(id) => format!("logged model '{id}'"),
    }
}

/// Whether the path's experiment segment is the owner's experiment: its id,
/// or the proxy path of the experiment's own `mlflow-artifacts:/…`
/// location. A path through another experiment is not this artifact.
/// A missing owner is `false` (the caller answers 404 either way).
async fn in_named_experiment(state: &AppState, location: &Location) -> MlflowResult<bool> {
    let experiment = match &location.owner {
        ArtifactOwner::Run(id) => match state.store.get_run(id).await {
            Ok(run) => run.experiment_id,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(e.into()),
        },
        ArtifactOwner::Model(id) => match state.models.get_logged_model(id).await {
            Ok(model) => model.experiment_id,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(e.into()),
        },
    };
    let id = experiment.to_string();
    if location.experiment == id {
        return Ok(true);
    }
    let stored = super::runs::exp_location(state, experiment).await?;
    let proxied = super::wire::artifact_location(&id, stored.as_deref());
    Ok(proxy_prefix(&proxied) == Some(location.experiment.as_str()))
}

/// The proxy path an `mlflow-artifacts:` location stands for:
/// `mlflow-artifacts:/x` and `mlflow-artifacts://host:port/x` are both `x`.
fn proxy_prefix(location: &str) -> Option<&str> {
    let rest = location.strip_prefix("mlflow-artifacts:")?;
    let path = match rest.strip_prefix("//") {
        Some(with_host) => with_host.split_once('/').map_or("", |(_, path)| path),
        None => rest,
    };
    Some(path.trim_matches('/'))
}

pub async fn upload(
    State(state): State<AppState>,
    Path(raw): Path<String>,
    headers: HeaderMap,
    body: HttpBody,
) -> MlflowResult<Response> {
    let location = locate(&raw)?.ok_or_else(|| {
        MlflowError::invalid(format!(
            "Artifact path '{raw}' is not under '<experiment>/<run_id>/artifacts/' or \
             '<experiment>/models/<model_id>/artifacts/'"
        ))
    })?;
    validate_path(&location.path).map_err(|e| MlflowError::invalid(e.message().to_owned()))?;
    check_owner(&state, &location).await?;
    let blob = match features_artifact_run(&location) {
        // `features.yaml` at a run's root is its configuration tree: checked
        // and recorded before its bytes are stored, so a refused file leaves
        // nothing behind.
        Some(run) => {
            let bytes = read_features_artifact(body).await?;
            let format = FeaturesFormat::from_path(&location.path);
            // Parsing up to a megabyte is CPU work: off the runtime's
            // threads, so other requests (/health) keep being answered.
            let text = bytes.clone();
            let features = tokio::task::spawn_blocking(move || {
                let text = std::str::from_utf8(&text)
                    .map_err(|_| "The features artifact is not UTF-8 text".to_owned())?;
                parse_features(text, format).map_err(|e| e.message().to_owned())
            })
            .await
            .map_err(|e| runlore_core::Error::internal(format!("features parse failed: {e}")))?
            .map_err(|message| MlflowError::invalid(format!("{}: {message}", location.path)))?;
            state.store.set_run_features(run, features).await?;
            state.blobs.put_bytes(bytes).await?
        }
        None => {
            let stream = body
                .into_data_stream()
                .map_err(|e| std::io::Error::other(format!("upload interrupted: {e}")));
            state.blobs.put(Box::pin(stream), None).await?
        }
    };
    // The extension decides (clients guess from it too); the header only
    // helps for names without a known extension.
    let guessed = mime_guess::from_path(&location.path).first();
    let media_type = match guessed {
        Some(mime) => mime.to_string(),
        None => headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty() && !v.starts_with("application/x-www-form-urlencoded"))
            .unwrap_or("application/octet-stream")
            .to_owned(),
    };
    state
        .artifacts
        .put_artifact(
            &location.owner,
            NewArtifact {
                path: location.path,
                sha256: blob.sha256,
                size: blob.size,
                media_type,
                direction: ArtifactDirection::Output,
                step: None,
            },
        )
        .await?;
    Ok(().into_response())
}

/// The run whose features an upload sets, when it is one of the features
/// files at the root of a run's tree.
fn features_artifact_run(location: &Location) -> Option<&RunId> {
    match &location.owner {
        ArtifactOwner::Run(run) if FEATURES_ARTIFACT_PATHS.contains(&location.path.as_str()) => {
            Some(run)
        }
        _ => None,
    }
}

async fn read_features_artifact(body: HttpBody) -> MlflowResult<axum::body::Bytes> {
    axum::body::to_bytes(body, MAX_FEATURES_BYTES)
        .await
        .map_err(|_| {
            MlflowError::invalid(format!(
                "A features artifact may be at most {MAX_FEATURES_BYTES} bytes"
            ))
        })
}

pub async fn download(
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> MlflowResult<Response> {
    let location = locate(&raw)?.ok_or_else(|| not_found(&raw))?;
    if location.path.is_empty() || !in_named_experiment(&state, &location).await? {
        return Err(not_found(&raw));
    }
    let artifact = match state
        .artifacts
        .get_artifact(&location.owner, &location.path)
        .await
    {
        Ok(a) => a,
        Err(e) if e.kind() == ErrorKind::NotFound => return Err(not_found(&raw)),
        Err(e) => return Err(e.into()),
    };
    let (size, stream) = state.blobs.get(&artifact.sha256).await.map_err(|e| {
        if e.kind() == ErrorKind::NotFound {
            MlflowError::not_found(format!(
                "The content of artifact '{raw}' (sha256 {}) is missing from the blob store",
                artifact.sha256
            ))
        } else {
            e.into()
        }
    })?;
    // Checked chunk by chunk before sending: damage in the first chunk is
    // an error answer, later damage cuts the body short of Content-Length.
    let mut response = HttpBody::from_stream(stream).into_response();
    let headers = response.headers_mut();
    artifact_http::protect(headers, &artifact.media_type, &location.path, true);
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(size));
    headers.insert(header::ETAG, artifact_http::etag(&artifact.sha256));
    Ok(response)
}

pub async fn list(
    State(state): State<AppState>,
    RawQuery(q): RawQuery,
) -> MlflowResult<Json<Value>> {
    let raw = query_map(q.as_deref()).remove("path").unwrap_or_default();
    let Some(location) = locate(&raw)? else {
        return Ok(Json(json!({})));
    };
    if !in_named_experiment(&state, &location).await? {
        return Ok(Json(json!({})));
    }
    // A missing owner or directory, or a file, lists as empty: the client
    // relies on that to tell files from directories.
    let artifacts = match state
        .artifacts
        .list_artifacts(&location.owner, &location.path)
        .await
    {
        Ok(a) => a,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Json(json!({}))),
        Err(e) => return Err(e.into()),
    };
    let files: Vec<Value> = list_dir(&location.path, &artifacts)
        .into_iter()
        .map(|entry| {
            if entry.is_dir {
                json!({"path": entry.name, "is_dir": true})
            } else {
                json!({"path": entry.name, "is_dir": false, "file_size": entry.size})
            }
        })
        .collect();
    if files.is_empty() {
        return Ok(Json(json!({})));
    }
    Ok(Json(json!({"files": files})))
}

pub async fn delete(
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> MlflowResult<Json<Value>> {
    let location = locate(&raw)?.ok_or_else(|| not_found(&raw))?;
    if !in_named_experiment(&state, &location).await? {
        return Err(not_found(&raw));
    }
    if location.path.is_empty() {
        return Err(MlflowError::invalid(
            "Deleting a whole artifact root is not allowed; name a file or directory",
        ));
    }
    let removed = state
        .artifacts
        .delete_artifacts(&location.owner, &location.path)
        .await?;
    if removed == 0 {
        return Err(not_found(&raw));
    }
    Ok(Json(json!({})))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_paths_name_runs_and_models() {
        let run = "0123456789abcdef0123456789abcdef";
        let loc = locate(&format!("1/{run}/artifacts/a/b.txt"))
            .unwrap()
            .unwrap();
        assert_eq!(loc.path, "a/b.txt");
        assert!(matches!(loc.owner, ArtifactOwner::Run(_)));
        let root = locate(&format!("1/{run}/artifacts")).unwrap().unwrap();
        assert_eq!(root.path, "");
        let model = format!("m-{run}");
        let loc = locate(&format!("5/models/{model}/artifacts/MLmodel"))
            .unwrap()
            .unwrap();
        assert_eq!(loc.path, "MLmodel");
        assert!(matches!(loc.owner, ArtifactOwner::Model(_)));
        assert!(locate("").unwrap().is_none());
        assert!(locate("1").unwrap().is_none());
        assert!(locate(&format!("1/{run}/artifacts/../x")).is_err());
        assert!(locate("../etc/passwd").is_err());
    }

    #[test]
    fn proxy_prefixes_of_experiment_locations() {
        assert_eq!(proxy_prefix("mlflow-artifacts:/7"), Some("7"));
        assert_eq!(proxy_prefix("mlflow-artifacts:/team/"), Some("team"));
        assert_eq!(
            proxy_prefix("mlflow-artifacts://127.0.0.1:5000/custom"),
            Some("custom")
        );
        assert_eq!(proxy_prefix("mlflow-artifacts://host"), Some(""));
        assert_eq!(proxy_prefix("s3://bucket/7"), None);
    }
}

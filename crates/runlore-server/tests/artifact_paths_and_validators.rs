//! The MLflow proxy serves a run's files only under the run's own
//! experiment, and Range requests follow RFC 9110: `bytes=-0` is
//! unsatisfiable (416) and an `If-Range` that is not the current strong
//! ETag gets the whole file (200).
#![allow(clippy::unwrap_used)]

mod common;

use common::TestServer;
use serde_json::json;
use sha2::{Digest, Sha256};

fn proxy(exp: &str, run: &str, path: &str) -> String {
    format!("/api/2.0/mlflow-artifacts/artifacts/{exp}/{run}/artifacts{path}")
}

#[tokio::test]
async fn a_run_is_reached_only_through_its_own_experiment() {
    let s = TestServer::start().await;
    let common::MlflowRun {
        experiment: exp,
        run,
        ..
    } = s.mlflow_run("mine").await;
    let other_exp = s.mlflow_run("theirs").await.experiment;
    let put = s
        .client
        .put(s.url(&proxy(&exp, &run, "/model.pkl")))
        .body("weights")
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 200);
    let (status, _) = s.get(&proxy(&exp, &run, "/model.pkl")).await;
    assert_eq!(status, 200);

    for wrong in ["999999", other_exp.as_str(), "0"] {
        let (status, body) = s.get(&proxy(wrong, &run, "/model.pkl")).await;
        assert_eq!(status, 404, "GET via {wrong}: {body}");
        assert_eq!(body["error_code"], "RESOURCE_DOES_NOT_EXIST", "{body}");
        let listing = format!(
            "/api/2.0/mlflow-artifacts/artifacts?path={}",
            proxy(wrong, &run, "").trim_start_matches("/api/2.0/mlflow-artifacts/artifacts/")
        );
        let (status, body) = s.get(&listing).await;
        assert_eq!((status, body), (200, json!({})), "list via {wrong}");
        let put = s
            .client
            .put(s.url(&proxy(wrong, &run, "/planted.txt")))
            .body("planted")
            .send()
            .await
            .unwrap();
        assert_eq!(put.status(), 404, "PUT via {wrong}");
        let (status, _) = s.delete(&proxy(wrong, &run, "/model.pkl")).await;
        assert_eq!(status, 404, "DELETE via {wrong}");
    }
    // Nothing was planted, nothing removed.
    let (_, files) = s
        .get(&format!("/api/v1/runs/{run}/artifacts?recursive=true"))
        .await;
    let paths: Vec<&str> = files["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["model.pkl"]);
}

async fn ranged(s: &TestServer, url: &str, headers: &[(&str, &str)]) -> (u16, Vec<u8>) {
    let mut request = s.client.get(s.url(url));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let r = request.send().await.unwrap();
    (r.status().as_u16(), r.bytes().await.unwrap().to_vec())
}

#[tokio::test]
async fn empty_suffixes_and_stale_validators_follow_rfc_9110() {
    let s = TestServer::start().await;
    let (status, run) = s.post("/api/v1/runs", json!({"project": "p"})).await;
    assert_eq!(status, 201);
    let run = run["id"].as_str().unwrap();
    let body: Vec<u8> = (0..5_000u32).map(|i| (i % 256) as u8).collect();
    let url = format!("/api/v1/runs/{run}/artifacts/log.txt");
    let put = s
        .client
        .put(s.url(&url))
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 201);
    let whole = s.client.get(s.url(&url)).send().await.unwrap();
    let etag = whole.headers()["etag"].to_str().unwrap().to_owned();
    assert_eq!(etag, format!("\"{}\"", hex::encode(Sha256::digest(&body))));

    let (status, _) = ranged(&s, &url, &[("range", "bytes=-0")]).await;
    assert_eq!(status, 416, "bytes=-0 asks for no byte at all");
    let (status, got) = ranged(&s, &url, &[("range", "bytes=10-19"), ("if-range", &etag)]).await;
    assert_eq!((status, got), (206, body[10..20].to_vec()));
    for stale in [
        "garbage",
        "\"0000\"",
        "W/\"whatever\"",
        "Wed, 21 Oct 2015 07:28:00 GMT",
    ] {
        let (status, got) =
            ranged(&s, &url, &[("range", "bytes=10-19"), ("if-range", stale)]).await;
        assert_eq!(status, 200, "If-Range: {stale}");
        assert_eq!(got, body, "If-Range: {stale} gets the whole file");
    }
    // A weak form of the right tag is not a strong match either.
    let weak = format!("W/{etag}");
    let (status, _) = ranged(&s, &url, &[("range", "bytes=10-19"), ("if-range", &weak)]).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn an_experiments_own_proxy_location_names_it_too() {
    let s = TestServer::start().await;
    let (status, exp) = s
        .post(
            "/api/2.0/mlflow/experiments/create",
            json!({"name": "placed", "artifact_location": "mlflow-artifacts:/team-place"}),
        )
        .await;
    assert_eq!(status, 200, "{exp}");
    let exp_id = exp["experiment_id"].as_str().unwrap().to_owned();
    let (_, run) = s
        .post(
            "/api/2.0/mlflow/runs/create",
            json!({"experiment_id": exp_id}),
        )
        .await;
    let info = &run["run"]["info"];
    let run_id = info["run_id"].as_str().unwrap();
    assert_eq!(
        info["artifact_uri"],
        format!("mlflow-artifacts:/team-place/{run_id}/artifacts")
    );
    for prefix in ["team-place", exp_id.as_str()] {
        let url = proxy(prefix, run_id, "/a.txt");
        let put = s
            .client
            .put(s.url(&url))
            .body(prefix.to_owned())
            .send()
            .await
            .unwrap();
        assert_eq!(put.status(), 200, "{prefix}");
        let (status, _) = s.get(&url).await;
        assert_eq!(status, 200, "{prefix}");
    }
    let (status, _) = s.get(&proxy("other-place", run_id, "/a.txt")).await;
    assert_eq!(status, 404);
}

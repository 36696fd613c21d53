//! The native API over real HTTP, on a real server with a real SQLite file.

mod common;

use common::{TestServer, error_message};
use serde_json::{Value, json};

#[tokio::test]
async fn health_and_openapi_describe_the_server() {
    let s = TestServer::start().await;
    let (status, health) = s.get("/health").await;
    assert_eq!((status, health["status"].as_str()), (200, Some("ok")));
    let (status, doc) = s.get("/api/v1/openapi.json").await;
    assert_eq!(status, 200);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for path in [
        "/health",
        "/api/v1/projects",
        "/api/v1/projects/{name}/archive",
        "/api/v1/experiments/{id}",
        "/api/v1/runs",
        "/api/v1/runs/search",
        "/api/v1/runs/{id}/log",
        "/api/v1/runs/{id}/metrics/{key}",
    ] {
        assert!(paths.contains_key(path), "OpenAPI lacks {path}");
    }
    // `/` is the embedded UI when ui/dist was built before this binary,
    // else a page that says how to build it and where the API is.
    let (status, page) = s.get("/").await;
    assert_eq!(status, 200);
    let page = page.as_str().unwrap();
    assert!(
        page.contains("openapi.json") || page.contains("<title>Runlore</title>"),
        "{page}"
    );
    s.stop().await;
}

#[tokio::test]
async fn projects_lifecycle() {
    let s = TestServer::start().await;
    let (status, p) = s
        .post(
            "/api/v1/projects",
            json!({"name": "vit", "description": "ViT"}),
        )
        .await;
    assert_eq!(status, 201, "{p}");
    assert_eq!(p["lifecycle"], "active");
    let (status, body) = s.post("/api/v1/projects", json!({"name": "vit"})).await;
    error_message(status, &body, 409, "already_exists");
    let (_, list) = s.get("/api/v1/projects").await;
    let names: Vec<_> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].clone())
        .collect();
    assert!(names.contains(&json!("vit")) && names.contains(&json!("default")));
    let (status, p) = s.post("/api/v1/projects/vit/archive", json!({})).await;
    assert_eq!((status, p["lifecycle"].as_str()), (200, Some("archived")));
    let (_, list) = s.get("/api/v1/projects").await;
    assert!(
        !list["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "vit")
    );
    let (_, list) = s.get("/api/v1/projects?view=all").await;
    assert!(
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "vit")
    );
    let (status, p) = s.post("/api/v1/projects/vit/unarchive", json!({})).await;
    assert_eq!((status, p["lifecycle"].as_str()), (200, Some("active")));
    let (status, p) = s.get("/api/v1/projects/vit").await;
    assert_eq!((status, p["description"].as_str()), (200, Some("ViT")));
    let (status, body) = s.get("/api/v1/projects/nope").await;
    assert!(error_message(status, &body, 404, "not_found").contains("nope"));
    s.stop().await;
}

#[tokio::test]
async fn experiments_lifecycle() {
    let s = TestServer::start().await;
    let (status, e) = s
        .post(
            "/api/v1/experiments",
            json!({"project": "p", "name": "sweep"}),
        )
        .await;
    assert_eq!(status, 201, "{e}");
    let id = e["id"].as_str().unwrap().to_owned();
    let (status, e) = s
        .patch(
            &format!("/api/v1/experiments/{id}"),
            json!({"name": "sweep-2"}),
        )
        .await;
    assert_eq!((status, e["name"].as_str()), (200, Some("sweep-2")));
    let (status, e) = s.delete(&format!("/api/v1/experiments/{id}")).await;
    assert_eq!((status, e["lifecycle"].as_str()), (200, Some("deleted")));
    let (_, page) = s.get("/api/v1/experiments?project=p").await;
    assert_eq!(page["items"].as_array().unwrap().len(), 0);
    let (_, page) = s.get("/api/v1/experiments?project=p&view=inactive").await;
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    let (status, e) = s
        .post(&format!("/api/v1/experiments/{id}/restore"), json!({}))
        .await;
    assert_eq!((status, e["lifecycle"].as_str()), (200, Some("active")));
    let r = s
        .client
        .put(s.url(&format!("/api/v1/experiments/{id}/tags/owner")))
        .json(&json!({"value": "ana"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let (_, e) = s.get(&format!("/api/v1/experiments/{id}")).await;
    assert_eq!(e["tags"]["owner"], "ana");
    let (_, default) = s.get("/api/v1/experiments/0").await;
    assert_eq!(default["name"], "Default");
    s.stop().await;
}

#[tokio::test]
async fn runs_are_created_updated_deleted_and_restored() {
    let s = TestServer::start().await;
    let (status, run) = s
        .post(
            "/api/v1/runs",
            json!({"project": "vit", "experiment": "lr-sweep", "name": "lr-0.01",
                   "params": {"lr": "0.01"}, "tags": {"team": "cv"}}),
        )
        .await;
    assert_eq!(status, 201, "{run}");
    let id = run["id"].as_str().unwrap().to_owned();
    assert_eq!(id.len(), 32);
    assert_eq!(
        (run["status"].as_str(), run["experiment"].as_str()),
        (Some("RUNNING"), Some("lr-sweep"))
    );
    let (status, run) = s
        .patch(&format!("/api/v1/runs/{id}"), json!({"status": "FINISHED"}))
        .await;
    assert_eq!((status, run["status"].as_str()), (200, Some("FINISHED")));
    assert!(run["end_time"].is_i64());
    let (status, run) = s.delete(&format!("/api/v1/runs/{id}")).await;
    assert_eq!((status, run["lifecycle"].as_str()), (200, Some("deleted")));
    let (_, page) = s.get("/api/v1/runs?project=vit").await;
    assert_eq!(page["items"].as_array().unwrap().len(), 0);
    let (_, page) = s.get("/api/v1/runs?project=vit&view=all").await;
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    let (status, run) = s
        .post(&format!("/api/v1/runs/{id}/restore"), json!({}))
        .await;
    assert_eq!((status, run["lifecycle"].as_str()), (200, Some("active")));
    let (status, run) = s.delete(&format!("/api/v1/runs/{id}/tags/team")).await;
    assert_eq!(status, 200);
    assert!(run["tags"].as_object().unwrap().is_empty());
    s.stop().await;
}

fn points(key: &str, n: i64) -> Value {
    let metrics: Vec<Value> = (0..n)
        .map(|s| json!({"key": key, "value": 1.0 / (s as f64 + 1.0), "step": s, "timestamp": 1_700_000_000_000i64 + s}))
        .collect();
    json!({ "metrics": metrics })
}

#[tokio::test]
async fn logging_is_idempotent_and_history_downsamples() {
    let s = TestServer::start().await;
    let id = s.new_run(json!({"project": "p"})).await;
    let batch = points("loss", 5000);
    let (status, outcome) = s
        .post(&format!("/api/v1/runs/{id}/log"), batch.clone())
        .await;
    assert_eq!(
        (status, outcome["metrics_written"].as_u64()),
        (200, Some(5000)),
        "{outcome}"
    );
    let (status, outcome) = s.post(&format!("/api/v1/runs/{id}/log"), batch).await;
    assert_eq!(status, 200);
    assert_eq!(outcome["metrics_written"], 0);
    assert_eq!(outcome["metrics_duplicate"], 5000);

    let (status, h) = s.get(&format!("/api/v1/runs/{id}/metrics/loss")).await;
    assert_eq!(status, 200);
    assert_eq!(h["total"], 5000);
    assert_eq!(h["points"].as_array().unwrap().len(), 5000);
    assert_eq!(h["downsampled"], false);

    let (_, h) = s
        .get(&format!("/api/v1/runs/{id}/metrics/loss?max_points=100"))
        .await;
    let pts = h["points"].as_array().unwrap();
    assert!(pts.len() <= 100 && pts.len() > 50, "{}", pts.len());
    assert_eq!(h["downsampled"], true);
    assert_eq!(h["total"], 5000);
    assert_eq!(pts[0]["step"], 0);
    assert_eq!(pts[pts.len() - 1]["step"], 4999);
    let (_, again) = s
        .get(&format!("/api/v1/runs/{id}/metrics/loss?max_points=100"))
        .await;
    assert_eq!(again, h, "downsampling is deterministic");

    let (_, h) = s
        .get(&format!(
            "/api/v1/runs/{id}/metrics/loss?start_step=10&end_step=19"
        ))
        .await;
    assert_eq!(h["total"], 10);
    let (_, keys) = s.get(&format!("/api/v1/runs/{id}/metrics")).await;
    assert_eq!(keys["keys"], json!(["loss"]));
    s.stop().await;
}

#[tokio::test]
async fn special_values_travel_as_strings() {
    let s = TestServer::start().await;
    let id = s.new_run(json!({})).await;
    let batch = json!({"metrics": [
        {"key": "a", "value": "NaN", "step": 0},
        {"key": "b", "value": "Infinity", "step": 0},
        {"key": "c", "value": "-Infinity", "step": 0},
        {"key": "train/loss", "value": 0.5, "step": 0}
    ]});
    let (status, body) = s.post(&format!("/api/v1/runs/{id}/log"), batch).await;
    assert_eq!(status, 200, "{body}");
    let (_, run) = s.get(&format!("/api/v1/runs/{id}")).await;
    let value = |k: &str| {
        run["metrics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["key"] == k)
            .unwrap()["value"]
            .clone()
    };
    assert_eq!(value("a"), "NaN");
    assert_eq!(value("b"), "Infinity");
    assert_eq!(value("c"), "-Infinity");
    let (status, h) = s
        .get(&format!("/api/v1/runs/{id}/metrics/train/loss"))
        .await;
    assert_eq!(
        (status, h["total"].as_u64()),
        (200, Some(1)),
        "keys with '/' are addressable"
    );
    s.stop().await;
}

#[tokio::test]
async fn search_filters_orders_and_pages() {
    let s = TestServer::start().await;
    for i in 0..12 {
        let id = s
            .new_run(
                json!({"project": "s", "experiment": "e", "name": format!("r{i:02}"),
                            "params": {"lr": if i % 2 == 0 { "0.01" } else { "0.1" }},
                            "tags": {"team.name": if i % 3 == 0 { "vision-a" } else { "nlp" }}}),
            )
            .await;
        let batch = json!({"metrics": [{"key": "acc", "value": i as f64 / 12.0, "step": 1}]});
        s.post(&format!("/api/v1/runs/{id}/log"), batch).await;
    }
    let filter = "metrics.acc > 0.2 AND (params.lr = '0.01' OR tags.`team.name` LIKE 'vision%')";
    let url = format!(
        "/api/v1/runs?project=s&experiment=e&filter={}&order_by={}&limit=2",
        urlencode(filter),
        urlencode("metrics.acc DESC")
    );
    let mut names = Vec::new();
    let mut next = url.clone();
    for _ in 0..10 {
        let (status, page) = s.get(&next).await;
        assert_eq!(status, 200, "{page}");
        names.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["name"].as_str().unwrap().to_owned()),
        );
        match page["next_cursor"].as_str() {
            Some(c) => next = format!("{url}&cursor={}", urlencode(c)),
            None => break,
        }
    }
    assert_eq!(names, ["r10", "r09", "r08", "r06", "r04", "r03"]);

    let (status, page) = s
        .post("/api/v1/runs/search", json!({"project": "s", "filter": "params.lr = '0.1'", "order_by": ["name ASC"], "limit": 3}))
        .await;
    assert_eq!(status, 200, "{page}");
    let names: Vec<_> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].clone())
        .collect();
    assert_eq!(names, [json!("r01"), json!("r03"), json!("r05")]);
    assert!(page["next_cursor"].is_string());
    s.stop().await;
}

pub fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[tokio::test]
async fn history_comes_as_columns_or_packed_binary() {
    let s = TestServer::start().await;
    let id = s.new_run(json!({"project": "p"})).await;
    let batch = json!({"metrics": [
        {"key": "m", "value": 0.5, "step": 0, "timestamp": 10},
        {"key": "m", "value": "NaN", "step": 1, "timestamp": 11},
        {"key": "m", "value": "-Infinity", "step": 7, "timestamp": 12},
    ]});
    let (status, _) = s.post(&format!("/api/v1/runs/{id}/log"), batch).await;
    assert_eq!(status, 200);

    let (status, c) = s
        .get(&format!("/api/v1/runs/{id}/metrics/m?format=columns"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(c["steps"], json!([0, 1, 7]));
    assert_eq!(c["timestamps"], json!([10, 11, 12]));
    assert_eq!(c["values"], json!([0.5, "NaN", "-Infinity"]));
    assert_eq!(
        (c["total"].clone(), c["downsampled"].clone()),
        (json!(3), json!(false))
    );

    let r = s
        .client
        .get(s.url(&format!("/api/v1/runs/{id}/metrics/m?format=binary")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/octet-stream");
    assert_eq!(
        r.headers()["x-runlore-layout"],
        "step:i64le,timestamp:i64le,value:f64le"
    );
    assert_eq!(r.headers()["x-runlore-total"], "3");
    let body = r.bytes().await.unwrap();
    assert_eq!(body.len(), 3 * 24);
    let field = |i: usize, f: usize| -> [u8; 8] {
        body[i * 24 + f * 8..i * 24 + f * 8 + 8].try_into().unwrap()
    };
    assert_eq!(i64::from_le_bytes(field(2, 0)), 7);
    assert_eq!(i64::from_le_bytes(field(2, 1)), 12);
    assert!(f64::from_le_bytes(field(1, 2)).is_nan());
    assert_eq!(f64::from_le_bytes(field(2, 2)), f64::NEG_INFINITY);

    let (status, e) = s
        .get(&format!("/api/v1/runs/{id}/metrics/m?format=csv"))
        .await;
    assert_eq!(status, 400, "{e}");
    s.stop().await;
}

#[tokio::test]
async fn features_are_diffed_against_the_primary_parent() {
    let s = TestServer::start().await;
    let base = json!({"model": {"lr": 0.1, "layers": [64, 64], "kl": {"weight": 1.0}}, "seed": 1});
    let root = s
        .new_run(json!({"project": "g", "name": "8_base", "features": base}))
        .await;
    let child_features =
        json!({"model": {"lr": 0.01, "layers": [64, 64], "kl": {"weight": 1.0}}, "seed": 1});
    let child = s
        .new_run(
            json!({"project": "g", "name": "12_from_8_lr", "features": child_features,
                        "parents": [{"run_id": root}]}),
        )
        .await;
    let (status, f) = s.get(&format!("/api/v1/runs/{child}/features")).await;
    assert_eq!(status, 200, "{f}");
    assert_eq!(f["full"], child_features);
    assert_eq!(
        f["diff"],
        json!([{"op": "replace", "path": "/model/lr", "value": 0.01}])
    );
    assert_eq!(
        f["parents"],
        json!([{"run_id": root, "kind": "derived_from"}])
    );
    let (_, f) = s.get(&format!("/api/v1/runs/{root}/features")).await;
    assert_eq!(f["full"], base);
    assert_eq!(f["parents"], json!([]));

    // Any two runs can be diffed, in either direction.
    let (status, d) = s.get(&format!("/api/v1/runs/{child}/diff/{root}")).await;
    assert_eq!(status, 200);
    assert_eq!(
        d["diff"],
        json!([{"op": "replace", "path": "/model/lr", "value": 0.1}])
    );

    // Bad input: nothing is stored.
    for (body, status) in [
        (
            json!({"project": "g", "name": "x", "features": [1, 2]}),
            400,
        ),
        (
            json!({"project": "g", "name": "x", "parents": [{"run_id": "0123456789abcdef0123456789abcdef"}]}),
            404,
        ),
        (
            json!({"project": "other", "name": "x", "parents": [{"run_id": root}]}),
            400,
        ),
        (
            json!({"project": "g", "name": "x", "parents": [{"run_id": root, "kind": "resumed_from"}]}),
            400,
        ),
        (
            json!({"project": "g", "name": "x", "parents": [{"run_id": root, "kind": "sideways"}]}),
            400,
        ),
    ] {
        let (got, e) = s.post("/api/v1/runs", body.clone()).await;
        assert_eq!(got, status, "{body}: {e}");
    }
    let (_, page) = s.get("/api/v1/runs?project=g").await;
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    s.stop().await;
}

#[tokio::test]
async fn reparenting_recomputes_the_diff_and_refuses_cycles() {
    let s = TestServer::start().await;
    let a = s
        .new_run(json!({"project": "g", "name": "a", "features": {"lr": 0.1, "depth": 12}}))
        .await;
    let b = s
        .new_run(json!({"project": "g", "name": "b", "features": {"lr": 0.5, "depth": 24}}))
        .await;
    let c = s
        .new_run(
            json!({"project": "g", "name": "c", "features": {"lr": 0.01, "depth": 12},
                        "parents": [{"run_id": a}]}),
        )
        .await;
    let d = s
        .new_run(
            json!({"project": "g", "name": "d", "features": {"lr": 0.01, "depth": 12, "kl": 1},
                        "parents": [{"run_id": c}]}),
        )
        .await;
    let put = |id: String, body: Value| {
        let s = &s;
        async move {
            let r = s
                .client
                .put(s.url(&format!("/api/v1/runs/{id}/parents")))
                .json(&body)
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            (status, r.json::<Value>().await.unwrap())
        }
    };
    // c moves from a to b: its diff is now against b; d keeps its own.
    let (status, f) = put(
        c.clone(),
        json!({"parents": [{"run_id": b, "kind": "ablation_of"}], "changed_by": "ada"}),
    )
    .await;
    assert_eq!(status, 200, "{f}");
    assert_eq!(f["full"], json!({"lr": 0.01, "depth": 12}));
    let ops: Vec<&str> = f["diff"]
        .as_array()
        .unwrap()
        .iter()
        .map(|op| op["path"].as_str().unwrap())
        .collect();
    assert_eq!(ops.len(), 2, "{f}");
    assert!(ops.contains(&"/lr") && ops.contains(&"/depth"));
    assert_eq!(f["parents"], json!([{"run_id": b, "kind": "ablation_of"}]));
    let (_, fd) = s.get(&format!("/api/v1/runs/{d}/features")).await;
    assert_eq!(
        fd["diff"],
        json!([{"op": "add", "path": "/kl", "value": 1}])
    );

    // A descendant as parent would close a cycle; nothing changes.
    let (status, e) = put(c.clone(), json!({"parents": [{"run_id": d}]})).await;
    assert_eq!(status, 400, "{e}");
    assert!(
        e["error"]["message"].as_str().unwrap().contains("cycle"),
        "{e}"
    );
    let (status, _) = put(c.clone(), json!({"parents": [{"run_id": c}]})).await;
    assert_eq!(status, 400);
    let other = s.new_run(json!({"project": "elsewhere"})).await;
    let (status, _) = put(c.clone(), json!({"parents": [{"run_id": other}]})).await;
    assert_eq!(status, 400);
    let (_, f) = s.get(&format!("/api/v1/runs/{c}/features")).await;
    assert_eq!(f["parents"], json!([{"run_id": b, "kind": "ablation_of"}]));

    // No parents: a root again, diffed against {}.
    let (status, f) = put(c.clone(), json!({"parents": []})).await;
    assert_eq!(status, 200);
    assert_eq!(f["diff"].as_array().unwrap().len(), 2);

    // Both accepted changes are on record, with who and when; the refused
    // ones left no trace.
    let (status, p) = s.get(&format!("/api/v1/runs/{c}/parents")).await;
    assert_eq!(status, 200, "{p}");
    assert_eq!(p["parents"], json!([]));
    let changes = p["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 2, "{p}");
    assert_eq!(
        changes[0]["old_parents"],
        json!([{"run_id": a, "kind": "derived_from"}])
    );
    assert_eq!(
        changes[0]["new_parents"],
        json!([{"run_id": b, "kind": "ablation_of"}])
    );
    assert_eq!(changes[0]["changed_by"], "ada");
    assert_eq!(changes[1]["changed_by"], "unknown");
    assert!(
        changes[1]["changed_at"].as_i64().unwrap() >= changes[0]["changed_at"].as_i64().unwrap()
    );
    s.stop().await;
}

#[tokio::test]
async fn lineage_graph_and_differing_feature_paths() {
    let s = TestServer::start().await;
    let run = |name: &str, features: Value, parents: Value| {
        let s = &s;
        let body =
            json!({"project": "dag", "name": name, "features": features, "parents": parents});
        async move { s.new_run(body).await }
    };
    let a = run("a", json!({"lr": 0.1, "depth": 12}), json!([])).await;
    let b = run(
        "b",
        json!({"lr": 0.01, "depth": 12}),
        json!([{"run_id": a}]),
    )
    .await;
    let c = run("c", json!({"lr": 0.1, "depth": 24}), json!([{"run_id": a}])).await;
    let m = run(
        "m",
        json!({"lr": 0.01, "depth": 24}),
        json!([{"run_id": b}, {"run_id": c, "kind": "merged_from"}]),
    )
    .await;
    let r = run(
        "r",
        json!({"lr": 0.01, "depth": 24}),
        json!([{"run_id": m, "kind": "resumed_from", "resume_step": 500}]),
    )
    .await;
    s.post(
        &format!("/api/v1/runs/{m}/log"),
        json!({"metrics": [{"key": "acc", "value": 0.9, "step": 1}]}),
    )
    .await;

    let (status, up) = s.get(&format!("/api/v1/runs/{r}/ancestors")).await;
    assert_eq!(status, 200, "{up}");
    let depth_of = |g: &Value, id: &str| {
        g["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["id"] == id)
            .map(|n| n["depth"].as_u64().unwrap())
    };
    assert_eq!(depth_of(&up, &r), Some(0));
    assert_eq!(depth_of(&up, &m), Some(1));
    assert_eq!(depth_of(&up, &b), Some(2));
    assert_eq!(depth_of(&up, &c), Some(2));
    assert_eq!(
        depth_of(&up, &a),
        Some(3),
        "a is reached twice, nearest wins"
    );
    assert_eq!(up["edges"].as_array().unwrap().len(), 5);
    let (_, near) = s.get(&format!("/api/v1/runs/{r}/ancestors?depth=1")).await;
    assert_eq!(near["nodes"].as_array().unwrap().len(), 2);

    let (_, down) = s.get(&format!("/api/v1/runs/{a}/descendants")).await;
    assert_eq!(down["nodes"].as_array().unwrap().len(), 5);
    assert_eq!(depth_of(&down, &r), Some(3));

    let (status, g) = s.get("/api/v1/projects/dag/graph").await;
    assert_eq!(status, 200);
    assert_eq!(g["nodes"].as_array().unwrap().len(), 5);
    let merge = g["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["id"] == m.as_str())
        .unwrap();
    assert_eq!(merge["metrics"]["acc"], 0.9);
    assert_eq!(merge["status"], "RUNNING");
    let resumed = g["edges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["child"] == r.as_str())
        .unwrap();
    assert_eq!(resumed["kind"], "resumed_from");
    assert_eq!(resumed["resume_step"], 500);
    let (status, _) = s.get("/api/v1/projects/nope/graph").await;
    assert_eq!(status, 404);

    let (status, d) = s
        .post(
            "/api/v1/runs/features/differing",
            json!({"run_ids": [a, b, c]}),
        )
        .await;
    assert_eq!(status, 200, "{d}");
    assert_eq!(d["paths"], json!(["/depth", "/lr"]));
    let (_, d) = s
        .post(
            "/api/v1/runs/features/differing",
            json!({"run_ids": [m, r]}),
        )
        .await;
    assert_eq!(d["paths"], json!([]));
    s.stop().await;
}

#[tokio::test]
async fn naming_rule_finds_parents_and_refuses_bad_names() {
    let s = TestServer::start().await;
    s.post("/api/v1/projects", json!({"name": "named"})).await;
    let put = |body: Value| {
        let s = &s;
        async move {
            let r = s
                .client
                .patch(s.url("/api/v1/projects/named/settings"))
                .json(&body)
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            (status, r.json::<Value>().await.unwrap())
        }
    };
    // Bad rules are refused and change nothing.
    let (status, e) =
        put(json!({"naming": {"pattern": "(?P<id>\\d+", "parent_from": "group"}})).await;
    assert_eq!(status, 400, "{e}");
    let (status, e) =
        put(json!({"naming": {"pattern": "(?P<id>\\d+)_.*", "parent_from": "group"}})).await;
    assert_eq!(status, 400);
    assert!(
        e["error"]["message"].as_str().unwrap().contains("'parent'"),
        "{e}"
    );
    let (_, got) = s.get("/api/v1/projects/named/settings").await;
    assert_eq!(got, json!({"naming": null, "key_metrics": []}));

    let rule = json!({"naming": {"pattern": "(?P<id>\\d+)_from_(?P<parent>\\d+)_.*",
                                 "parent_from": "group", "enforce": false}});
    let (status, got) = put(rule.clone()).await;
    assert_eq!((status, &got["naming"]), (200, &rule["naming"]));
    let base = s
        .new_run(json!({"project": "named", "name": "8_base"}))
        .await;
    let child = s
        .new_run(json!({"project": "named", "name": "12_from_8_lr"}))
        .await;
    let grandchild = s
        .new_run(json!({"project": "named", "name": "15_from_12_kl"}))
        .await;
    let (_, f) = s.get(&format!("/api/v1/runs/{child}/features")).await;
    assert_eq!(
        f["parents"],
        json!([{"run_id": base, "kind": "derived_from"}])
    );
    let (_, f) = s.get(&format!("/api/v1/runs/{grandchild}/features")).await;
    assert_eq!(f["parents"][0]["run_id"], child.as_str());
    // A name naming a parent that does not exist is refused.
    let (status, e) = s
        .post(
            "/api/v1/runs",
            json!({"project": "named", "name": "16_from_99_x"}),
        )
        .await;
    assert_eq!(status, 400, "{e}");

    // Enforced: names outside the pattern are refused.
    let mut enforced = rule.clone();
    enforced["naming"]["enforce"] = json!(true);
    put(enforced).await;
    let (status, e) = s
        .post(
            "/api/v1/runs",
            json!({"project": "named", "name": "free-form"}),
        )
        .await;
    assert_eq!(status, 400, "{e}");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("does not match")
    );
    let (_, page) = s.get("/api/v1/runs?project=named").await;
    assert_eq!(page["items"].as_array().unwrap().len(), 3);
    s.stop().await;
}

#[tokio::test]
async fn features_set_after_creation_never_change() {
    let s = TestServer::start().await;
    let id = s.new_run(json!({"project": "f"})).await;
    let put = |body: Value| {
        let s = &s;
        let id = id.clone();
        async move {
            let r = s
                .client
                .put(s.url(&format!("/api/v1/runs/{id}/features")))
                .json(&body)
                .send()
                .await
                .unwrap();
            r.status().as_u16()
        }
    };
    assert_eq!(put(json!({"lr": 0.1})).await, 200);
    assert_eq!(
        put(json!({"lr": 0.1})).await,
        200,
        "the same tree again is fine"
    );
    assert_eq!(put(json!({"lr": 0.2})).await, 409);
    assert_eq!(put(json!([1])).await, 400);
    let (_, f) = s.get(&format!("/api/v1/runs/{id}/features")).await;
    assert_eq!(f["full"], json!({"lr": 0.1}));
    s.stop().await;
}

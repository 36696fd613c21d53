//! Input the native API used to take silently: unknown body fields and
//! query parameters (a typo that answered 200 and did something else),
//! `PUT` settings that erased what they left out, and a report that passed
//! HTML and Markdown from the run through. Every refusal is a 400 that
//! names the problem, and stores nothing. (Characters in names, keys and
//! values: tests/input_characters.rs.)
#![allow(clippy::unwrap_used)]

mod common;

use common::{TestServer, error_message};
use serde_json::{Value, json};

fn unknown_field_message(status: u16, body: &Value, field: &str) {
    let message = error_message(status, body, 400, "invalid_argument");
    assert!(
        message.contains(&format!("unknown field `{field}`, expected")),
        "the message names `{field}` and what is expected: {message}"
    );
}

#[tokio::test]
async fn misspelt_body_fields_are_refused_by_name_and_change_nothing() {
    let s = TestServer::start().await;
    // `projetc` used to create the run in `default`.
    let (status, body) = s
        .post("/api/v1/runs", json!({"projetc": "vision", "name": "typo"}))
        .await;
    unknown_field_message(status, &body, "projetc");
    let (_, runs) = s.get("/api/v1/runs").await;
    assert_eq!(runs["items"], json!([]), "no run was made anywhere");

    let run = s.new_run(json!({"project": "vision"})).await;
    // `metric` used to answer 200 with nothing written.
    let (status, body) = s
        .post(
            &format!("/api/v1/runs/{run}/log"),
            json!({"metric": [{"key": "loss", "value": 1.0}]}),
        )
        .await;
    unknown_field_message(status, &body, "metric");
    let (status, body) = s
        .post(
            &format!("/api/v1/runs/{run}/log"),
            json!({"metrics": [{"key": "loss", "value": 1.0, "stpe": 3}]}),
        )
        .await;
    unknown_field_message(status, &body, "stpe");
    let (_, keys) = s.get(&format!("/api/v1/runs/{run}/metrics")).await;
    assert_eq!(keys["keys"], json!([]), "nothing was logged");

    let (status, body) = s
        .patch(&format!("/api/v1/runs/{run}"), json!({"stauts": "FAILED"}))
        .await;
    unknown_field_message(status, &body, "stauts");
    let (_, got) = s.get(&format!("/api/v1/runs/{run}")).await;
    assert_eq!(got["status"], "RUNNING");

    let (status, body) = s
        .post("/api/v1/projects", json!({"name": "p2", "descripton": "x"}))
        .await;
    unknown_field_message(status, &body, "descripton");
    assert_eq!(s.get("/api/v1/projects/p2").await.0, 404);

    let (status, body) = s
        .put(
            &format!("/api/v1/runs/{run}/parents"),
            json!({"parents": [{"run_id": run, "knd": "ablation_of"}]}),
        )
        .await;
    unknown_field_message(status, &body, "knd");

    // One request per remaining body type; each field is a near miss.
    let cases = [
        (
            "/api/v1/experiments",
            json!({"project": "vision", "name": "e", "tag": {}}),
        ),
        ("/api/v1/runs/search", json!({"filtr": "metrics.loss < 1"})),
        (
            "/api/v1/runs/metric-summaries",
            json!({"run_ids": [run], "key": ["loss"]}),
        ),
        (
            "/api/v1/runs/features/differing",
            json!({"run_ids": [run, run], "all": true}),
        ),
        ("/api/v1/runs/features/batch", json!({"run_id": [run]})),
        ("/api/v1/admin/gc", json!({"aply": true})),
        ("/api/v1/lineage/verify", json!({"runs": run})),
    ];
    for (path, body) in cases {
        let field = body
            .as_object()
            .unwrap()
            .keys()
            .find(|k| !["project", "name", "run_ids"].contains(&k.as_str()));
        let (status, answer) = s.post(path, body.clone()).await;
        unknown_field_message(status, &answer, field.unwrap());
    }
    let (_, exps) = s.get("/api/v1/experiments?project=vision").await;
    assert!(
        exps["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["name"] != "e"),
        "{exps}"
    );
    s.stop().await;
}

#[tokio::test]
async fn unknown_query_parameters_are_refused_by_name() {
    let s = TestServer::start().await;
    let run = s.new_run(json!({"project": "q"})).await;
    let points = json!({"metrics": [{"key": "loss", "value": 1.0, "step": 0}]});
    assert_eq!(
        s.post(&format!("/api/v1/runs/{run}/log"), points).await.0,
        200
    );
    for (path, param) in [
        ("/api/v1/projects?veiw=all".to_owned(), "veiw"),
        ("/api/v1/experiments?projet=q".to_owned(), "projet"),
        (
            format!("/api/v1/runs/{run}/metrics/loss?max_point=10"),
            "max_point",
        ),
        (format!("/api/v1/runs/{run}/ancestors?dept=2"), "dept"),
        (format!("/api/v1/lineage?run={run}&formt=prov-n"), "formt"),
        (
            format!("/api/v1/runs/{run}/artifacts?recursiv=true"),
            "recursiv",
        ),
        ("/api/v1/runs?projcet=q".to_owned(), "projcet"),
    ] {
        let (status, body) = s.get(&path).await;
        let message = error_message(status, &body, 400, "invalid_argument");
        assert!(message.contains(param), "{path}: {message}");
    }
    // What the UI and the CLI send still works.
    for path in [
        "/api/v1/projects?view=all".to_owned(),
        "/api/v1/experiments?project=q&view=active&limit=5".to_owned(),
        format!(
            "/api/v1/runs/{run}/metrics/loss?max_points=10&start_step=0&end_step=9&format=columns"
        ),
        format!("/api/v1/runs/{run}/descendants?depth=1"),
        format!("/api/v1/lineage?run={run}&format=prov-json"),
        format!("/api/v1/runs/{run}/artifacts?path=&recursive=true"),
    ] {
        let (status, body) = s.get(&path).await;
        assert_eq!(status, 200, "{path}: {body}");
    }
    s.stop().await;
}

#[tokio::test]
async fn settings_put_needs_every_field_and_patch_changes_only_what_it_names() {
    let s = TestServer::start().await;
    s.post("/api/v1/projects", json!({"name": "st"})).await;
    let path = "/api/v1/projects/st/settings";
    let (_, empty) = s.get(path).await;
    assert_eq!(
        empty,
        json!({"naming": null, "key_metrics": []}),
        "every field is shown"
    );
    let full = json!({
        "naming": {"pattern": "(?P<id>\\d+)_.*", "parent_from": "explicit", "enforce": true},
        "key_metrics": [{"key": "val_loss", "direction": "min", "aggregation": "best"}]
    });
    let (status, saved) = s.put(path, full.clone()).await;
    assert_eq!((status, &saved), (200, &full));

    // The typo of the issue: it used to answer 200 and erase both settings.
    let (status, body) = s
        .put(
            path,
            json!({"key_metric": [{"key": "acc", "direction": "max"}]}),
        )
        .await;
    unknown_field_message(status, &body, "key_metric");
    let (status, body) = s.patch(path, json!({"namig": null})).await;
    unknown_field_message(status, &body, "namig");
    let (status, body) = s
        .patch(path, json!({"naming": {"pattern": "x", "enforced": false}}))
        .await;
    unknown_field_message(status, &body, "enforced");
    // A PUT that leaves a field out is refused, naming it.
    let (status, body) = s.put(path, json!({"key_metrics": []})).await;
    let message = error_message(status, &body, 400, "invalid_argument");
    assert!(message.contains("missing: naming"), "{message}");
    assert!(
        message.contains("PATCH"),
        "says how to change only some: {message}"
    );
    assert_eq!(s.get(path).await.1, full, "refused changes change nothing");

    // PATCH keeps what it does not name; null clears.
    let (status, got) = s
        .patch(
            path,
            json!({"key_metrics": [{"key": "acc", "direction": "max"}]}),
        )
        .await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(got["naming"], full["naming"]);
    assert_eq!(got["key_metrics"][0]["key"], "acc");
    let (_, got) = s.patch(path, json!({"naming": null})).await;
    assert_eq!(got["naming"], Value::Null);
    assert_eq!(got["key_metrics"][0]["key"], "acc");
    assert_eq!(s.get(path).await.1, got);
    // GET → edit → PUT round-trips.
    let mut edited = got.clone();
    edited["key_metrics"] = json!([]);
    let (status, replaced) = s.put(path, edited.clone()).await;
    assert_eq!((status, replaced), (200, edited));
    assert_eq!(
        s.patch("/api/v1/projects/nope/settings", json!({})).await.0,
        404
    );

    // The OpenAPI document says so too, for generated clients and fuzzers.
    let (_, doc) = s.get("/api/v1/openapi.json").await;
    assert!(doc["paths"]["/api/v1/projects/{name}/settings"]["patch"].is_object());
    for schema in ["SettingsUpdate", "NewRun", "LogBatch", "MetricPoint"] {
        let found = &doc["components"]["schemas"][schema];
        assert_eq!(found["additionalProperties"], false, "{schema}: {found}");
    }
    s.stop().await;
}

#[tokio::test]
async fn the_report_escapes_html_and_markdown_from_the_run() {
    let s = TestServer::start().await;
    let run = s
        .new_run(json!({
            "project": "rep",
            "name": "<script>alert(1)</script>",
            "tags": {"x": "<img src=x onerror=alert(2)>", "pic": "![x](http://evil.example/p.png)"},
            "params": {"cmd": "[go](javascript:alert(3))"}
        }))
        .await;
    let response = s
        .client
        .get(s.url(&format!("/api/v1/runs/{run}/report")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let md = response.text().await.unwrap();
    for needle in ["<script", "<img", "![", "[go]"] {
        assert!(!md.contains(needle), "{needle} in:\n{md}");
    }
    assert!(
        md.contains("# Run &lt;script&gt;alert(1)&lt;/script&gt;"),
        "{md}"
    );
    assert!(
        md.contains(r"pic=!\[x\](http://evil.example/p.png)"),
        "{md}"
    );
    assert!(
        md.contains(r"| cmd | \[go\](javascript:alert(3)) |"),
        "{md}"
    );
    s.stop().await;
}

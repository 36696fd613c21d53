//! Names, keys and values holding control or invisible characters (NUL,
//! bidi overrides, zero-width spaces), through the native API and the
//! MLflow API: a 400 that names the code point, and nothing stored.
#![allow(clippy::unwrap_used)]

mod common;

use common::{TestServer, error_message};
use serde_json::{Value, json};

const RLO: char = '\u{202e}';

#[tokio::test]
async fn native_names_keys_and_values_refuse_control_and_invisible_characters() {
    let s = TestServer::start().await;
    let run = s.new_run(json!({"project": "chars"})).await;
    let refused = [
        (
            "/api/v1/runs",
            json!({"project": "chars", "name": format!("evil{RLO}gpj.exe")}),
            "U+202E",
        ),
        (
            "/api/v1/runs",
            json!({"project": "chars", "tags": {"note": "cut\u{0}here"}}),
            "NUL",
        ),
        (
            "/api/v1/runs",
            json!({"project": "chars", "experiment": "e\u{200b}"}),
            "U+200B",
        ),
        (
            "/api/v1/experiments",
            json!({"project": "chars", "name": format!("a{RLO}b")}),
            "U+202E",
        ),
        (
            &*format!("/api/v1/runs/{run}/log"),
            json!({"tags": {"t": "a\u{0}b"}}),
            "value of tag 't'",
        ),
        (
            &*format!("/api/v1/runs/{run}/log"),
            json!({"params": {"p": "\u{0}"}}),
            "value of param 'p'",
        ),
        (
            &*format!("/api/v1/runs/{run}/log"),
            json!({"params": {"l\u{2066}r": "1"}}),
            "param key",
        ),
        (
            &*format!("/api/v1/runs/{run}/log"),
            json!({"metrics": [{"key": "lo\u{0}ss", "value": 1}]}),
            "metrics[0]",
        ),
    ];
    for (path, body, needle) in refused {
        let (status, answer) = s.post(path, body.clone()).await;
        let message = error_message(status, &answer, 400, "invalid_argument");
        assert!(message.contains(needle), "{body}: {message}");
        assert!(
            !message.contains(RLO) && !message.contains('\0'),
            "the message hides nothing: {message}"
        );
    }
    let (status, answer) = s
        .patch(
            &format!("/api/v1/runs/{run}"),
            json!({"name": format!("x{RLO}")}),
        )
        .await;
    error_message(status, &answer, 400, "invalid_argument");

    // Nothing of it was stored.
    let (_, runs) = s.get("/api/v1/runs?project=chars").await;
    assert_eq!(runs["items"].as_array().unwrap().len(), 1, "{runs}");
    let (_, got) = s.get(&format!("/api/v1/runs/{run}")).await;
    assert_eq!(
        (&got["tags"], &got["params"]),
        (&json!({}), &json!({})),
        "{got}"
    );
    assert_eq!(
        s.get(&format!("/api/v1/runs/{run}/metrics")).await.1["keys"],
        json!([])
    );
    let (_, exps) = s.get("/api/v1/experiments?project=chars").await;
    assert!(
        exps["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["name"] == "Default"),
        "{exps}"
    );

    // Values may hold tabs, newlines and any Unicode; names any printable text.
    let note = "line 1\n\tline 2\r\n\u{202e} is fine in a value";
    let batch = json!({"tags": {"note": note}, "params": {"cmd": "a\tb"}});
    assert_eq!(
        s.post(&format!("/api/v1/runs/{run}/log"), batch).await.0,
        200
    );
    let named = s
        .new_run(json!({"project": "chars", "name": "trial #3 (lr=1e-3) ✓ 学习"}))
        .await;
    assert_eq!(
        s.get(&format!("/api/v1/runs/{run}")).await.1["tags"]["note"],
        note
    );
    assert_eq!(
        s.get(&format!("/api/v1/runs/{named}")).await.1["name"],
        "trial #3 (lr=1e-3) ✓ 学习"
    );
    s.stop().await;
}

fn mlflow_refusal(status: u16, body: &Value) -> String {
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error_code"], "INVALID_PARAMETER_VALUE", "{body}");
    body["message"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn mlflow_names_keys_and_values_refuse_control_and_invisible_characters() {
    let s = TestServer::start().await;
    let api = "/api/2.0/mlflow";
    let (status, body) = s
        .post(
            &format!("{api}/experiments/create"),
            json!({"name": format!("exp{RLO}")}),
        )
        .await;
    assert!(mlflow_refusal(status, &body).contains("U+202E"), "{body}");
    let (status, body) = s
        .get(&format!(
            "{api}/experiments/get-by-name?experiment_name=exp%E2%80%AE"
        ))
        .await;
    assert_eq!(status, 404, "not created: {body}");

    let (status, body) = s
        .post(
            &format!("{api}/runs/create"),
            json!({"experiment_id": "0", "run_name": format!("r{RLO}un")}),
        )
        .await;
    assert!(mlflow_refusal(status, &body).contains("U+202E"), "{body}");
    let (_, found) = s
        .post(
            &format!("{api}/runs/search"),
            json!({"experiment_ids": ["0"]}),
        )
        .await;
    assert!(found.get("runs").is_none(), "no run was made: {found}");

    let (_, created) = s
        .post(&format!("{api}/runs/create"), json!({"experiment_id": "0"}))
        .await;
    let run = created["run"]["info"]["run_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let refused = [
        (
            "runs/set-tag",
            json!({"run_id": run, "key": "t", "value": "a\u{0}b"}),
            "NUL",
        ),
        (
            "runs/log-parameter",
            json!({"run_id": run, "key": "p", "value": "\u{0}"}),
            "NUL",
        ),
        (
            "runs/set-tag",
            json!({"run_id": run, "key": "t\u{200b}", "value": "v"}),
            "tag key",
        ),
        (
            "runs/log-batch",
            json!({"run_id": run, "params": [{"key": "ok", "value": "1"}, {"key": "bad", "value": "x\u{0}"}]}),
            "NUL",
        ),
        (
            "runs/update",
            json!({"run_id": run, "run_name": format!("n{RLO}")}),
            "U+202E",
        ),
    ];
    for (route, body, needle) in refused {
        let (status, answer) = s.post(&format!("{api}/{route}"), body.clone()).await;
        assert!(
            mlflow_refusal(status, &answer).contains(needle),
            "{route} {body}: {answer}"
        );
    }
    let (_, got) = s.get(&format!("/api/v1/runs/{run}")).await;
    assert_eq!(
        got["params"],
        json!({}),
        "a refused batch stores nothing: {got}"
    );
    assert!(got["tags"].get("t").is_none(), "{got}");
    assert!(!got["name"].as_str().unwrap().contains(RLO), "{got}");
    s.stop().await;
}

"""Errors the client (or a raw caller) meets: codes, statuses, never 5xx."""

import pytest

from compat import error_code

INVALID = "INVALID_PARAMETER_VALUE"
MISSING_RUN = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def run_id(client, experiment_id):
    return client.create_run(experiment_id).info.run_id


def expect(response, status, code):
    assert response.status_code == status, f"{response.status_code}: {response.text[:300]}"
    assert error_code(response) == code, response.text[:300]
    assert response.json().get("message")


def metric(i, key="m"):
    return {"key": key, "value": float(i), "timestamp": 1, "step": i}


@pytest.mark.parametrize(
    "batch",
    [
        {"metrics": [metric(i) for i in range(1001)]},
        {"params": [{"key": f"p{i}", "value": "v"} for i in range(101)]},
        {"tags": [{"key": f"t{i}", "value": "v"} for i in range(101)]},
        {"metrics": [metric(i) for i in range(1000)], "tags": [{"key": "t", "value": "v"}]},
        {"params": [{"key": "dup", "value": "1"}, {"key": "dup", "value": "1"}]},
        {"params": [{"key": "k" * 251, "value": "v"}]},
        {"metrics": [metric(0, key="m" * 251)]},
        {"params": [{"key": "bad key!?", "value": "v"}]},
        {"metrics": [metric(0, key="../etc")]},
    ],
)
def test_bad_batches(api, run_id, batch):
    expect(api.post("runs/log-batch", {"run_id": run_id, **batch}), 400, INVALID)


def test_batch_limits_are_inclusive(api, run_id):
    body = {"run_id": run_id, "metrics": [metric(i) for i in range(1000)]}
    assert api.post("runs/log-batch", body).status_code == 200
    body = {"run_id": run_id, "params": [{"key": f"p{i}", "value": "v"} for i in range(100)],
            "tags": [{"key": f"t{i}", "value": "v"} for i in range(100)]}
    assert api.post("runs/log-batch", body).status_code == 200
    assert api.post("runs/log-batch", {"run_id": run_id}).status_code == 200


def test_unknown_run_is_404(api):
    expect(api.get("runs/get", {"run_id": MISSING_RUN}), 404, "RESOURCE_DOES_NOT_EXIST")
    body = {"run_id": MISSING_RUN, "key": "m", "value": 1.0, "timestamp": 1}
    expect(api.post("runs/log-metric", body), 404, "RESOURCE_DOES_NOT_EXIST")
    expect(api.post("runs/delete", {"run_id": MISSING_RUN}), 404, "RESOURCE_DOES_NOT_EXIST")


def test_unknown_experiment(api):
    expect(api.get("experiments/get", {"experiment_id": "987654321"}), 404,
           "RESOURCE_DOES_NOT_EXIST")
    expect(api.get("experiments/get-by-name", {"experiment_name": "no such thing at all"}),
           404, "RESOURCE_DOES_NOT_EXIST")
    expect(api.get("experiments/get", {"experiment_id": "not-a-number"}), 400, INVALID)


def test_experiment_id_as_json_number(api, experiment_id):
    expect(api.post("runs/create", {"experiment_id": int(experiment_id)}), 400, INVALID)


def test_run_uuid_alone_is_accepted(api, run_id):
    body = {"run_uuid": run_id, "key": "legacy", "value": 1.5, "timestamp": 1, "step": 0}
    assert api.post("runs/log-metric", body).status_code == 200
    got = api.get("runs/get", {"run_uuid": run_id}).json()["run"]
    assert got["info"]["run_id"] == got["info"]["run_uuid"] == run_id
    assert got["data"]["metrics"] == [{"key": "legacy", "value": 1.5, "timestamp": 1, "step": 0}]


def test_missing_required_fields(api, run_id):
    expect(api.get("runs/get"), 400, INVALID)
    expect(api.post("runs/log-metric", {"run_id": run_id, "key": "m", "value": 1.0}), 400, INVALID)
    expect(api.post("experiments/create", {}), 400, INVALID)
    expect(api.post("experiments/create", {"name": ""}), 400, INVALID)


@pytest.mark.parametrize("flt", ["bogus.x = 'y'", "(((", "params.x = 'y' OR"])
def test_bad_filter(api, experiment_id, flt):
    body = {"experiment_ids": [experiment_id], "filter": flt, "max_results": 10}
    expect(api.post("runs/search", body), 400, INVALID)


@pytest.mark.reference_deviation("MLflow ignores a trailing AND")
def test_dangling_and_is_refused(api, experiment_id):
    body = {"experiment_ids": [experiment_id], "filter": "metrics.acc > 0.5 and", "max_results": 10}
    response = api.post("runs/search", body)
    expect(response, 400, INVALID)
    assert "at character" in response.json()["message"]


@pytest.mark.reference_deviation("MLflow has no OR; Runlore's filter language accepts it on every API")
def test_or_filter_is_accepted(client, experiment_id):
    run_a = client.create_run(experiment_id, run_name="or-a")
    run_b = client.create_run(experiment_id, run_name="or-b")
    client.create_run(experiment_id, run_name="or-c")
    client.log_param(run_a.info.run_id, "x", "y")
    client.log_metric(run_b.info.run_id, "acc", 0.9)
    found = client.search_runs([experiment_id], "metrics.acc > 0.5 OR params.x = 'y'")
    assert {r.info.run_id for r in found} == {run_a.info.run_id, run_b.info.run_id}


@pytest.mark.parametrize("path", ["runs/search", "experiments/search"])
def test_bad_paging(api, experiment_id, path):
    base = {"experiment_ids": [experiment_id]} if path == "runs/search" else {}
    expect(api.post(path, {**base, "max_results": 10, "page_token": "garbage!!"}), 400, INVALID)
    expect(api.post(path, {**base, "max_results": 0}), 400, INVALID)
    expect(api.post(path, {**base, "max_results": 50001}), 400, INVALID)
    assert api.post(path, {**base, "max_results": 50000}).status_code == 200


def test_artifact_paths_with_dot_dot(api, client, experiment_id, run_id):
    root = f"/api/2.0/mlflow-artifacts/artifacts/{experiment_id}/{run_id}/artifacts"
    for path in [f"{root}/../../escape.txt", f"{root}/%2E%2E/%2E%2E/escape.txt",
                 f"{root}/sub/..%2F..%2F..%2Fescape.txt"]:
        for method, body in [("PUT", b"x"), ("GET", b"")]:
            status, payload = api.raw(method, path, body)
            assert status == 400, (method, path, status, payload)
            assert payload and payload.get("error_code") == INVALID, (method, path, payload)
    expect(api.get("/api/2.0/mlflow-artifacts/artifacts", {"path": "../"}), 400, INVALID)
    expect(api.get("/api/2.0/mlflow-artifacts/artifacts",
                   {"path": f"{experiment_id}/{run_id}/artifacts/../../x"}), 400, INVALID)


def test_writes_to_deleted_run(api, client, run_id):
    client.delete_run(run_id)
    for path, body in [
        ("runs/log-metric", {"key": "m", "value": 1.0, "timestamp": 1}),
        ("runs/log-parameter", {"key": "p", "value": "1"}),
        ("runs/set-tag", {"key": "t", "value": "1"}),
        ("runs/log-batch", {"params": [{"key": "p", "value": "1"}]}),
    ]:
        expect(api.post(path, {"run_id": run_id, **body}), 400, INVALID)


def test_post_without_json_content_type(api, run_id):
    body = f'{{"run_id": "{run_id}", "key": "t", "value": "v"}}'
    response = api.post("runs/set-tag", data=body, headers={"Content-Type": "text/plain"})
    expect(response, 400, INVALID)
    response = api.post("runs/set-tag", data=body.encode(), headers={"Content-Type": ""})
    assert response.status_code == 400


def test_body_that_is_not_json(api):
    response = api.post("runs/log-metric", data="{not json",
                        headers={"Content-Type": "application/json"})
    expect(response, 400, INVALID)


def test_param_overwrite_raw(api, run_id):
    assert api.post("runs/log-parameter", {"run_id": run_id, "key": "lr", "value": "1"}).ok
    expect(api.post("runs/log-parameter", {"run_id": run_id, "key": "lr", "value": "2"}), 400,
           INVALID)


def test_delete_missing_tag_raw(api, run_id):
    expect(api.post("runs/delete-tag", {"run_id": run_id, "key": "nope"}), 404,
           "RESOURCE_DOES_NOT_EXIST")


@pytest.mark.reference_deviation("stores a JSON-number param value as an empty string")
def test_param_value_as_json_number_is_rejected(api, run_id):
    expect(api.post("runs/log-parameter", {"run_id": run_id, "key": "n", "value": 5}), 400,
           INVALID)

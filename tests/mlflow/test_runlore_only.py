"""What Runlore adds behind the MLflow API (skipped against the reference)."""

import hashlib
import uuid

import mlflow
import pytest

pytestmark = pytest.mark.runlore_only


def test_project_slash_experiment_lands_in_project(server, api):
    project = f"proj{uuid.uuid4().hex[:10]}"
    exp = mlflow.set_experiment(f"{project}/sweep")
    with mlflow.start_run(run_name="in-project") as run:
        mlflow.log_param("lr", "0.1")
        mlflow.log_metric("acc", 0.5)
    response = api.get("/api/v1/runs", {"project": project})
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert [r["id"] for r in items] == [run.info.run_id]
    assert items[0]["project"] == project
    assert items[0]["name"] == "in-project"
    assert items[0]["params"] == {"lr": "0.1"}
    # The MLflow view keeps the full name.
    assert mlflow.get_experiment(exp.experiment_id).name == f"{project}/sweep"


def test_plain_experiment_lands_in_default_project(api):
    name = f"plain-{uuid.uuid4().hex[:10]}"
    mlflow.set_experiment(name)
    with mlflow.start_run() as run:
        pass
    response = api.get("/api/v1/runs", {"project": "default", "experiment": name})
    assert response.status_code == 200, response.text
    assert [r["id"] for r in response.json()["items"]] == [run.info.run_id]


def test_same_file_from_two_runs_is_stored_once(server, client, experiment_id, tmp_path):
    payload = f"shared bytes {uuid.uuid4().hex}\n".encode() * 1000
    digest = hashlib.sha256(payload).hexdigest()
    src = tmp_path / "shared.bin"
    src.write_bytes(payload)
    runs = [client.create_run(experiment_id).info.run_id for _ in range(2)]
    for run_id in runs:
        client.log_artifact(run_id, str(src))
        client.log_artifact(run_id, str(src), artifact_path="again")
    for run_id in runs:
        out = client.download_artifacts(run_id, "again/shared.bin", str(tmp_path / run_id))
        assert open(out, "rb").read() == payload
    files = [p for p in server.data_dir.rglob("*") if p.is_file()]
    by_name = {p for p in files if digest[2:] in p.name}
    by_content = {p for p in files if p.stat().st_size == len(payload) and p.read_bytes() == payload}
    # One blob, named by its SHA-256 (sha256/ab/cdef…) and/or holding the bytes.
    assert len(by_name | by_content) == 1, sorted(by_name | by_content)


def test_nested_run_is_a_child_run_in_runlore(api):
    mlflow.set_experiment(f"nest-{uuid.uuid4().hex[:10]}")
    with mlflow.start_run(run_name="outer") as parent:
        with mlflow.start_run(run_name="inner", nested=True) as child:
            pass
    native = api.get(f"/api/v1/runs/{child.info.run_id}")
    assert native.status_code == 200, native.text
    assert native.json()["parent_run_id"] == parent.info.run_id
    assert api.get(f"/api/v1/runs/{parent.info.run_id}").json().get("parent_run_id") is None


def test_native_run_is_visible_to_the_mlflow_client(api, client):
    name = f"native-{uuid.uuid4().hex[:10]}"
    created = api.post("/api/v1/experiments", {"project": "default", "name": name})
    assert created.status_code == 201, created.text
    run = api.post("/api/v1/runs", {"project": "default", "experiment": name, "name": "from-native",
                                    "params": {"lr": "0.1"}, "tags": {"team": "vision"}})
    assert run.status_code == 201, run.text
    run_id = run.json()["id"]
    logged = api.post(f"/api/v1/runs/{run_id}/log", {"metrics": [
        {"key": "loss", "value": v, "step": s, "timestamp": 1000 + s} for s, v in enumerate([0.9, 0.5, 0.2])]})
    assert logged.status_code == 200, logged.text

    experiment = client.get_experiment_by_name(name)
    assert experiment is not None
    got = client.get_run(run_id)
    assert got.info.experiment_id == experiment.experiment_id
    assert got.info.run_name == "from-native"
    assert got.data.params == {"lr": "0.1"}
    assert got.data.metrics == {"loss": 0.2}
    assert got.data.tags["team"] == "vision"
    assert [m.value for m in client.get_metric_history(run_id, "loss")] == [0.9, 0.5, 0.2]
    found = client.search_runs([experiment.experiment_id], "params.lr = '0.1' AND metrics.loss < 0.3")
    assert [r.info.run_id for r in found] == [run_id]


def test_deleting_through_mlflow_shows_in_native_api(api, client, experiment_id):
    run_id = client.create_run(experiment_id).info.run_id
    client.delete_run(run_id)
    assert api.get(f"/api/v1/runs/{run_id}").json()["lifecycle"] == "deleted"
    restored = api.post(f"/api/v1/runs/{run_id}/restore")
    assert restored.status_code == 200, restored.text
    assert client.get_run(run_id).info.lifecycle_stage == "active"


@pytest.mark.parametrize("path", [
    "/api/2.0/mlflow/registered-models/search",
    "/api/3.0/mlflow/traces/search",
    "/ajax-api/3.0/mlflow/traces/search",
    "/api/2.0/mlflow-artifacts/mpu/create",
])
def test_unimplemented_endpoints_answer_json_404(api, path):
    for response in (api.get(path), api.post(path, {})):
        assert response.status_code == 404, (path, response.status_code, response.text[:200])
        assert response.json()["error_code"] == "ENDPOINT_NOT_FOUND"


def test_runlore_parent_tag_sets_the_dag_parent(api, client, experiment_id):
    base = client.create_run(experiment_id, run_name="8_base").info.run_id
    child = client.create_run(experiment_id, run_name="12_from_8",
                              tags={"runlore.parent": base}).info.run_id
    got = api.get(f"/api/v1/runs/{child}/features").json()
    assert got["parents"] == [{"run_id": base, "kind": "derived_from"}]
    later = client.create_run(experiment_id, run_name="13").info.run_id
    client.set_tag(later, "runlore.parent", child)
    assert api.get(f"/api/v1/runs/{later}/features").json()["parents"][0]["run_id"] == child
    # A cycle through the tag is refused like any bad input (400, not 500).
    response = api.post("runs/set-tag", {"run_id": base, "key": "runlore.parent", "value": later})
    assert response.status_code == 400, response.text
    bad = api.post("runs/set-tag", {"run_id": base, "key": "runlore.parent", "value": "nope"})
    assert bad.status_code == 400


def test_features_param_sets_the_run_features(api, client, experiment_id):
    import json as _json

    base = client.create_run(experiment_id, run_name="f-base").info.run_id
    client.log_param(base, "features", _json.dumps({"model": {"lr": 0.1, "depth": 12}}))
    child = client.create_run(experiment_id, run_name="f-child",
                              tags={"runlore.parent": base}).info.run_id
    client.log_batch(child, params=[__import__("mlflow").entities.Param(
        "features", _json.dumps({"model": {"lr": 0.01, "depth": 12}}))])
    got = api.get(f"/api/v1/runs/{child}/features").json()
    assert got["full"] == {"model": {"lr": 0.01, "depth": 12}}
    assert got["diff"] == [{"op": "replace", "path": "/model/lr", "value": 0.01}]
    # A "features" param that is not a JSON object stays a plain param.
    plain = client.create_run(experiment_id).info.run_id
    client.log_param(plain, "features", "resnet-50")
    assert api.get(f"/api/v1/runs/{plain}/features").json()["full"] == {}


# The artifact client surfaces a refused upload as the HTTP error itself.
_REFUSED = (mlflow.exceptions.MlflowException, __import__("requests").exceptions.HTTPError)


def test_features_artifact_sets_the_run_features(api, client, experiment_id):
    base = client.create_run(experiment_id, run_name="fa-base").info.run_id
    client.log_dict(base, {"model": {"lr": 0.1, "layers": [64, 32]}, "optim": "adam"},
                    "features.yaml")
    child = client.create_run(experiment_id, run_name="fa-child",
                              tags={"runlore.parent": base}).info.run_id
    client.log_dict(child, {"model": {"lr": 0.05, "layers": [64, 32]}, "optim": "adam"},
                    "features.json")
    got = api.get(f"/api/v1/runs/{child}/features").json()
    assert got["full"] == {"model": {"lr": 0.05, "layers": [64, 32]}, "optim": "adam"}
    assert got["diff"] == [{"op": "replace", "path": "/model/lr", "value": 0.05}]
    # The file stays an ordinary artifact too.
    assert [f.path for f in client.list_artifacts(base)] == ["features.yaml"]
    # The same features again are fine; different ones are refused, and the
    # refused file is not stored.
    client.log_dict(base, {"model": {"lr": 0.1, "layers": [64, 32]}, "optim": "adam"},
                    "features.yml")
    with pytest.raises(_REFUSED, match="cannot change"):
        client.log_dict(base, {"model": {"lr": 0.2}}, "features.json")
    assert "features.json" not in [f.path for f in client.list_artifacts(base)]
    # A features file that is not a mapping is refused with a clear reason;
    # the same name deeper in the tree is an ordinary file.
    plain = client.create_run(experiment_id).info.run_id
    with pytest.raises(_REFUSED, match="mapping at the root"):
        client.log_text(plain, "- a\n- b\n", "features.yaml")
    client.log_text(plain, "- a\n- b\n", "configs/features.yaml")
    assert api.get(f"/api/v1/runs/{plain}/features").json()["full"] == {}

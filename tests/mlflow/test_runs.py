"""Run lifecycle: start/end, statuses, resume, nesting, rename, delete/restore."""

import re
import time

import mlflow
import pytest
from mlflow.entities import ViewType

from compat import raises_code, unique


def test_start_and_end_run(client, experiment_id):
    before = int(time.time() * 1000)
    with mlflow.start_run(run_name="first", tags={"team": "x"}, description="about it") as run:
        run_id = run.info.run_id
        live = client.get_run(run_id)
        assert live.info.status == "RUNNING"
        assert live.info.end_time is None
    assert re.fullmatch(r"[0-9a-f]{32}", run_id)
    done = client.get_run(run_id)
    assert done.info.status == "FINISHED"
    assert done.info.experiment_id == experiment_id
    assert done.info.run_name == "first"
    assert done.info.lifecycle_stage == "active"
    assert done.info.start_time >= before - 5000
    assert done.info.end_time >= done.info.start_time
    assert done.info.artifact_uri == f"mlflow-artifacts:/{experiment_id}/{run_id}/artifacts"
    tags = done.data.tags
    assert tags["mlflow.runName"] == "first"
    assert tags["team"] == "x"
    assert tags["mlflow.note.content"] == "about it"
    assert tags["mlflow.source.type"] == "LOCAL"


@pytest.mark.parametrize("status", ["KILLED", "FAILED", "FINISHED"])
def test_end_run_with_status(client, experiment_id, status):
    run = mlflow.start_run()
    mlflow.end_run(status=status)
    assert client.get_run(run.info.run_id).info.status == status


def test_failing_context_manager_marks_failed(client, experiment_id):
    with pytest.raises(ZeroDivisionError):
        with mlflow.start_run() as run:
            1 / 0
    assert client.get_run(run.info.run_id).info.status == "FAILED"


def test_set_terminated(client, experiment_id):
    run = client.create_run(experiment_id)
    client.set_terminated(run.info.run_id, status="KILLED")
    info = client.get_run(run.info.run_id).info
    assert info.status == "KILLED" and info.end_time is not None


def test_resume_run(client, experiment_id):
    with mlflow.start_run() as run:
        mlflow.log_param("a", "1")
    first_end = client.get_run(run.info.run_id).info.end_time
    with mlflow.start_run(run_id=run.info.run_id) as resumed:
        assert resumed.info.run_id == run.info.run_id
        assert client.get_run(run.info.run_id).info.status == "RUNNING"
        mlflow.log_param("b", "2")
        time.sleep(0.01)
    after = client.get_run(run.info.run_id)
    assert after.info.status == "FINISHED"
    assert after.info.end_time >= first_end
    assert after.data.params == {"a": "1", "b": "2"}


def test_nested_runs(client, experiment_id):
    with mlflow.start_run(run_name="parent") as parent:
        with mlflow.start_run(run_name="child", nested=True) as child:
            assert mlflow.active_run().info.run_id == child.info.run_id
        assert mlflow.active_run().info.run_id == parent.info.run_id
    got = client.get_run(child.info.run_id)
    assert got.data.tags["mlflow.parentRunId"] == parent.info.run_id
    assert "mlflow.parentRunId" not in client.get_run(parent.info.run_id).data.tags
    children = client.search_runs(
        [experiment_id], f"tags.mlflow.parentRunId = '{parent.info.run_id}'"
    )
    assert [r.info.run_id for r in children] == [child.info.run_id]


def test_client_create_run_gets_run_name_tag(client, experiment_id):
    run = client.create_run(experiment_id, run_name="client-run", tags={"src": "client"})
    assert run.info.status == "RUNNING"
    assert run.info.run_name == "client-run"
    assert run.data.tags["mlflow.runName"] == "client-run"
    got = client.get_run(run.info.run_id)
    assert got.data.tags["mlflow.runName"] == "client-run"
    assert got.data.tags["src"] == "client"


def test_server_names_an_unnamed_run(client, experiment_id):
    run = client.create_run(experiment_id)
    got = client.get_run(run.info.run_id)
    assert got.info.run_name
    assert got.data.tags["mlflow.runName"] == got.info.run_name


def test_create_run_with_start_time(client, experiment_id):
    run = client.create_run(experiment_id, start_time=1234567)
    assert client.get_run(run.info.run_id).info.start_time == 1234567


def test_rename_run_updates_tag(client, experiment_id):
    run = client.create_run(experiment_id, run_name="before")
    client.update_run(run.info.run_id, name="after")
    got = client.get_run(run.info.run_id)
    assert got.info.run_name == "after"
    assert got.data.tags["mlflow.runName"] == "after"
    assert got.info.status == "RUNNING"
    found = client.search_runs([experiment_id], "attributes.run_name = 'after'")
    assert [r.info.run_id for r in found] == [run.info.run_id]


def test_update_run_status(client, experiment_id):
    run = client.create_run(experiment_id)
    client.update_run(run.info.run_id, status="SCHEDULED")
    assert client.get_run(run.info.run_id).info.status == "SCHEDULED"


def test_delete_and_restore_run(client, experiment_id):
    run = client.create_run(experiment_id, run_name="doomed")
    run_id = run.info.run_id
    client.delete_run(run_id)
    deleted = client.get_run(run_id)
    assert deleted.info.lifecycle_stage == "deleted"
    assert deleted.info.run_name == "doomed"

    def ids(view):
        return [r.info.run_id for r in client.search_runs([experiment_id], run_view_type=view)]

    assert run_id not in ids(ViewType.ACTIVE_ONLY)
    assert ids(ViewType.DELETED_ONLY) == [run_id]
    assert run_id in ids(ViewType.ALL)
    raises_code("INVALID_PARAMETER_VALUE", client.log_param, run_id, "p", "1")
    raises_code("INVALID_PARAMETER_VALUE", client.log_metric, run_id, "m", 1.0)
    raises_code("INVALID_PARAMETER_VALUE", client.set_tag, run_id, "t", "1")
    client.restore_run(run_id)
    assert client.get_run(run_id).info.lifecycle_stage == "active"
    client.log_param(run_id, "p", "1")
    assert run_id in ids(ViewType.ACTIVE_ONLY)


def test_unknown_run(client):
    missing = "0123456789abcdef0123456789abcdef"
    raises_code("RESOURCE_DOES_NOT_EXIST", client.get_run, missing)
    raises_code("RESOURCE_DOES_NOT_EXIST", client.delete_run, missing)
    raises_code("RESOURCE_DOES_NOT_EXIST", client.restore_run, missing)
    raises_code("RESOURCE_DOES_NOT_EXIST", client.log_param, missing, "p", "1")


def test_logging_to_finished_run_is_allowed(client, experiment_id):
    run = client.create_run(experiment_id)
    client.set_terminated(run.info.run_id)
    client.log_metric(run.info.run_id, "late", 1.0)
    client.set_tag(run.info.run_id, "late", "yes")
    got = client.get_run(run.info.run_id)
    assert got.data.metrics["late"] == 1.0
    assert got.info.status == "FINISHED"


def test_run_in_default_experiment(client):
    run = client.create_run("0", run_name=unique("in-default"))
    assert client.get_run(run.info.run_id).info.experiment_id == "0"
    client.delete_run(run.info.run_id)


def test_unknown_experiment_for_run(client):
    raises_code("RESOURCE_DOES_NOT_EXIST", client.create_run, "987654321")

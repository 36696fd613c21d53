"""Experiments: set/get/create/rename/delete/restore and experiment tags."""

import re

import mlflow
import pytest
from mlflow.exceptions import MlflowException

from compat import raises_code, unique


def test_default_experiment_exists(client):
    default = client.get_experiment("0")
    assert default.name == "Default"
    assert default.lifecycle_stage == "active"
    assert client.get_experiment_by_name("Default").experiment_id == "0"


def test_set_experiment_creates_then_reuses(server):
    name = unique("set-exp")
    created = mlflow.set_experiment(name)
    assert re.fullmatch(r"[0-9]+", created.experiment_id)
    assert created.name == name
    assert created.lifecycle_stage == "active"
    assert created.artifact_location == f"mlflow-artifacts:/{created.experiment_id}"
    assert created.creation_time > 0
    again = mlflow.set_experiment(name)
    assert again.experiment_id == created.experiment_id
    by_id = mlflow.set_experiment(experiment_id=created.experiment_id)
    assert by_id.name == name


def test_get_experiment_and_by_name(client):
    name = unique("get-exp")
    exp_id = client.create_experiment(name, tags={"proj": "b", "owner": "ada"})
    by_id = client.get_experiment(exp_id)
    by_name = client.get_experiment_by_name(name)
    assert by_id.experiment_id == by_name.experiment_id == exp_id
    assert by_id.name == name
    assert by_id.tags == {"proj": "b", "owner": "ada"}


def test_missing_experiment(client):
    assert client.get_experiment_by_name(unique("nope")) is None
    assert mlflow.get_experiment_by_name(unique("nope")) is None
    raises_code("RESOURCE_DOES_NOT_EXIST", client.get_experiment, "987654321")


def test_names_with_special_characters_round_trip(client):
    name = f"enc test a+b/c&d=\u00e9 100% {unique('x')}"
    exp_id = client.create_experiment(name)
    assert client.get_experiment_by_name(name).experiment_id == exp_id
    assert client.get_experiment(exp_id).name == name


def test_create_duplicate_name_fails(client):
    name = unique("dup")
    client.create_experiment(name)
    raises_code("RESOURCE_ALREADY_EXISTS", client.create_experiment, name)


def test_duplicate_of_deleted_experiment_fails(client):
    name = unique("dup-deleted")
    exp_id = client.create_experiment(name)
    client.delete_experiment(exp_id)
    raises_code("RESOURCE_ALREADY_EXISTS", client.create_experiment, name)


def test_rename(client):
    old, new = unique("old"), unique("new")
    exp_id = client.create_experiment(old)
    client.rename_experiment(exp_id, new)
    assert client.get_experiment(exp_id).name == new
    assert client.get_experiment_by_name(new).experiment_id == exp_id
    assert client.get_experiment_by_name(old) is None


def test_rename_to_existing_name_fails(client):
    a, b = unique("a"), unique("b")
    exp_a = client.create_experiment(a)
    client.create_experiment(b)
    with pytest.raises(MlflowException):
        client.rename_experiment(exp_a, b)
    assert client.get_experiment(exp_a).name == a


def test_delete_and_restore(client):
    name = unique("del")
    exp_id = client.create_experiment(name)
    client.delete_experiment(exp_id)
    assert client.get_experiment(exp_id).lifecycle_stage == "deleted"
    # get-by-name still finds a deleted experiment ...
    assert client.get_experiment_by_name(name).lifecycle_stage == "deleted"
    # ... and the client then refuses to make it active.
    with pytest.raises(MlflowException):
        mlflow.set_experiment(name)
    client.restore_experiment(exp_id)
    assert client.get_experiment(exp_id).lifecycle_stage == "active"
    assert mlflow.set_experiment(name).experiment_id == exp_id


def test_delete_unknown_experiment_is_404(client):
    raises_code("RESOURCE_DOES_NOT_EXIST", client.delete_experiment, "987654321")
    raises_code("RESOURCE_DOES_NOT_EXIST", client.restore_experiment, "987654321")


def test_create_run_in_deleted_experiment_fails(client):
    exp_id = client.create_experiment(unique("del-run"))
    client.delete_experiment(exp_id)
    raises_code("INVALID_PARAMETER_VALUE", client.create_run, exp_id)


def test_experiment_tags(client, experiment_id):
    client.set_experiment_tag(experiment_id, "note", "hello")
    mlflow.set_experiment_tag("fluent", "yes")  # the active experiment
    mlflow.set_experiment_tags({"a": "1", "b": "2"})
    assert client.get_experiment(experiment_id).tags == {
        "note": "hello", "fluent": "yes", "a": "1", "b": "2",
    }
    client.set_experiment_tag(experiment_id, "note", "changed")
    client.delete_experiment_tag(experiment_id, "a")
    tags = client.get_experiment(experiment_id).tags
    assert tags == {"note": "changed", "fluent": "yes", "b": "2"}


def test_artifact_location_is_kept_when_given(client):
    exp_id = client.create_experiment(unique("loc"), artifact_location="mlflow-artifacts:/custom-place")
    assert client.get_experiment(exp_id).artifact_location == "mlflow-artifacts:/custom-place"

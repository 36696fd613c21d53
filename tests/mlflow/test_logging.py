"""Params, metrics, tags, batches and dataset inputs."""

import math
import sys

import mlflow
import pandas as pd
from mlflow.entities import Metric, Param, RunTag

from compat import raises_code

FLOAT_MAX = sys.float_info.max


def test_params(client, experiment_id):
    with mlflow.start_run() as run:
        mlflow.log_param("lr", 0.01)
        mlflow.log_param("layers", 10)
        mlflow.log_param("none_val", None)
        mlflow.log_params({"optimizer": "adam", "dropout": 0.5, "clé": "välue ✓"})
    params = client.get_run(run.info.run_id).data.params
    assert params == {
        "lr": "0.01", "layers": "10", "none_val": "None",
        "optimizer": "adam", "dropout": "0.5", "clé": "välue ✓",
    }


def test_params_are_immutable(client, experiment_id):
    with mlflow.start_run() as run:
        mlflow.log_param("lr", "0.01")
        mlflow.log_param("lr", "0.01")  # same value: fine
        mlflow.log_params({"lr": "0.01"})
        exc = raises_code("INVALID_PARAMETER_VALUE", mlflow.log_param, "lr", "0.02")
        assert "0.01" in exc.message and "0.02" in exc.message
        raises_code("INVALID_PARAMETER_VALUE", mlflow.log_params, {"lr": "0.5"})
    assert client.get_run(run.info.run_id).data.params == {"lr": "0.01"}


def test_long_param_value_is_accepted(client, experiment_id):
    value = "x" * 7000
    with mlflow.start_run() as run:
        mlflow.log_param("long", value)
    stored = client.get_run(run.info.run_id).data.params["long"]
    assert value.startswith(stored) and len(stored) >= 6000


def test_metrics(client, experiment_id):
    with mlflow.start_run() as run:
        mlflow.log_metric("acc", 0.5, step=3)
        mlflow.log_metric("count", 3)
        mlflow.log_metrics({"loss": 0.25, "f1": 0.75}, step=7)
    got = client.get_run(run.info.run_id).data.metrics
    assert got == {"acc": 0.5, "count": 3.0, "loss": 0.25, "f1": 0.75}
    loss = client.get_metric_history(run.info.run_id, "loss")
    assert [(m.value, m.step) for m in loss] == [(0.25, 7)]
    assert loss[0].timestamp > 0


def test_nan_and_infinities(client, experiment_id, server):
    with mlflow.start_run() as run:
        mlflow.log_metric("nan", float("nan"))
        mlflow.log_metric("pinf", float("inf"))
        mlflow.log_metrics({"ninf": float("-inf"), "bnan": float("nan")})
    metrics = client.get_run(run.info.run_id).data.metrics
    assert math.isnan(metrics["nan"]) and math.isnan(metrics["bnan"])
    # The reference clamps infinities to the largest finite double; Runlore
    # keeps them (a diverged loss should read as infinite, not as 1.8e308).
    top = FLOAT_MAX if server.is_reference else math.inf
    assert metrics["pinf"] == top
    assert metrics["ninf"] == -top
    history = client.get_metric_history(run.info.run_id, "nan")
    assert len(history) == 1 and math.isnan(history[0].value)
    history = client.get_metric_history(run.info.run_id, "ninf")
    assert [m.value for m in history] == [-top]


def test_latest_value_rule(client, experiment_id):
    """The run shows the point with the highest step, then timestamp, then value."""
    run = client.create_run(experiment_id)
    run_id = run.info.run_id
    client.log_metric(run_id, "acc", 0.71, timestamp=1000, step=1)
    client.log_metric(run_id, "acc", 0.8, timestamp=1001, step=2)
    client.log_metric(run_id, "acc", 0.9, timestamp=2000, step=0)
    client.log_metric(run_id, "tie", 0.1, timestamp=5, step=4)
    client.log_metric(run_id, "tie", 0.3, timestamp=6, step=4)
    client.log_metric(run_id, "tie", 0.2, timestamp=6, step=4)
    client.log_metric(run_id, "neg", -5.0, timestamp=9, step=-3)
    metrics = client.get_run(run_id).data.metrics
    assert metrics["acc"] == 0.8
    assert metrics["tie"] == 0.3
    assert metrics["neg"] == -5.0

    def matches(flt):
        return [r.info.run_id for r in client.search_runs([experiment_id], flt)]

    assert matches("metrics.acc = 0.8") == [run_id]
    assert matches("metrics.acc = 0.9") == []


def test_tags(client, experiment_id):
    with mlflow.start_run() as run:
        mlflow.set_tag("stage", "dev")
        mlflow.set_tags({"priority": "high", "n": 3, "unicodé": "ü ✓"})
        mlflow.set_tag("stage", "prod")  # tags may change
        mlflow.delete_tag("priority")
    tags = client.get_run(run.info.run_id).data.tags
    assert tags["stage"] == "prod"
    assert tags["n"] == "3"
    assert tags["unicodé"] == "ü ✓"
    assert "priority" not in tags


def test_delete_missing_tag_is_404(client, experiment_id):
    run = client.create_run(experiment_id)
    raises_code("RESOURCE_DOES_NOT_EXIST", client.delete_tag, run.info.run_id, "no-such-tag")


def test_log_batch_is_split_by_the_client(client, experiment_id):
    run = client.create_run(experiment_id)
    run_id = run.info.run_id
    metrics = [Metric("m", float(i), 1000 + i, i) for i in range(1500)]
    metrics += [Metric(f"k{i}", float(i), 5, 0) for i in range(700)]
    params = [Param(f"p{i}", str(i)) for i in range(150)]
    tags = [RunTag(f"t{i}", str(i)) for i in range(120)]
    client.log_batch(run_id, metrics=metrics, params=params, tags=tags)
    data = client.get_run(run_id).data
    assert len([k for k in data.metrics if k.startswith("k")]) == 700
    assert data.metrics["m"] == 1499.0
    assert len(data.params) == 150 and data.params["p149"] == "149"
    assert data.tags["t119"] == "119"
    history = client.get_metric_history(run_id, "m")
    assert sorted(m.step for m in history) == list(range(1500))


def test_async_logging(client, experiment_id):
    with mlflow.start_run() as run:
        for step in range(20):
            mlflow.log_metric("async", step * 0.5, step=step, synchronous=False)
        mlflow.flush_async_logging()
    history = client.get_metric_history(run.info.run_id, "async")
    assert sorted((m.step, m.value) for m in history) == [(s, s * 0.5) for s in range(20)]


def test_log_input_dataset(client, experiment_id):
    df = pd.DataFrame({"x": [1, 2, 3], "y": [0.5, 0.25, 0.125]})
    dataset = mlflow.data.from_pandas(df, name="toy-df")
    with mlflow.start_run() as run:
        mlflow.log_input(dataset, context="training")
    inputs = client.get_run(run.info.run_id).inputs.dataset_inputs
    assert len(inputs) == 1
    assert inputs[0].dataset.name == "toy-df"
    assert inputs[0].dataset.digest == dataset.digest
    assert {t.key: t.value for t in inputs[0].tags} == {"mlflow.data.context": "training"}
    for flt in ["datasets.context = 'training'", "dataset.name = 'toy-df'",
                f"datasets.digest = '{dataset.digest}'", "datasets.name LIKE 'toy%'"]:
        found = client.search_runs([experiment_id], flt)
        assert [r.info.run_id for r in found] == [run.info.run_id], flt
    assert client.search_runs([experiment_id], "datasets.context = 'eval'") == []

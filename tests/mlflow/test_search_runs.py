"""search_runs filters: every entity, alias and comparator of the grammar."""

import mlflow
import pandas as pd
import pytest

from compat import raises_code, unique

BASE = 1_700_000_000_000


@pytest.fixture(scope="module")
def runs(server):
    """Four runs with known params, metrics, tags, statuses and start times."""
    client = mlflow.MlflowClient(tracking_uri=server.url)
    exp_id = client.create_experiment(unique("search"))
    spec = {
        "parent": ({"lr": "0.01", "optimizer": "adam"}, {"acc": 0.8, "loss": 0.3},
                   {"team": "x", "stage": "dev"}, "FINISHED"),
        "child": ({"lr": "0.1", "optimizer": "sgd"}, {"acc": 0.6}, {"stage": "prod"}, "FINISHED"),
        "killed": ({"optimizer": "Adam"}, {}, {}, "KILLED"),
        "failed": ({"lr": "0.001"}, {"acc": 0.4, "nan_metric": float("nan")}, {}, "FAILED"),
    }
    ids = {}
    for offset, (name, (params, metrics, tags, status)) in enumerate(spec.items()):
        run = client.create_run(exp_id, start_time=BASE + offset, run_name=f"{name}-run", tags=tags)
        run_id = run.info.run_id
        for key, value in params.items():
            client.log_param(run_id, key, value)
        for key, value in metrics.items():
            client.log_metric(run_id, key, value, timestamp=BASE, step=0)
        client.set_terminated(run_id, status=status, end_time=BASE + 100 + offset)
        ids[name] = run_id
    df = pd.DataFrame({"x": [1, 2, 3]})
    mlflow.set_experiment(experiment_id=exp_id)
    with mlflow.start_run(run_id=ids["parent"]):
        mlflow.log_input(mlflow.data.from_pandas(df, name="toy-df"), context="training")
    client.set_terminated(ids["parent"], status="FINISHED", end_time=BASE + 100)
    user = client.get_run(ids["parent"]).info.user_id
    return exp_id, ids, user


def found(client, runs, flt):
    exp_id, ids, _ = runs
    names = {v: k for k, v in ids.items()}
    return sorted(names[r.info.run_id] for r in client.search_runs([exp_id], flt))


@pytest.mark.parametrize(
    "flt, expected",
    [
        ("", ["child", "failed", "killed", "parent"]),
        ("metrics.acc > 0.5", ["child", "parent"]),
        ("metric.acc >= 0.6", ["child", "parent"]),
        ("metrics.acc < 0.6", ["failed"]),
        ("metrics.acc <= 0.6", ["child", "failed"]),
        ("metrics.acc = 0.8", ["parent"]),
        ("metrics.acc != 0.8", ["child", "failed"]),
        ("metrics.acc > -1", ["child", "failed", "parent"]),
        ("metrics.acc < 5e0", ["child", "failed", "parent"]),
        ("metrics.`acc` > 0.7", ["parent"]),
        ("metrics.nan_metric > 0", []),
        ("params.lr = '0.01'", ["parent"]),
        ('param.lr = "0.01"', ["parent"]),
        ("parameter.lr != '0.01'", ["child", "failed"]),
        ("params.optimizer LIKE 'ad%'", ["parent"]),
        ("params.optimizer LIKE 'AD%'", []),
        ("params.optimizer ILIKE 'AD%'", ["killed", "parent"]),
        ("params.optimizer like '_gd'", ["child"]),
        ("params.lr IS NULL", ["killed"]),
        ("params.lr IS NOT NULL", ["child", "failed", "parent"]),
        ("tags.stage = 'dev'", ["parent"]),
        ("tag.stage != 'dev'", ["child"]),
        ("tags.team LIKE 'x%'", ["parent"]),
        ("tags.stage ILIKE 'PR%'", ["child"]),
        ("tags.team IS NULL", ["child", "failed", "killed"]),
        ("tags.team IS NOT NULL", ["parent"]),
        ("tags.`mlflow.runName` = 'parent-run'", ["parent"]),
        ('tags."mlflow.runName" LIKE \'child%\'', ["child"]),
        ("tags.mlflow.runName = 'killed-run'", ["killed"]),
        ("attributes.status = 'FINISHED'", ["child", "parent"]),
        ("status = 'KILLED'", ["killed"]),
        ("attribute.status != 'FINISHED'", ["failed", "killed"]),
        ("attr.status ILIKE 'fin%'", ["child", "parent"]),
        ("run.status LIKE 'FAIL%'", ["failed"]),
        ("attributes.run_name = 'child-run'", ["child"]),
        ("run_name = 'child-run'", ["child"]),
        ("attributes.run_name LIKE 'PARENT%'", []),
        ("attributes.run_name ILIKE 'PARENT%'", ["parent"]),
        (f"attributes.start_time > {BASE + 1}", ["failed", "killed"]),
        (f"attributes.start_time = {BASE + 1}", ["child"]),
        (f"attributes.end_time <= {BASE + 101}", ["child", "parent"]),
        (f"attributes.end_time != {BASE + 100}", ["child", "failed", "killed"]),
        (f"created < {BASE + 1}", ["parent"]),
        (f"Created >= {BASE + 3}", ["failed"]),
        ("datasets.context = 'training'", ["parent"]),
        ("dataset.name = 'toy-df'", ["parent"]),
        ("datasets.name != 'toy-df'", []),
        ("datasets.name LIKE 'toy%'", ["parent"]),
        ("metrics.acc > 0.5 and params.lr = '0.01'", ["parent"]),
        ("metrics.acc > 0.5 AND params.optimizer like 'ad%' And tags.stage = 'dev'", ["parent"]),
        ("metrics.acc > 0.5 AND tags.stage = 'prod'", ["child"]),
    ],
)
def test_filter(client, runs, flt, expected):
    assert found(client, runs, flt) == expected


def test_filter_by_run_id(client, runs):
    _, ids, _ = runs
    assert found(client, runs, f"attributes.run_id = '{ids['child']}'") == ["child"]
    both = f"('{ids['child']}', '{ids['killed']}')"
    assert found(client, runs, f"attributes.run_id IN {both}") == ["child", "killed"]
    assert found(client, runs, f"attributes.run_id NOT IN {both}") == ["failed", "parent"]


def test_filter_by_user_and_artifact_uri(client, runs):
    _, ids, user = runs
    assert found(client, runs, f"attributes.user_id = '{user}'") == [
        "child", "failed", "killed", "parent"]
    flt = f"attributes.artifact_uri LIKE '%{ids['failed']}%'"
    assert found(client, runs, flt) == ["failed"]


@pytest.mark.parametrize(
    "flt",
    [
        "bogus.acc > 0.5",
        "params.lr = 0.01",
        "metrics.acc > '0.5'",
        "metrics.acc = 'NaN'",
        "params.optimizer NOT LIKE 'a%'",
        "metrics.acc >>> 0.5",
        "attributes.start_time > '5'",
        "metrics.acc >",
    ],
)
def test_invalid_filter(client, runs, flt):
    exp_id, _, _ = runs
    raises_code("INVALID_PARAMETER_VALUE", client.search_runs, [exp_id], flt)


@pytest.mark.reference_deviation("MLflow refuses OR, parentheses, IN on params and status, IS NULL on attributes")
@pytest.mark.parametrize(
    "flt, expected",
    [
        ("metrics.acc > 0.7 OR params.lr = '0.1'", ["child", "parent"]),
        ("(metrics.acc > 0.5)", ["child", "parent"]),
        ("(params.lr = '0.1' OR params.lr = '0.001') AND metrics.acc < 0.5", ["failed"]),
        ("attributes.status IN ('FAILED', 'KILLED')", ["failed", "killed"]),
        ("params.lr IN ('0.01', '0.1')", ["child", "parent"]),
        ("params.lr NOT IN ('0.01', '0.1')", ["failed"]),
        ("attributes.end_time IS NOT NULL", ["child", "failed", "killed", "parent"]),
        ("attributes.end_time IS NULL", []),
    ],
)
def test_runlore_filter_extensions(client, runs, flt, expected):
    assert found(client, runs, flt) == expected

"""search_runs order_by (multi-key, missing-last), paging, pandas output."""

from concurrent.futures import ThreadPoolExecutor

import mlflow
import pytest
from mlflow.entities import ViewType

from compat import raises_code, unique
from test_search_runs import runs  # noqa: F401  (the shared four-run fixture)

MANY = 2500


def ordered(client, runs, order_by):
    exp_id, ids, _ = runs
    names = {v: k for k, v in ids.items()}
    return [names[r.info.run_id] for r in client.search_runs([exp_id], order_by=order_by)]


@pytest.mark.parametrize(
    "order_by, expected",
    [
        (None, ["failed", "killed", "child", "parent"]),
        (["metrics.acc ASC"], ["failed", "child", "parent", "killed"]),
        (["metrics.acc DESC"], ["parent", "child", "failed", "killed"]),
        (["metrics.acc"], ["failed", "child", "parent", "killed"]),
        (["`metrics`.`acc` desc"], ["parent", "child", "failed", "killed"]),
        (["params.lr ASC"], ["failed", "parent", "child", "killed"]),
        (["param.lr DESC"], ["child", "parent", "failed", "killed"]),
        (["tags.team ASC"], ["parent", "failed", "killed", "child"]),
        (["tags.team DESC"], ["parent", "failed", "killed", "child"]),
        (["tags.stage ASC", "metrics.acc DESC"], ["parent", "child", "failed", "killed"]),
        (["metrics.acc", "attributes.run_name DESC"], ["failed", "child", "parent", "killed"]),
        (["params.optimizer DESC", "attributes.run_name ASC"],
         ["child", "parent", "killed", "failed"]),
        (["attributes.start_time ASC"], ["parent", "child", "killed", "failed"]),
        (["start_time DESC"], ["failed", "killed", "child", "parent"]),
        (["created ASC"], ["parent", "child", "killed", "failed"]),
        (["Created DESC"], ["failed", "killed", "child", "parent"]),
        (["attributes.end_time DESC"], ["failed", "killed", "child", "parent"]),
        (["run_name ASC"], ["child", "failed", "killed", "parent"]),
        (["attribute.status DESC", "run_name DESC"], ["killed", "parent", "child", "failed"]),
        (["tags.`mlflow.runName` DESC"], ["parent", "killed", "failed", "child"]),
    ],
)
def test_order_by(client, runs, order_by, expected):
    assert ordered(client, runs, order_by) == expected


@pytest.mark.parametrize(
    "order_by",
    [["metrics.acc DESCENDING"], ["acc DESC"], ["foo.bar"], ["datasets.name"]],
)
def test_invalid_order_by(client, runs, order_by):
    exp_id, _, _ = runs
    raises_code("INVALID_PARAMETER_VALUE", client.search_runs, [exp_id], order_by=order_by)


def test_fluent_search_returns_pandas(runs):
    exp_id, ids, _ = runs
    df = mlflow.search_runs([exp_id], "metrics.acc > 0.5", order_by=["metrics.acc DESC"])
    assert list(df["run_id"]) == [ids["parent"], ids["child"]]
    assert list(df["metrics.acc"]) == [0.8, 0.6]
    assert list(df["params.lr"]) == ["0.01", "0.1"]
    assert list(df["tags.mlflow.runName"]) == ["parent-run", "child-run"]
    assert list(df["status"]) == ["FINISHED", "FINISHED"]


def test_fluent_search_by_experiment_name(client, runs):
    exp_id, ids, _ = runs
    name = client.get_experiment(exp_id).name
    found = mlflow.search_runs(experiment_names=[name], filter_string="params.lr = '0.1'",
                               output_format="list")
    assert [r.info.run_id for r in found] == [ids["child"]]


def test_search_over_several_experiments(client):
    a = client.create_experiment(unique("multi-a"))
    b = client.create_experiment(unique("multi-b"))
    ra = client.create_run(a, start_time=1).info.run_id
    rb = client.create_run(b, start_time=2).info.run_id
    assert [r.info.run_id for r in client.search_runs([a, b])] == [rb, ra]
    assert client.search_runs([]) == []


@pytest.fixture(scope="module")
def many(server):
    client = mlflow.MlflowClient(tracking_uri=server.url)
    exp_id = client.create_experiment(unique("many"))

    def make(i):
        return client.create_run(exp_id, start_time=1_000_000 + i, tags={"i": str(i)}).info.run_id

    with ThreadPoolExecutor(max_workers=8) as pool:
        ids = list(pool.map(make, range(MANY)))
    return exp_id, ids


def test_paging_has_no_gaps_or_duplicates(client, many):
    exp_id, ids = many
    seen, token = [], None
    for _ in range(MANY):
        page = client.search_runs([exp_id], max_results=700, order_by=["attributes.start_time ASC"],
                                  page_token=token, run_view_type=ViewType.ALL)
        seen += [r.info.run_id for r in page]
        token = page.token
        if not token:
            break
    assert seen == ids


def test_paging_default_order(client, many):
    exp_id, ids = many
    seen, token = [], None
    for _ in range(MANY):
        page = client.search_runs([exp_id], max_results=1000, page_token=token)
        seen += [r.info.run_id for r in page]
        token = page.token
        if not token:
            break
    assert seen == ids[::-1]


def test_fluent_search_reads_all_pages(many):
    exp_id, ids = many
    df = mlflow.search_runs([exp_id], filter_string="tags.i LIKE '1%'")
    expected = {run_id for i, run_id in enumerate(ids) if str(i).startswith("1")}
    assert len(df) == len(expected)
    assert set(df["run_id"]) == expected

"""search_experiments: filters, order_by, paging, view types."""

import time

import mlflow
import pytest
from mlflow.entities import ViewType
from mlflow.exceptions import MlflowException

from compat import raises_code, unique


@pytest.fixture(scope="module")
def family(server):
    """Four experiments sharing a unique prefix; the last one deleted."""
    client = mlflow.MlflowClient(tracking_uri=server.url)
    prefix = unique("fam")
    ids = {}
    for suffix, proj in [("a", "b"), ("b", "b"), ("c", "c"), ("d", "b")]:
        ids[suffix] = client.create_experiment(f"{prefix}-{suffix}", tags={"proj": proj})
        time.sleep(0.01)  # distinct creation times
    client.delete_experiment(ids["d"])
    return prefix, ids


def names(experiments):
    return [e.name.rsplit("-", 1)[1] for e in experiments]


def search(client, prefix, extra="", **kwargs):
    flt = f"name LIKE '{prefix}-%'" + (f" AND {extra}" if extra else "")
    return client.search_experiments(filter_string=flt, **kwargs)


def test_default_order_is_newest_first(client, family):
    prefix, _ = family
    assert names(search(client, prefix)) == ["c", "b", "a"]


def test_view_types(client, family):
    prefix, _ = family
    assert names(search(client, prefix, view_type=ViewType.DELETED_ONLY)) == ["d"]
    assert names(search(client, prefix, view_type=ViewType.ALL)) == ["d", "c", "b", "a"]


@pytest.mark.parametrize(
    "extra, expected",
    [
        ("tags.proj = 'b'", ["b", "a"]),
        ("tag.proj != 'b'", ["c"]),
        ("tags.`proj` LIKE 'c%'", ["c"]),
        ("creation_time > 0", ["c", "b", "a"]),
        ("attribute.name ILIKE '%-A'", ["a"]),
        ("name LIKE '%-A'", []),
    ],
)
def test_filters(client, family, extra, expected):
    prefix, _ = family
    assert names(search(client, prefix, extra)) == expected


def test_filter_by_name_and_id(client, family):
    prefix, ids = family
    found = client.search_experiments(filter_string=f"name = '{prefix}-b'")
    assert [e.experiment_id for e in found] == [ids["b"]]
    found = client.search_experiments(filter_string=f"attribute.experiment_id = '{ids['c']}'")
    assert names(found) == ["c"]


@pytest.mark.parametrize(
    "order_by, expected",
    [
        (["name DESC"], ["c", "b", "a"]),
        (["name"], ["a", "b", "c"]),
        (["attribute.name ASC"], ["a", "b", "c"]),
        (["creation_time ASC"], ["a", "b", "c"]),
        (["experiment_id DESC"], ["c", "b", "a"]),
        (["last_update_time DESC", "name ASC"], None),
    ],
)
def test_order_by(client, family, order_by, expected):
    prefix, _ = family
    found = names(search(client, prefix, order_by=order_by))
    if expected is None:
        assert sorted(found) == ["a", "b", "c"]
    else:
        assert found == expected


def test_paging(client, family):
    prefix, _ = family
    seen, token = [], None
    for _ in range(10):
        page = search(client, prefix, view_type=ViewType.ALL, max_results=1,
                      order_by=["name ASC"], page_token=token)
        assert len(page) == 1
        seen += names(page)
        token = page.token
        if not token:
            break
    assert seen == ["a", "b", "c", "d"]
    # A full final page carries no token.
    page = search(client, prefix, max_results=3)
    assert len(page) == 3 and not page.token


def test_fluent_search_pages_everything(family):
    prefix, _ = family
    found = mlflow.search_experiments(filter_string=f"name LIKE '{prefix}-%'", order_by=["name"])
    assert names(found) == ["a", "b", "c"]


def test_empty_result(client):
    assert list(client.search_experiments(filter_string=f"name = '{unique('none')}'")) == []


@pytest.mark.parametrize(
    "kwargs",
    [
        {"filter_string": "bogus.name = 'x'"},
        {"filter_string": "name = 'a' = 'b'"},
        {"order_by": ["tags.proj DESC"]},
        {"order_by": ["name SIDEWAYS"]},
    ],
)
def test_invalid_search(client, kwargs):
    raises_code("INVALID_PARAMETER_VALUE", client.search_experiments, **kwargs)


@pytest.mark.reference_deviation("MLflow refuses OR and the plural 'attributes.' on experiments")
def test_or_and_plural_attributes(client):
    a, b = unique("or-a"), unique("or-b")
    ids = {client.create_experiment(a), client.create_experiment(b)}
    found = client.search_experiments(filter_string=f"attributes.name = '{a}' OR name = '{b}'")
    assert {e.experiment_id for e in found} == ids


def test_garbage_page_token(client):
    with pytest.raises(MlflowException) as info:
        client.search_experiments(page_token="not a token!!")
    assert info.value.error_code == "INVALID_PARAMETER_VALUE"

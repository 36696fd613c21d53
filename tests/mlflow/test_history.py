"""Metric history: order, duplicates, unknown keys, paging past 25,000 points."""

from mlflow.entities import Metric

POINTS = 26_000


def test_history_keeps_every_point_in_logging_order(client, experiment_id):
    run_id = client.create_run(experiment_id).info.run_id
    client.log_metric(run_id, "acc", 0.71, timestamp=1000, step=1)
    client.log_metric(run_id, "acc", 0.8, timestamp=1001, step=2)
    client.log_metric(run_id, "acc", 0.9, timestamp=1002, step=0)
    client.log_metric(run_id, "acc", 0.95, timestamp=1002, step=0)  # same step and time: kept
    history = client.get_metric_history(run_id, "acc")
    points = [(m.step, m.value, m.timestamp) for m in history]
    # Timestamp order, not step order (ties in any order).
    assert points[:2] == [(1, 0.71, 1000), (2, 0.8, 1001)]
    assert sorted(points[2:]) == [(0, 0.9, 1002), (0, 0.95, 1002)]
    assert all(m.key == "acc" for m in history)


def test_large_steps_and_negative_steps(client, experiment_id):
    run_id = client.create_run(experiment_id).info.run_id
    client.log_metric(run_id, "s", 1.0, timestamp=1, step=-7)
    client.log_metric(run_id, "s", 2.0, timestamp=2, step=2**62)
    history = client.get_metric_history(run_id, "s")
    assert sorted(m.step for m in history) == [-7, 2**62]


def test_unknown_key_or_run_gives_empty_history(client, experiment_id):
    run_id = client.create_run(experiment_id).info.run_id
    assert client.get_metric_history(run_id, "never-logged") == []


def test_history_pages_past_25000_points(client, experiment_id):
    run_id = client.create_run(experiment_id).info.run_id
    metrics = [Metric("big", i * 0.5, 10_000 + i, i) for i in range(POINTS)]
    client.log_batch(run_id, metrics=metrics)  # the client sends 26 batches of 1000
    history = client.get_metric_history(run_id, "big")  # the client pages by 25,000
    assert len(history) == POINTS
    assert [m.step for m in history] == list(range(POINTS))
    assert history[-1].value == (POINTS - 1) * 0.5
    assert client.get_run(run_id).data.metrics["big"] == (POINTS - 1) * 0.5


def test_history_pages_raw(api, client, experiment_id):
    run_id = client.create_run(experiment_id).info.run_id
    client.log_batch(run_id, metrics=[Metric("p", float(i), 100 + i, i) for i in range(5)])
    steps, token = [], None
    for _ in range(10):
        params = {"run_id": run_id, "metric_key": "p", "max_results": 2}
        if token:
            params["page_token"] = token
        response = api.get("metrics/get-history", params)
        assert response.status_code == 200, response.text
        body = response.json()
        steps += [m["step"] for m in body.get("metrics", [])]
        token = body.get("next_page_token")
        if not token:
            break
    assert steps == [0, 1, 2, 3, 4]

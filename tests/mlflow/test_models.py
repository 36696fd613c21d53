"""Models: sklearn log/load, pyfunc, and sklearn autologging."""

import mlflow
import numpy as np
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression

X = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 1.0], [3.0, 2.0], [4.0, 3.0], [5.0, 5.0]])
Y = np.array([1.0, 2.0, 4.0, 6.5, 8.0, 11.0])


def test_sklearn_log_and_load(client, experiment_id):
    model = LinearRegression().fit(X, Y)
    with mlflow.start_run() as run:
        info = mlflow.sklearn.log_model(model, name="linreg")
    assert info.model_id.startswith("m-")
    expected = model.predict(X)
    loaded = mlflow.sklearn.load_model(info.model_uri)
    assert np.allclose(loaded.predict(X), expected)
    by_run = mlflow.sklearn.load_model(f"runs:/{run.info.run_id}/linreg")
    assert np.allclose(by_run.predict(X), expected)
    pyfunc = mlflow.pyfunc.load_model(info.model_uri)
    assert np.allclose(np.asarray(pyfunc.predict(X)).ravel(), expected)
    outputs = client.get_run(run.info.run_id).outputs.model_outputs
    assert [o.model_id for o in outputs] == [info.model_id]
    logged = client.get_logged_model(info.model_id)
    assert logged.status.to_proto() == mlflow.entities.LoggedModelStatus.READY.to_proto()
    assert logged.source_run_id == run.info.run_id
    assert logged.name == "linreg"


class AddN(mlflow.pyfunc.PythonModel):
    def __init__(self, n):
        self.n = n

    def predict(self, context, model_input, params=None):
        return model_input.apply(lambda column: column + self.n)


def test_pyfunc_custom_model(experiment_id):
    import pandas as pd

    with mlflow.start_run():
        info = mlflow.pyfunc.log_model(name="addone", python_model=AddN(1))
    loaded = mlflow.pyfunc.load_model(info.model_uri)
    frame = pd.DataFrame({"a": [1.0, 2.0]})
    assert list(loaded.predict(frame)["a"]) == [2.0, 3.0]


@pytest.fixture
def autolog():
    mlflow.sklearn.autolog(log_input_examples=False, log_model_signatures=False, silent=True)
    yield
    mlflow.sklearn.autolog(disable=True)


def test_sklearn_autolog(client, experiment_id, autolog):
    y_class = (Y > 4).astype(int)
    with mlflow.start_run() as run:
        model = LogisticRegression(C=0.5, max_iter=200).fit(X, y_class)
    data = client.get_run(run.info.run_id).data
    assert data.params["C"] == "0.5"
    assert data.params["max_iter"] == "200"
    assert "training_accuracy_score" in data.metrics
    assert data.tags["estimator_name"] == "LogisticRegression"
    outputs = client.get_run(run.info.run_id).outputs.model_outputs
    assert len(outputs) == 1
    loaded = mlflow.sklearn.load_model(f"models:/{outputs[0].model_id}")
    assert list(loaded.predict(X)) == list(model.predict(X))

"""Helpers shared by the MLflow-compatibility tests."""

import http.client
import json
import uuid

import requests

from mlflow.exceptions import MlflowException


def unique(prefix="compat"):
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


class Api:
    """Raw HTTP to the server, for inputs the client would never send."""

    def __init__(self, url):
        self.url = url
        self.session = requests.Session()

    def post(self, path, body=None, **kwargs):
        kwargs.setdefault("timeout", 30)
        if body is not None:
            kwargs["json"] = body
        return self.session.post(self._full(path), **kwargs)

    def get(self, path, params=None, **kwargs):
        kwargs.setdefault("timeout", 30)
        return self.session.get(self._full(path), params=params, **kwargs)

    def put(self, path, data=b"", **kwargs):
        kwargs.setdefault("timeout", 30)
        return self.session.put(self._full(path), data=data, **kwargs)

    def raw(self, method, path, body=b""):
        """Sends `path` byte for byte (requests would normalise `..` away).

        Returns (status, parsed JSON body or None)."""
        host = self.url.split("://", 1)[1]
        conn = http.client.HTTPConnection(host, timeout=30)
        try:
            conn.request(method, path, body=body or None)
            response = conn.getresponse()
            data = response.read()
        finally:
            conn.close()
        try:
            return response.status, json.loads(data)
        except ValueError:
            return response.status, None

    def _full(self, path):
        if path.startswith("/"):
            return self.url + path
        return f"{self.url}/api/2.0/mlflow/{path}"


def error_code(response):
    try:
        return response.json().get("error_code")
    except ValueError:
        return None


def raises_code(code, fn, *args, **kwargs):
    """Calls fn and returns the MlflowException it raised, checking its error_code."""
    try:
        fn(*args, **kwargs)
    except MlflowException as exc:
        assert exc.error_code == code, f"expected {code}, got {exc.error_code}: {exc.message}"
        return exc
    raise AssertionError(f"expected MlflowException {code}, nothing was raised")

"""The few native API calls the SDK makes, over the standard library."""

import json
import urllib.error
import urllib.request


class Unreachable(Exception):
    """The server did not answer, or answered 5xx: try again later."""


class Rejected(Exception):
    """The server refused the request (4xx): sending it again will not help."""

    def __init__(self, status, message):
        super().__init__(f"{status}: {message}")
        self.status = status


class Client:
    def __init__(self, server, timeout=10.0):
        self.server = server.rstrip("/")
        self.timeout = timeout

    def request(self, method, path, body=None):
        data = None if body is None else json.dumps(body, allow_nan=False).encode()
        req = urllib.request.Request(self.server + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as e:
            text = e.read().decode(errors="replace")
            if e.code >= 500:
                raise Unreachable(f"{e.code}: {text[:300]}") from None
            try:
                message = json.loads(text)["error"]["message"]
            except (ValueError, KeyError, TypeError):
                message = text[:300]
            raise Rejected(e.code, message) from None
        except (urllib.error.URLError, OSError) as e:
            raise Unreachable(str(e)) from None
        return json.loads(raw) if raw else {}

    def create_run(self, run):
        return self.request("POST", "/api/v1/runs", run)

    def log(self, run_id, batch):
        return self.request("POST", f"/api/v1/runs/{run_id}/log", batch)

    def update_run(self, run_id, fields):
        return self.request("PATCH", f"/api/v1/runs/{run_id}", fields)

"""The few native API calls the SDK makes, over the standard library."""

import json
import urllib.error
import urllib.parse
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

    def request(self, method, path, body=None, *, raw=None, size=None):
        """`body` goes as JSON; `raw` (bytes or a binary file) as it is,
        with `size` as its Content-Length."""
        if raw is not None:
            data = raw
        else:
            data = None if body is None else json.dumps(body, allow_nan=False).encode()
        req = urllib.request.Request(self.server + path, data=data, method=method)
        if raw is not None:
            req.add_header("Content-Type", "application/octet-stream")
            req.add_header("Content-Length", str(size))
        elif data is not None:
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

    def put_artifact(self, run_id, path, file, size, sha256, step=None):
        query = {"sha256": sha256}
        if step is not None:
            query["step"] = str(step)
        quoted = urllib.parse.quote(path, safe="/")
        return self.request("PUT", f"/api/v1/runs/{run_id}/artifacts/{quoted}?"
                            + urllib.parse.urlencode(query), raw=file, size=size)

    def update_run(self, run_id, fields):
        return self.request("PATCH", f"/api/v1/runs/{run_id}", fields)

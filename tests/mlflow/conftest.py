"""MLflow-compatibility suite: the real `mlflow` client against a live server.

By default the server is Runlore (`$RUNLORE_BIN`, else target/debug/runlore),
started once per session on port 0 with a fresh data dir. With
MLFLOW_COMPAT_TARGET=mlflow the suite starts the reference `mlflow server`
from the same virtual env instead, which proves the tests themselves right.

Tests marked `runlore_only` check Runlore behaviour that the reference does
not have; tests marked `reference_deviation(reason)` assert where Runlore
intentionally differs. Both are skipped against the reference.
"""

import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest
import requests

from compat import Api, unique

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from pg_database import server_db_args  # noqa: E402  (tests/, shared by the suites)

# Fail fast instead of retrying a server bug for minutes; no telemetry.
os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
os.environ.setdefault("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "0")
os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "30")
os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"
os.environ["DO_NOT_TRACK"] = "true"
os.environ.pop("MLFLOW_EXPERIMENT_ID", None)
os.environ.pop("MLFLOW_EXPERIMENT_NAME", None)
os.environ.pop("MLFLOW_RUN_ID", None)

REPO = Path(__file__).resolve().parents[2]
TARGET = os.environ.get("MLFLOW_COMPAT_TARGET", "runlore").strip().lower() or "runlore"
START_TIMEOUT_S = 90 if TARGET == "mlflow" else 30
STOP_TIMEOUT_S = 10
LISTEN_LINE = re.compile(r"Runlore listening on (http://\S+)")


def pytest_configure(config):
    config.addinivalue_line("markers", "runlore_only: Runlore behaviour the reference lacks")
    config.addinivalue_line(
        "markers", "reference_deviation(reason): Runlore intentionally differs from the reference"
    )


def pytest_collection_modifyitems(config, items):
    if TARGET != "mlflow":
        return
    for item in items:
        if item.get_closest_marker("runlore_only"):
            item.add_marker(pytest.mark.skip(reason="Runlore-only behaviour"))
        marker = item.get_closest_marker("reference_deviation")
        if marker:
            reason = marker.args[0] if marker.args else "documented deviation"
            item.add_marker(pytest.mark.skip(reason=f"reference deviates: {reason}"))


class Server:
    def __init__(self, url, target, data_dir, process, log_path):
        self.url = url.rstrip("/")
        self.target = target
        self.data_dir = Path(data_dir)
        self.process = process
        self.log_path = log_path

    @property
    def is_reference(self):
        return self.target == "mlflow"

    def log_tail(self, chars=4000):
        try:
            return Path(self.log_path).read_text(errors="replace")[-chars:]
        except OSError:
            return ""


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _runlore_binary():
    value = os.environ.get("RUNLORE_BIN")
    binary = Path(value) if value else REPO / "target" / "debug" / "runlore"
    if not binary.is_absolute():
        binary = REPO / binary
    if not binary.exists():
        pytest.exit(f"Runlore binary {binary} not found: build it or set RUNLORE_BIN", 2)
    return binary


def _start_runlore(tmp):
    data_dir = tmp / "data"
    log_path = tmp / "server.log"
    log = open(log_path, "wb")
    process = subprocess.Popen(
        [str(_runlore_binary()), "server", "--port", "0", "--data-dir", str(data_dir)]
        + server_db_args(),
        stdout=subprocess.PIPE,
        stderr=log,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    lines = queue.Queue()

    def pump():  # keeps draining stdout so the server never blocks on it
        for raw in process.stdout:
            lines.put(raw.decode(errors="replace"))
            log.write(raw)
            log.flush()
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.2)
        except queue.Empty:
            continue
        if line is None:
            break
        match = LISTEN_LINE.search(line)
        if match:
            return Server(match.group(1), "runlore", data_dir, process, log_path)
    _stop(process)
    raise RuntimeError(
        f"runlore did not report its address within {START_TIMEOUT_S}s:\n"
        + log_path.read_text(errors="replace")[-4000:]
    )


def _start_reference(tmp):
    mlflow_bin = Path(sys.executable).parent / "mlflow"
    port = _free_port()
    log_path = tmp / "server.log"
    process = subprocess.Popen(
        [
            str(mlflow_bin), "server",
            "--backend-store-uri", f"sqlite:///{tmp}/mlflow.db",
            "--artifacts-destination", str(tmp / "artifacts"),
            "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
        ],
        stdout=open(log_path, "wb"),
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if requests.get(f"{url}/health", timeout=2).status_code == 200:
                return Server(url, "mlflow", tmp / "artifacts", process, log_path)
        except requests.RequestException:
            pass
        time.sleep(0.3)
    _stop(process)
    raise RuntimeError(
        f"mlflow server did not become healthy within {START_TIMEOUT_S}s:\n"
        + log_path.read_text(errors="replace")[-4000:]
    )


def _stop(process):
    """SIGTERM to the server's own process group (started by us), then SIGKILL."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait(timeout=STOP_TIMEOUT_S)


@pytest.fixture(scope="session")
def server():
    tmp = Path(tempfile.mkdtemp(prefix=f"mlflow-compat-{TARGET}-"))
    srv = _start_reference(tmp) if TARGET == "mlflow" else _start_runlore(tmp)
    os.environ["MLFLOW_TRACKING_URI"] = srv.url
    import mlflow

    mlflow.set_tracking_uri(srv.url)
    try:
        yield srv
    finally:
        _stop(srv.process)
        if os.environ.get("MLFLOW_COMPAT_KEEP") != "1":
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print(f"\nserver files kept in {tmp}", file=sys.stderr)


@pytest.fixture(autouse=True)
def _no_leftover_run(server):
    """Every test starts and ends without an active fluent run."""
    import mlflow

    yield
    for _ in range(10):
        if mlflow.active_run() is None:
            break
        mlflow.end_run()


@pytest.fixture
def client(server):
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=server.url)


@pytest.fixture
def experiment_id(server):
    """A fresh experiment, made the active one for fluent calls."""
    import mlflow

    return mlflow.set_experiment(unique("exp")).experiment_id


@pytest.fixture
def api(server):
    return Api(server.url)

"""The SDK suite: the repository's `sdk/python` against the built `runlore`
binary (`$RUNLORE_BIN`, else target/debug/runlore), one fresh server per
test on a free loopback port. Servers are started and stopped by PID."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "sdk" / "python"))
sys.path.insert(0, str(REPO / "tests"))
from pg_database import server_db_args  # noqa: E402  (tests/, shared by the suites)
START_TIMEOUT_S = 30


def runlore_bin():
    value = os.environ.get("RUNLORE_BIN")
    binary = Path(value) if value else REPO / "target" / "debug" / "runlore"
    if not binary.is_absolute():
        binary = REPO / binary
    if not binary.exists():
        pytest.exit(f"Runlore binary {binary} not found: build it or set RUNLORE_BIN", 2)
    return binary


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A `runlore server` on a fixed port and data dir, so it can be killed
    and started again where the SDK expects it."""

    def __init__(self, data_dir, port):
        self.data_dir = data_dir
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.process = None
        # One database for the server's whole life: a restart finds its data.
        self.db_args = server_db_args()

    def start(self):
        self.process = subprocess.Popen(
            [str(runlore_bin()), "server", "--port", str(self.port), "--data-dir",
             str(self.data_dir)] + self.db_args,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"runlore server exited with {self.process.returncode}")
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=1):
                    return self
            except OSError:
                time.sleep(0.02)
        raise RuntimeError("runlore server did not start")

    def kill(self):
        """SIGKILL: no graceful shutdown, as in a crash."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()

    def get(self, path):
        with urllib.request.urlopen(self.url + path, timeout=10) as response:
            return json.loads(response.read())

    def run(self, run_id):
        return self.get(f"/api/v1/runs/{run_id}")

    def history(self, run_id, key):
        key = urllib.parse.quote(key, safe="")
        return self.get(f"/api/v1/runs/{run_id}/metrics/{key}")["points"]


@pytest.fixture
def server(tmp_path):
    srv = Server(tmp_path / "data", free_port()).start()
    yield srv
    srv.stop()


@pytest.fixture
def idle_server(tmp_path):
    """A server that is not running yet (the SDK finds nobody at its port)."""
    srv = Server(tmp_path / "data", free_port())
    yield srv
    srv.stop()


@pytest.fixture
def journal_dir(tmp_path):
    return tmp_path / "journal"


def sync(server, path):
    """`runlore sync PATH --server URL`; returns (exit code, stdout, stderr)."""
    done = subprocess.run([str(runlore_bin()), "sync", str(path), "--server", server.url],
                          capture_output=True, text=True, timeout=120)
    return done.returncode, done.stdout, done.stderr


@pytest.fixture(autouse=True)
def _no_code_snapshots(monkeypatch):
    """Runs started by tests would snapshot the repository they run in;
    test_snapshot.py turns snapshots back on in a repository of its own."""
    monkeypatch.setenv("RUNLORE_SNAPSHOT", "0")

"""Runlore against the real `mlflow server`, driven by the same `mlflow` client.

Run through `cargo xtask bench --mlflow` (which installs the pinned client
into .venv and builds the release binary). Both servers start from empty
data dirs on loopback; each workload runs on one server and then on the
other, so slow drift of the machine hits both alike.

Every end-to-end figure comes with the client's own CPU time over the same
calls (the Python client spends milliseconds serialising and parsing), and
with a "server only" figure: the same HTTP requests replayed from bytes
prepared beforehand, over one keep-alive connection, without parsing the
answers. Memory is the server's resident set (the whole process group for
mlflow, whose server runs in worker processes), sampled every 20 ms.
"""

import argparse
import http.client
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] = "0"
os.environ["MLFLOW_HTTP_REQUEST_TIMEOUT"] = "600"
os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"
os.environ["DO_NOT_TRACK"] = "true"

import mlflow  # noqa: E402
from mlflow.entities import Metric, Param  # noqa: E402

FULL = dict(ingest_runs=100, ingest_metrics=10, ingest_steps=1000, latency_calls=500,
            search_runs=5000, search_repeats=10, history_points=100_000, small_files=200,
            large_mib=50)
QUICK = dict(ingest_runs=4, ingest_metrics=10, ingest_steps=200, latency_calls=50,
             search_runs=300, search_repeats=3, history_points=5_000, small_files=20,
             large_mib=4)
START_TIMEOUT_S = 120
SEARCH_FILTER = "metrics.acc > 0.5 AND params.optimizer = 'adam'"
SEARCH_ORDER = ["metrics.loss DESC"]
TOKEN = re.compile(rb'"next_page_token"\s*:\s*"([^"]+)"')


# ---------------------------------------------------------------- servers

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def group_rss(pgid, field="VmRSS:"):
    """Resident bytes of every process in the process group `pgid`
    (`RssAnon:` counts only anonymous memory, without mapped files)."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            if int(fields[2]) != pgid:  # fields[2] is pgrp
                continue
            with open(f"/proc/{entry}/status") as f:
                for line in f:
                    if line.startswith(field):
                        total += int(line.split()[1]) * 1024
        except (OSError, IndexError, ValueError):
            continue
    return total


class Server:
    def __init__(self, name, command, port, workdir):
        self.name = name
        self.url = f"http://127.0.0.1:{port}"
        self.port = port
        self.workdir = workdir
        self.log = open(workdir / "server.log", "wb")
        started = time.perf_counter()
        self.process = subprocess.Popen(command, stdout=self.log, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, start_new_session=True)
        self.startup_s = self._wait_healthy(started)
        self.idle_rss = group_rss(self.process.pid)
        self.peak_rss = self.idle_rss
        self.peak_anon = group_rss(self.process.pid, "RssAnon:")
        self._sampling = True
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._sampler.start()

    def _wait_healthy(self, started):
        deadline = started + START_TIMEOUT_S
        while time.perf_counter() < deadline:
            if self.process.poll() is not None:
                break
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/health")
                if conn.getresponse().status == 200:
                    conn.close()
                    return time.perf_counter() - started
                conn.close()
            except OSError:
                pass
            time.sleep(0.002)
        self.stop()
        tail = (self.workdir / "server.log").read_text(errors="replace")[-3000:]
        raise RuntimeError(f"{self.name} did not become healthy:\n{tail}")

    def _sample(self):
        while self._sampling:
            self.peak_rss = max(self.peak_rss, group_rss(self.process.pid))
            self.peak_anon = max(self.peak_anon, group_rss(self.process.pid, "RssAnon:"))
            time.sleep(0.02)

    def stop(self):
        self._sampling = False
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=20)
            except ProcessLookupError:
                pass
        self.log.close()


def start_runlore(binary, root):
    workdir = root / "runlore"
    workdir.mkdir()
    port = free_port()
    command = [str(binary), "server", "--port", str(port), "--data-dir", str(workdir / "data")]
    return Server("runlore", command, port, workdir)


def start_mlflow(root):
    workdir = root / "mlflow"
    workdir.mkdir()
    port = free_port()
    mlflow_bin = Path(sys.executable).parent / "mlflow"
    command = [str(mlflow_bin), "server", "--backend-store-uri", f"sqlite:///{workdir}/mlflow.db",
               "--artifacts-destination", str(workdir / "artifacts"),
               "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    return Server("mlflow", command, port, workdir)


# ---------------------------------------------------------------- raw replay

class Raw:
    """One keep-alive connection that sends prepared requests and reads the
    answers as bytes, without parsing them."""

    def __init__(self, server):
        self.conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=600)

    def send(self, method, path, body=None, content_type="application/json"):
        headers = {"Content-Type": content_type} if body is not None else {}
        self.conn.request(method, path, body=body, headers=headers)
        response = self.conn.getresponse()
        data = response.read()
        if response.status >= 400:
            raise RuntimeError(f"{method} {path}: {response.status} {data[:300]!r}")
        return data

    def close(self):
        self.conn.close()


def api(path):
    return f"/api/2.0/mlflow/{path}"


# ---------------------------------------------------------------- measuring

class Timer:
    """Wall and this process's CPU time over a block."""

    def __enter__(self):
        self.wall0, self.cpu0 = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall = time.perf_counter() - self.wall0
        self.cpu = time.process_time() - self.cpu0


def percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


# ---------------------------------------------------------------- workloads

def ingest(server, size, runs_count):
    """`runs_count` runs x 10 metrics x 1,000 steps through log_batch (the
    client splits each run's 10,000 points into 1,000-point requests)."""
    client = mlflow.MlflowClient(server.url)
    exp = client.create_experiment("bench-ingest")
    runs = [client.create_run(exp).info.run_id for _ in range(runs_count)]
    now = int(time.time() * 1000)
    batches = []
    for r, run_id in enumerate(runs):
        metrics = [Metric(f"m{k}", (r + k + s) * 1e-3, now + s, s)
                   for s in range(size["ingest_steps"]) for k in range(size["ingest_metrics"])]
        batches.append((run_id, metrics))
    points = sum(len(m) for _, m in batches)
    with Timer() as t:
        for run_id, metrics in batches:
            client.log_batch(run_id, metrics=metrics, synchronous=True)
    # The same requests from bytes: fresh runs, the client's 1,000-point split.
    raw_runs = [client.create_run(exp).info.run_id for _ in range(runs_count)]
    bodies = []
    for run_id, (_, metrics) in zip(raw_runs, batches):
        for i in range(0, len(metrics), 1000):
            chunk = [{"key": m.key, "value": m.value, "timestamp": m.timestamp, "step": m.step}
                     for m in metrics[i:i + 1000]]
            bodies.append(json.dumps({"run_id": run_id, "metrics": chunk}).encode())
    raw = Raw(server)
    with Timer() as r:
        for body in bodies:
            raw.send("POST", api("runs/log-batch"), body)
    raw.close()
    return {"points": points, "requests": len(bodies), "e2e_s": t.wall, "client_cpu_s": t.cpu,
            "raw_s": r.wall}


def log_metric_latency(server, size):
    client = mlflow.MlflowClient(server.url)
    exp = client.create_experiment("bench-latency")
    run_id = client.create_run(exp).info.run_id
    walls, cpus = [], []
    for i in range(size["latency_calls"]):
        with Timer() as t:
            client.log_metric(run_id, "loss", 1.0 / (i + 1), step=i, synchronous=True)
        walls.append(t.wall)
        cpus.append(t.cpu)
    raw = Raw(server)
    raw_walls = []
    now = int(time.time() * 1000)
    for i in range(size["latency_calls"]):
        body = json.dumps({"run_id": run_id, "key": "raw", "value": 0.5, "timestamp": now + i,
                           "step": i}).encode()
        with Timer() as t:
            raw.send("POST", api("runs/log-metric"), body)
        raw_walls.append(t.wall)
    raw.close()
    return {"p50_s": percentile(walls, 0.5), "p95_s": percentile(walls, 0.95),
            "client_cpu_p50_s": percentile(cpus, 0.5), "raw_p50_s": percentile(raw_walls, 0.5),
            "raw_p95_s": percentile(raw_walls, 0.95)}


def populate_search(server, size):
    """Runs with params lr/optimizer, tag team and metrics acc/loss; made with
    8 client threads (setup, not measured)."""
    client = mlflow.MlflowClient(server.url)
    exp = client.create_experiment("bench-search")
    optimizers = ["adam", "sgd", "adamw", "lion"]

    def make(i):
        run_id = client.create_run(exp, tags={"team": f"team-{i % 7}"}).info.run_id
        client.log_batch(run_id, metrics=[Metric("acc", (i * 37 % 1000) / 1000, 0, 0),
                                          Metric("loss", (i * 53 % 1000) / 1000, 0, 0)],
                         params=[Param("lr", str([0.1, 0.01, 0.001][i % 3])),
                                 Param("optimizer", optimizers[i % 4])], synchronous=True)

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(make, range(size["search_runs"])))
    return exp


def search(server, size, exp):
    client = mlflow.MlflowClient(server.url)
    walls, cpus = [], []
    hits = 0
    for _ in range(size["search_repeats"]):
        with Timer() as t:
            page = client.search_runs([exp], SEARCH_FILTER, order_by=SEARCH_ORDER, max_results=100)
        walls.append(t.wall)
        cpus.append(t.cpu)
        hits = len(page)
    seen = 0
    with Timer() as paging:
        token = None
        for _ in range(10_000):
            page = client.search_runs([exp], "", max_results=1000, page_token=token)
            seen += len(page)
            token = page.token
            if not token:
                break
    body = json.dumps({"experiment_ids": [exp], "filter": SEARCH_FILTER, "max_results": 100,
                       "order_by": SEARCH_ORDER, "run_view_type": "ACTIVE_ONLY"}).encode()
    raw = Raw(server)
    raw_walls = []
    for _ in range(size["search_repeats"]):
        with Timer() as t:
            raw.send("POST", api("runs/search"), body)
        raw_walls.append(t.wall)
    with Timer() as raw_paging:
        token = None
        for _ in range(10_000):
            request = {"experiment_ids": [exp], "filter": "", "max_results": 1000,
                       "run_view_type": "ACTIVE_ONLY"}
            if token:
                request["page_token"] = token
            data = raw.send("POST", api("runs/search"), json.dumps(request).encode())
            match = TOKEN.search(data[-400:])
            if not match:
                break
            token = match.group(1).decode()
    raw.close()
    return {"hits": hits, "e2e_s": statistics.median(walls), "client_cpu_s": statistics.median(cpus),
            "raw_s": statistics.median(raw_walls), "paged_runs": seen, "paging_e2e_s": paging.wall,
            "paging_client_cpu_s": paging.cpu, "paging_raw_s": raw_paging.wall}


def history(server, size):
    client = mlflow.MlflowClient(server.url)
    exp = client.create_experiment("bench-history")
    run_id = client.create_run(exp).info.run_id
    n = size["history_points"]
    now = int(time.time() * 1000)
    metrics = [Metric("loss", 1.0 / (s + 1), now + s, s) for s in range(n)]
    client.log_batch(run_id, metrics=metrics, synchronous=True)
    walls, cpus = [], []
    for _ in range(3):
        with Timer() as t:
            got = client.get_metric_history(run_id, "loss")
        walls.append(t.wall)
        cpus.append(t.cpu)
    assert len(got) == n, (server.name, len(got))
    raw = Raw(server)
    raw_walls = []
    for _ in range(3):
        with Timer() as t:
            token = None
            for _ in range(1_000):
                query = {"run_id": run_id, "run_uuid": run_id, "metric_key": "loss",
                         "max_results": 25000}
                if token:
                    query["page_token"] = token
                data = raw.send("GET", api("metrics/get-history?" + urllib.parse.urlencode(query)))
                match = TOKEN.search(data[-400:])
                if not match:
                    break
                token = match.group(1).decode()
        raw_walls.append(t.wall)
    raw.close()
    return {"points": n, "e2e_s": statistics.median(walls), "client_cpu_s": statistics.median(cpus),
            "raw_s": statistics.median(raw_walls)}


def artifacts(server, size, scratch):
    client = mlflow.MlflowClient(server.url)
    exp = client.create_experiment("bench-artifacts")
    run_id = client.create_run(exp).info.run_id
    small = scratch / "small"
    small.mkdir()
    for i in range(size["small_files"]):
        (small / f"file-{i:04}.json").write_text(json.dumps({"i": i, "pad": "x" * 900}))
    large = scratch / "weights.bin"
    with open(large, "wb") as f:
        for i in range(size["large_mib"]):
            f.write(os.urandom(1 << 20))
    out = {}
    with Timer() as t:
        client.log_artifacts(run_id, str(small), artifact_path="small")
    out.update(small_up_s=t.wall, small_up_cpu_s=t.cpu)
    with Timer() as t:
        client.download_artifacts(run_id, "small", str(scratch / "down-small"))
    out.update(small_down_s=t.wall, small_down_cpu_s=t.cpu)
    with Timer() as t:
        client.log_artifact(run_id, str(large))
    out.update(large_up_s=t.wall, large_up_cpu_s=t.cpu)
    with Timer() as t:
        client.download_artifacts(run_id, "weights.bin", str(scratch / "down-large"))
    out.update(large_down_s=t.wall, large_down_cpu_s=t.cpu)
    assert (scratch / "down-large" / "weights.bin").stat().st_size == large.stat().st_size
    # Raw: the same PUTs and GETs from bytes in memory.
    raw = Raw(server)
    root = f"/api/2.0/mlflow-artifacts/artifacts/{exp}/{run_id}/artifacts/raw"
    files = sorted(small.iterdir())
    blobs = [p.read_bytes() for p in files]
    with Timer() as t:
        for p, data in zip(files, blobs):
            raw.send("PUT", f"{root}/{p.name}", data, "application/json")
    out["small_up_raw_s"] = t.wall
    with Timer() as t:
        for p in files:
            raw.send("GET", f"{root}/{p.name}")
    out["small_down_raw_s"] = t.wall
    data = large.read_bytes()
    with Timer() as t:
        raw.send("PUT", f"{root}/weights.bin", data, "application/octet-stream")
    out["large_up_raw_s"] = t.wall
    with Timer() as t:
        raw.send("GET", f"{root}/weights.bin")
    out["large_down_raw_s"] = t.wall
    raw.close()
    return out


# ---------------------------------------------------------------- report

def ms(seconds):
    return f"{seconds * 1000:.1f} ms" if seconds < 10 else f"{seconds:.1f} s"


def ratio(mlflow_value, runlore_value):
    if runlore_value <= 0:
        return "—"
    return f"{mlflow_value / runlore_value:.1f}×"


def report(results, size, stamp):
    rl, mf = results["runlore"], results["mlflow"]
    lines = [f"MLflow peer comparison, {stamp}. Sizes: {json.dumps(size)}.", "",
             "| workload | Runlore e2e | client CPU | Runlore server only | mlflow e2e | "
             "mlflow server only | e2e ratio | server-only ratio |",
             "|---|---|---|---|---|---|---|---|"]

    def rate_ratio(key):
        ours = rl["ingest"]["points"] / rl["ingest"][key]
        theirs = mf["ingest"]["points"] / mf["ingest"][key]
        return f"{ours / theirs:.1f}×"

    def row(name, key_e2e, key_cpu, key_raw, section):
        a, b = rl[section], mf[section]
        fmt = ms
        lines.append(
            f"| {name} | {fmt(a[key_e2e])} | {ms(a[key_cpu]) if key_cpu else '—'} | "
            f"{fmt(a[key_raw])} | {fmt(b[key_e2e])} | {fmt(b[key_raw])} | "
            f"{ratio(b[key_e2e], a[key_e2e])} | {ratio(b[key_raw], a[key_raw])} |")

    points, peer_points = rl["ingest"]["points"], mf["ingest"]["points"]
    lines.append(f"| ingest through log_batch: Runlore {points:,} points, mlflow {peer_points:,} "
                 f"| {rl['ingest']['points'] / rl['ingest']['e2e_s']:,.0f} points/s "
                 f"| {ms(rl['ingest']['client_cpu_s'])} "
                 f"| {rl['ingest']['points'] / rl['ingest']['raw_s']:,.0f} points/s "
                 f"| {mf['ingest']['points'] / mf['ingest']['e2e_s']:,.0f} points/s "
                 f"| {mf['ingest']['points'] / mf['ingest']['raw_s']:,.0f} points/s "
                 f"| {rate_ratio('e2e_s')} | {rate_ratio('raw_s')} |")
    row("log_metric p50", "p50_s", "client_cpu_p50_s", "raw_p50_s", "latency")
    row("log_metric p95", "p95_s", None, "raw_p95_s", "latency")
    row(f"search_runs over {size['search_runs']:,} runs, filter + order, 100 rows",
        "e2e_s", "client_cpu_s", "raw_s", "search")
    row(f"page through all {size['search_runs']:,} runs (1,000 per page)",
        "paging_e2e_s", "paging_client_cpu_s", "paging_raw_s", "search")
    row(f"get_metric_history, {size['history_points']:,} points",
        "e2e_s", "client_cpu_s", "raw_s", "history")
    row(f"{size['small_files']} small files up", "small_up_s", "small_up_cpu_s",
        "small_up_raw_s", "artifacts")
    row(f"{size['small_files']} small files down", "small_down_s", "small_down_cpu_s",
        "small_down_raw_s", "artifacts")
    row(f"{size['large_mib']} MiB file up", "large_up_s", "large_up_cpu_s",
        "large_up_raw_s", "artifacts")
    row(f"{size['large_mib']} MiB file down", "large_down_s", "large_down_cpu_s",
        "large_down_raw_s", "artifacts")
    lines += ["", "| server | start-up (spawn → /health 200) | idle RSS | peak RSS under the "
              "workloads | peak anonymous RSS (without mapped files) |", "|---|---|---|---|---|"]
    for name in ("runlore", "mlflow"):
        r = results[name]
        lines.append(f"| {name} | {ms(r['startup_s'])} | {r['idle_rss'] / 2**20:.1f} MB | "
                     f"{r['peak_rss'] / 2**20:.1f} MB | {r['peak_anon'] / 2**20:.1f} MB |")
    lines += ["", "Client overhead hidden by Runlore (e2e ÷ client CPU − 1):"]
    for name, section, e2e, cpu in [("ingest", "ingest", "e2e_s", "client_cpu_s"),
                                    ("search", "search", "e2e_s", "client_cpu_s"),
                                    ("paging", "search", "paging_e2e_s", "paging_client_cpu_s"),
                                    ("history", "history", "e2e_s", "client_cpu_s")]:
        a = rl[section]
        lines.append(f"- {name}: {100 * (a[e2e] / a[cpu] - 1):+.0f}% "
                     f"(mlflow: {100 * (mf[section][e2e] / mf[section][cpu] - 1):+.0f}%)")
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runlore", required=True, help="the runlore binary (release build)")
    parser.add_argument("--out", required=True, help="where to write the markdown report")
    parser.add_argument("--quick", action="store_true", help="small sizes, to check the harness")
    parser.add_argument("--peer-ingest-runs", type=int, default=10,
                        help="runs of the ingest workload given to mlflow (its rate is flat in the "
                             "number of runs, and all 100 take it tens of minutes); 0 = all")
    args = parser.parse_args()
    size = QUICK if args.quick else FULL
    root = Path(tempfile.mkdtemp(prefix="runlore-mlflow-peer-"))
    servers = {}
    results = {"runlore": {}, "mlflow": {}}
    try:
        servers["runlore"] = start_runlore(Path(args.runlore), root)
        servers["mlflow"] = start_mlflow(root)
        order = ["runlore", "mlflow"]
        exps = {}

        def each(label, fn):
            for name in order:
                print(f"bench> {label} on {name}", file=sys.stderr, flush=True)
                results[name][label] = fn(name)
            order.reverse()  # alternate who goes first

        peer_runs = args.peer_ingest_runs or size["ingest_runs"]
        ingest_runs = {"runlore": size["ingest_runs"],
                       "mlflow": min(size["ingest_runs"], peer_runs)}
        each("ingest", lambda n: ingest(servers[n], size, ingest_runs[n]))
        each("latency", lambda n: log_metric_latency(servers[n], size))
        each("populate", lambda n: exps.__setitem__(n, populate_search(servers[n], size)))
        each("search", lambda n: search(servers[n], size, exps[n]))
        each("history", lambda n: history(servers[n], size))

        def art(n):
            scratch = root / f"art-{n}"
            scratch.mkdir()
            return artifacts(servers[n], size, scratch)

        each("artifacts", art)
        for name, server in servers.items():
            results[name].update(startup_s=server.startup_s, idle_rss=server.idle_rss,
                                 peak_rss=server.peak_rss, peak_anon=server.peak_anon)
    finally:
        for server in servers.values():
            server.stop()
        shutil.rmtree(root, ignore_errors=True)
    stamp = time.strftime("%Y-%m-%d")
    text = report(results, size, stamp)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text)
    Path(args.out).with_suffix(".json").write_text(json.dumps(results, indent=1))
    print(text)


if __name__ == "__main__":
    main()

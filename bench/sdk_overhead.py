"""The Python SDK's cost in the training loop, and its end-to-end rate.

Run through `cargo xtask bench --sdk` (release binary, fresh data dir).

- per call: `run.log_metric(key, value, step=i)` timed one call at a time
  with perf_counter_ns in the calling thread (the timer's own cost, measured
  on an empty call, is subtracted); median and p99 over 200,000 calls.
- end to end: 1,000,000 points logged as fast as the loop goes, then
  `finish()`; points/s from the first call until the server has them all.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "sdk" / "python"))

import runlore  # noqa: E402

CALLS = 200_000
E2E_POINTS = 1_000_000


def start_server(binary, data_dir, port):
    process = subprocess.Popen([str(binary), "server", "--port", str(port), "--data-dir",
                                str(data_dir)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    for _ in range(1_000):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1):
                return process
        except OSError:
            time.sleep(0.01)
    process.kill()
    raise RuntimeError("server did not start")


def per_call(run, calls):
    clock = time.perf_counter_ns
    empty = []
    for _ in range(calls):
        t0 = clock()
        t1 = clock()
        empty.append(t1 - t0)
    timer = statistics.median(empty)
    samples = []
    log = run.log_metric
    for i in range(calls):
        t0 = clock()
        log("loss", 0.5, step=i)
        samples.append(clock() - t0)
    samples.sort()
    return ((statistics.median(samples) - timer) / 1000,
            (samples[int(0.99 * (len(samples) - 1))] - timer) / 1000)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runlore", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    calls, points = (20_000, 100_000) if args.quick else (CALLS, E2E_POINTS)
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    root = Path(tempfile.mkdtemp(prefix="runlore-sdk-bench-"))
    server = start_server(args.runlore, root / "data", port)
    url = f"http://127.0.0.1:{port}"
    try:
        run = runlore.init(project="bench", server=url, journal_dir=root / "journal",
                           capture=False, flush_timeout=600)
        p50, p99 = per_call(run, calls)
        run.finish()
        run = runlore.init(project="bench", server=url, journal_dir=root / "journal",
                           capture=False, flush_timeout=600)
        started = time.perf_counter()
        log = run.log_metric
        for i in range(points):
            log("loss", 0.5, step=i)
        loop_s = time.perf_counter() - started
        run.finish()
        total_s = time.perf_counter() - started
        with urllib.request.urlopen(f"{url}/api/v1/runs/{run.id}/metrics/loss?max_points=2") as r:
            assert b'"total":%d' % points in r.read().replace(b" ", b"")
    finally:
        server.terminate()
        server.wait(timeout=30)
    text = (f"| `log_metric` in the calling thread, median of {calls:,} calls | {p50:.2f} µs |\n"
            f"| `log_metric` in the calling thread, p99 | {p99:.2f} µs |\n"
            f"| {points:,} points: the logging loop alone | {points / loop_s:,.0f} points/s |\n"
            f"| {points:,} points: loop until the server has them all (`finish()`) | "
            f"{points / total_s:,.0f} points/s |\n")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text)
    print(text)


if __name__ == "__main__":
    main()

"""`runlore sync` and a run that is still alive: sync leaves a journal
whose writer holds its lock alone; a run whose folder vanishes rebuilds it
from memory; a process killed mid-run loses at most `LOSS_BOUND_S` of
points, and sync then ends its run as KILLED at its last record's time."""

import json
import os
import random
import shutil
import signal
import struct
import subprocess
import sys
import threading
import time

import runlore
from runlore._journal import read_records
from runlore._shipper import LOSS_BOUND_S
from conftest import REPO, sync

POINTS = 60_000
CHUNK = 500
WAIT_S = 30
KILLS = 5


def steps_of(server, run_id, key):
    return [p["step"] for p in server.history(run_id, key)]


def wait_for(condition, what):
    deadline = time.monotonic() + WAIT_S
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def test_sync_leaves_a_live_run_alone(server, journal_dir, capfd):
    run = runlore.init(project="live", server=server.url, journal_dir=journal_dir,
                       capture=False, flush_timeout=120)
    folder = journal_dir / run.id
    syncs = []

    def sync_three_times():
        for _ in range(3):
            syncs.append(sync(server, journal_dir))

    syncing = threading.Thread(target=sync_three_times)
    step = 0
    deadline = time.monotonic() + WAIT_S
    # Logging goes on, chunk after chunk, for as long as the syncs run.
    while step < POINTS or syncing.is_alive():
        assert time.monotonic() < deadline, "the syncs did not end"
        if step == 10 * CHUNK:
            syncing.start()
        for _ in range(CHUNK):
            run.log_metric("loss", 1.0 / (step + 1), step=step)
            step += 1
        time.sleep(0.001)
        assert (folder / "journal.jsonl").exists()
    syncing.join(WAIT_S)
    assert len(syncs) == 3
    for code, out, err in syncs:
        assert code == 0, err
        assert f"{run.id}: skipped" in out and "live process" in out, out
        assert f"pid {os.getpid()}" in out, out
    assert folder.exists()
    run.finish()
    err = capfd.readouterr().err
    assert "Traceback" not in err and "Error" not in err, err
    assert run._shipper.fatal is None and run._shipper.recoveries == 0
    assert steps_of(server, run.id, "loss") == list(range(step))
    assert server.run(run.id)["status"] == "FINISHED"
    assert not folder.exists()


def test_a_run_survives_its_journal_folder_vanishing(idle_server, journal_dir, capfd):
    run = runlore.init(project="vanish", server=idle_server.url, journal_dir=journal_dir,
                       capture=False, flush_timeout=120)
    folder = journal_dir / run.id
    for step in range(20_000):
        run.log_metric("loss", float(step), step=step)
    wait_for(lambda: not run._items and not run._shipper.draining, "the first drain")
    shutil.rmtree(folder)
    for step in range(20_000, 40_000):
        run.log_metric("loss", float(step), step=step)
    wait_for(lambda: run._shipper.recoveries >= 1, "the journal to be rebuilt")
    wait_for(lambda: not run._items and not run._shipper.draining, "the second drain")
    run.journal.flush()
    # On disk again, everything: a crash now would lose nothing.
    on_disk = [m["step"] for r in read_records(folder / "journal.jsonl") if r["kind"] == "log"
               for m in r["batch"]["metrics"]]
    assert on_disk == list(range(40_000))
    assert any(r["kind"] == "create" for r in read_records(folder / "journal.jsonl"))
    assert json.loads((folder / "lock").read_text())["pid"] == os.getpid()

    idle_server.start()
    shutil.rmtree(folder)  # and once more while it ships
    run.finish()
    err = capfd.readouterr().err
    assert "was removed or broken; it was written again" in err, err
    assert "Traceback" not in err, err
    assert steps_of(idle_server, run.id, "loss") == list(range(40_000))
    assert idle_server.run(run.id)["status"] == "FINISHED"
    assert not folder.exists()



def test_a_journal_that_cannot_be_rebuilt_keeps_the_run_in_memory(idle_server, journal_dir,
                                                                   capfd):
    run = runlore.init(project="vanish", server=idle_server.url, journal_dir=journal_dir,
                       capture=False, flush_timeout=120)
    folder = journal_dir / run.id
    for step in range(5_000):
        run.log_metric("loss", float(step), step=step)
    wait_for(lambda: not run._items and not run._shipper.draining, "the first drain")
    with run.journal._mutex:  # so no rebuild slips in between the two steps
        shutil.rmtree(folder)
        folder.write_text("a file where the journal folder was\n")  # mkdir now fails
    for step in range(5_000, 10_000):
        run.log_metric("loss", float(step), step=step)
    wait_for(lambda: run._shipper.journal_lost, "the journal to be found unwritable")
    assert run._shipper.is_alive()
    folder.unlink()
    wait_for(lambda: run._shipper.recoveries >= 1, "the journal to be rebuilt")
    idle_server.start()
    run.finish()
    err = capfd.readouterr().err
    assert "cannot be written" in err and "kept in memory" in err, err
    assert err.count("cannot be written") == 1, "warned once, not once per drain"
    assert steps_of(idle_server, run.id, "loss") == list(range(10_000))
    assert idle_server.run(run.id)["status"] == "FINISHED"


CHILD = """
import mmap, struct, sys, time
import runlore
run = runlore.init(project="killed", server=sys.argv[1], journal_dir=sys.argv[2],
                   capture=False)
progress = open(sys.argv[3], "r+b")
newest = mmap.mmap(progress.fileno(), 8)
print(run.id, flush=True)
step = 0
while True:
    now = time.time_ns() // 1_000_000
    for _ in range(20):
        run.log_metric("loss", float(step), step=step, timestamp=now)
        step += 1
    newest[0:8] = struct.pack("<q", now)  # one aligned 8-byte store
    time.sleep(0.001)
"""


def logged(folder):
    return [m for r in read_records(folder / "journal.jsonl") if r["kind"] == "log"
            for m in r["batch"]["metrics"]]


def test_a_killed_process_loses_at_most_the_bound_and_sync_ends_its_run(server, journal_dir):
    env = {**os.environ, "PYTHONPATH": str(REPO / "sdk" / "python")}
    killed = []
    for kill in range(KILLS):
        # The child notes the timestamp of its newest logged points here (a
        # shared mapping: it outlives the child), so the loss is measured
        # between what was logged and what was journaled, however the
        # machine scheduled the child.
        progress = journal_dir.parent / f"progress-{kill}"
        progress.write_bytes(bytes(8))
        child = subprocess.Popen([sys.executable, "-c", CHILD, server.url, str(journal_dir),
                                  str(progress)], stdout=subprocess.PIPE, text=True, env=env)
        try:
            run_id = child.stdout.readline().strip()
            folder = journal_dir / run_id
            wait_for(lambda: len(logged(folder)) >= 5_000, "the child to log")
            # Not a wait for anything: the kill must fall at a random phase
            # of the drain interval, not just after the drain the poll saw.
            time.sleep(random.uniform(0.0, 0.1))
            child.send_signal(signal.SIGKILL)
            child.wait(WAIT_S)
        finally:
            if child.poll() is None:
                child.kill()
                child.wait(WAIT_S)
        points = logged(folder)
        newest_logged = struct.unpack("<q", progress.read_bytes())[0]
        lost_ms = newest_logged - max(p["timestamp"] for p in points)
        assert 0 <= lost_ms <= LOSS_BOUND_S * 1000, f"lost the last {lost_ms} ms of points"
        assert [p["step"] for p in points] == list(range(len(points)))
        records = read_records(folder / "journal.jsonl")
        killed.append((run_id, len(points), records[-1]["time"]))

    code, out, err = sync(server, journal_dir)
    assert code == 0, err
    for run_id, count, last_time in killed:
        assert f"{run_id}: " in out and "marked KILLED" in out, out
        got = server.run(run_id)
        assert got["status"] == "KILLED" and got["end_time"] == last_time, got
        assert steps_of(server, run_id, "loss") == list(range(count))
        assert not (journal_dir / run_id).exists()


def test_a_second_writer_is_refused_while_the_first_holds_the_lock(journal_dir):
    from runlore._journal import Journal, JournalInUse

    first = Journal(journal_dir / ("f" * 32))
    try:
        Journal(journal_dir / ("f" * 32))
    except JournalInUse as e:
        assert "in use by another live process" in str(e)
    else:
        raise AssertionError("a second writer took a held journal")
    first.close()
    Journal(journal_dir / ("f" * 32)).close()

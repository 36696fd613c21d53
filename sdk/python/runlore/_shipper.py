"""The background threads: queue -> journal on disk -> server.

The calling thread only appends tuples to a `collections.deque` (atomic and
lock-free in CPython). A journaling thread wakes every `DRAIN_S` and moves
what is queued into journal records, flushed to the OS: a process killed
at any moment loses at most what was queued since the last drain (the
bound is `LOSS_BOUND_S`, docs/SDK.md). The shipping thread sends unsent
records in order, each one acknowledged before the next; it never holds up
journaling, however slow the server is. When the server is unreachable
journaling goes on and shipping retries with exponential backoff.
"""

import json
import sys
import threading
import time
from collections import deque

from ._http import Rejected, Unreachable
from ._journal import JournalInUse, encode_value

POLL_S = 0.05
DRAIN_S = 0.02
# What a process killed mid-run can lose: a drain interval, the drain
# itself, and the scheduler's delay in waking the thread (the interpreter
# hands the GIL over every 5 ms). Promised in docs/SDK.md, proved by
# tests/sdk/test_sync_live.py.
LOSS_BOUND_S = 0.05
BATCH_POINTS = 10_000
BACKOFF_FIRST_S = 0.1
BACKOFF_MAX_S = 5.0
FSYNC_EVERY_S = 1.0

# Queue items.
METRIC, PARAM, TAG, COMPONENT, FILE, BYTES, FINISH = "m", "p", "t", "c", "a", "b", "f"


def warn(message):
    print(f"runlore: {message}", file=sys.stderr, flush=True)


class Shipper(threading.Thread):
    def __init__(self, run_id, journal, client, items, *, keep_journal=False):
        super().__init__(name=f"runlore-shipper-{run_id[:8]}", daemon=True)
        self.run_id = run_id
        self.journal = journal
        self.client = client
        self.items = items
        self.keep_journal = keep_journal
        self.unsent = deque(journal.pending())
        # Held while records move into `unsent` or out of it, so a
        # recovery copies a consistent list.
        self.unsent_lock = threading.Lock()
        self.draining = False
        self.stopping = threading.Event()
        self.abandon = threading.Event()
        self.wake = threading.Event()
        self.backoff = 0.0
        self.next_attempt = 0.0
        self.last_error = None
        self.failures = 0
        self.rejected = 0
        self.recoveries = 0
        self.journal_lost = False
        self.finished_shipping = False
        self.fatal = None

    def idle(self):
        """Nothing queued, being journaled, or unsent."""
        return not self.items and not self.draining and not self.unsent

    # ------------------------------------------------------------ loops

    def run(self):
        journaler = threading.Thread(target=self._journal_loop, daemon=True,
                                     name=f"runlore-journal-{self.run_id[:8]}")
        journaler.start()
        while True:
            if self.abandon.is_set():
                break
            if self.fatal is None and time.monotonic() >= self.next_attempt:
                self._guarded(self._ship)
            if (self.stopping.is_set() and not journaler.is_alive()
                    and (not self.unsent or self.fatal)):
                break
            self.wake.wait(POLL_S if not self.backoff else min(POLL_S, self.backoff))
            self.wake.clear()
        journaler.join()
        self._guarded(self._drain)
        self._guarded(self._check_journal)
        if not self.unsent and self.fatal is None and not self.keep_journal:
            self.journal.remove()
            self.finished_shipping = True
        else:
            self.journal.close()

    def _journal_loop(self):
        """Drains the queue every DRAIN_S until `finish()` asks to stop
        (then once more: the finish record is queued before it asks)."""
        last_fsync = time.monotonic()
        while not self.stopping.is_set():
            self._guarded(self._check_journal)
            self._guarded(self._drain)
            now = time.monotonic()
            if now - last_fsync >= FSYNC_EVERY_S:
                self.journal.flush(durable=True)
                last_fsync = now
            self.stopping.wait(DRAIN_S)
        self._guarded(self._drain)
        self.journal.flush(durable=True)

    def _guarded(self, step):
        """Neither thread may die: what they hold in memory would be lost."""
        try:
            step()
        except Exception as e:  # noqa: BLE001 - reported, and the loop goes on
            self.last_error = f"{type(e).__name__}: {e}"
            warn(f"unexpected error in run {self.run_id}'s background thread "
                 f"({self.last_error}); nothing is dropped, it is tried again")
            self.next_attempt = time.monotonic() + BACKOFF_MAX_S

    def _check_journal(self):
        """Rebuilds the journal when its folder vanished under the live run
        (removed by hand, or by an old `runlore sync`): the records not yet
        on the server are all still in memory."""
        if not self.journal.needs_recovery():
            return
        with self.unsent_lock:
            unsent = list(self.unsent)
        try:
            self.journal.recover(unsent)
        except (OSError, JournalInUse) as e:
            if not self.journal_lost:
                warn(f"the journal of run {self.run_id} cannot be written ({e}); its data is "
                     "kept in memory and shipped from there, but would not survive a crash")
            self.journal_lost = True
            return
        self.journal_lost = False
        self.recoveries += 1
        warn(f"the journal folder {self.journal.folder} of the live run {self.run_id} was "
             f"removed or broken; it was written again with the {len(unsent)} record(s) not "
             "yet on the server (artifact bytes kept only there may be lost)")

    # ------------------------------------------------------------ queue -> journal

    def _drain(self):
        """Moves everything queued into journal records of at most
        BATCH_POINTS points (params and tags ride along)."""
        if not self.items:
            return
        self.draining = True
        try:
            self._drain_queued()
        finally:
            self.draining = False
        self.wake.set()

    def _drain_queued(self):
        metrics, params, tags, components = [], {}, {}, {}

        def emit():
            if metrics or params or tags or components:
                batch = {"metrics": list(metrics), "params": dict(params), "tags": dict(tags)}
                if components:
                    batch["components"] = list(components.values())
                self._record({"kind": "log", "batch": batch})
                metrics.clear()
                params.clear()
                tags.clear()
                components.clear()

        for _ in range(len(self.items)):
            try:
                item = self.items.popleft()
            except IndexError:
                break
            kind = item[0]
            if kind == METRIC:
                _, key, value, step, ts = item
                metrics.append({"key": key, "value": encode_value(value), "step": step,
                                "timestamp": ts})
                if len(metrics) >= BATCH_POINTS:
                    emit()
            elif kind == PARAM:
                if item[1] in params and params[item[1]] != item[2]:
                    emit()  # let the server judge the conflict on its own record
                params[item[1]] = item[2]
            elif kind == TAG:
                tags[item[1]] = item[2]
            elif kind == COMPONENT:
                components[item[1]] = {"name": item[1], "status": item[2], "reason": item[3]}
            elif kind in (FILE, BYTES):
                emit()  # keep the order: what was logged before comes first
                self._keep(item)
            elif kind == FINISH:
                emit()
                self._record({"kind": "finish", "status": item[1], "end_time": item[2]})
        emit()
        self.journal.flush()

    def _keep(self, item):
        """An artifact: its bytes into the journal, then its record."""
        kind, source, path, step = item
        self._check_journal()  # so a failure below is about the source
        try:
            if kind == FILE:
                sha, size = self.journal.keep_file(source)
            else:
                sha, size = self.journal.keep_bytes(source)
        except OSError as e:
            print(f"runlore: cannot read {source!r} for artifact {path!r}: {e}", file=sys.stderr)
            return
        record = {"kind": "artifact", "path": path, "sha256": sha, "size": size}
        if step is not None:
            record["step"] = step
        self._record(record)

    def _record(self, record):
        with self.unsent_lock:
            self.unsent.append(self.journal.append(record))

    # ------------------------------------------------------------ journal -> server

    def _ship(self):
        while self.unsent and not self.abandon.is_set():
            record = self.unsent[0]
            try:
                send(self.client, self.run_id, record, self.journal)
            except Unreachable as e:
                self._failed(e)
                return
            except Rejected as e:
                if record["kind"] == "create":
                    # The id belongs to another run: nothing after it can land.
                    self.fatal = f"cannot create run {self.run_id}: {e}"
                    print(f"runlore: {self.fatal}; the journal stays in {self.journal.folder}",
                          file=sys.stderr)
                    return
                self._set_aside(record, e)
            with self.unsent_lock:
                self.unsent.popleft()
            self.journal.mark_shipped(record["seq"])
            self.backoff = 0.0
            self.last_error = None

    def _failed(self, error):
        self.failures += 1
        self.last_error = str(error)
        self.backoff = BACKOFF_FIRST_S if not self.backoff else min(BACKOFF_MAX_S, self.backoff * 2)
        self.next_attempt = time.monotonic() + self.backoff

    def _set_aside(self, record, error):
        """A record the server refuses (e.g. a param logged again with a
        different value) would block everything after it; it is kept in
        `rejected.jsonl` beside the journal with the reason."""
        self.rejected += 1
        self.journal.set_aside(json.dumps({"error": str(error), "record": record}))
        self.keep_journal = True
        print(f"runlore: the server refused part of run {self.run_id}'s data ({error}); "
              f"kept in {self.journal.folder / 'rejected.jsonl'}", file=sys.stderr)


def send(client, run_id, record, journal):
    """Ships one journal record; raises Unreachable or Rejected."""
    kind = record["kind"]
    if kind == "artifact":
        blob = journal.blob_path(record["sha256"])
        try:
            f = open(blob, "rb")
        except OSError as e:
            raise Rejected(400, f"the journal lost the bytes of {record['path']!r}: {e}") from None
        with f:
            client.put_artifact(run_id, record["path"], f, record["size"], record["sha256"],
                                record.get("step"))
    elif kind == "create":
        client.create_run(record["run"])
    elif kind == "log":
        client.log(run_id, record["batch"])
    elif kind == "finish":
        client.update_run(run_id, {"status": record["status"], "end_time": record["end_time"]})
    else:
        raise Rejected(400, f"unknown journal record kind '{kind}'")

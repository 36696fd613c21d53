"""The append-only journal of one run (format in docs/SDK.md).

A run's journal is a folder `<journal root>/<run id>/` holding:

- `lock`: taken (`flock`) before anything else is written and held by the
  open descriptor for the life of the run, so it is released by the kernel
  however the process ends. `runlore sync` leaves a locked journal alone:
  that is how it tells a live writer from a dead one. The file names the
  writer (`{"pid": …, "host": …}`).
- `journal.jsonl`: one JSON record per line, each with a `seq` that grows by
  one from 1 and the `time` (ms) it was written. Kinds: `create` (the run to
  create, with its client-chosen id), `log` (a batch of metrics, params and
  tags), `artifact` and `finish`.
- `shipped`: the highest `seq` the server has acknowledged, written by
  replacing the file, so a crash leaves either the old or the new number.

Records are only ever appended. Re-sending a record is harmless on the
server (points are deduplicated, params may be logged again with the same
value, the create names its id), which is what makes shipping at-least-once
safe: nothing is lost and nothing is doubled.
"""

import hashlib
import json
import math
import os
import shutil
import socket
import threading
import time
import uuid
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows has no flock: the lock file then only names the writer.
    fcntl = None

JOURNAL_FILE = "journal.jsonl"
SHIPPED_FILE = "shipped"
LOCK_FILE = "lock"
BLOBS_DIR = "blobs"
HASH_CHUNK = 1 << 20


class JournalInUse(RuntimeError):
    """Another live process (a run, or `runlore sync`) holds the journal's lock."""


def default_root():
    """`$RUNLORE_JOURNAL_DIR`, else `~/.runlore/journal` (also the Rust
    side's default for `runlore sync`)."""
    configured = os.environ.get("RUNLORE_JOURNAL_DIR", "").strip()
    if configured:
        return Path(configured)
    return Path.home() / ".runlore" / "journal"


def encode_value(value):
    """Metric values as the native API takes them: NaN and infinities are
    strings, since JSON has no token for them."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def hold_lock(path):
    """Opens and locks `path`, writes this process's pid and host into it,
    and returns the descriptor: the lock lasts as long as it stays open."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        owner = json.dumps({"pid": os.getpid(), "host": socket.gethostname()})
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, (owner + "\n").encode())
    except BlockingIOError:
        os.close(fd)
        raise JournalInUse(f"the journal {path.parent} is in use by another live process "
                           "(a run, or `runlore sync`)") from None
    except BaseException:
        os.close(fd)
        raise
    return fd


class Journal:
    """Writer and reader of one run's journal folder.

    Writes never raise: a journal that cannot be written (its folder was
    removed under the run, the disk is full) is flagged, and the shipper
    rebuilds it from the records it still holds in memory (`recover`)."""

    def __init__(self, folder):
        self.folder = Path(folder)
        self.path = self.folder / JOURNAL_FILE
        self._mutex = threading.RLock()
        self._lock_fd = None
        self._file = None
        self.failed = None
        self.folder.mkdir(parents=True, exist_ok=True)
        # The lock comes before the journal file: sync only looks at folders
        # that hold one, and must never find one without its lock.
        self._lock_fd = hold_lock(self.folder / LOCK_FILE)
        self.seq = self._last_seq()
        self._open()

    def _open(self):
        self._file = open(self.path, "a", encoding="utf-8")

    def _last_seq(self):
        last = 0
        for record in read_records(self.path):
            last = max(last, record["seq"])
        return last

    def next_seq(self):
        self.seq += 1
        return self.seq

    def append(self, record):
        """Appends one record (a dict without `seq`); returns it with its
        `seq` and `time`."""
        with self._mutex:
            record = {"seq": self.next_seq(), "time": time.time_ns() // 1_000_000, **record}
            self._write_line(record)
            return record

    def _write_line(self, record):
        try:
            self._file.write(json.dumps(record, separators=(",", ":"), allow_nan=False) + "\n")
        except (OSError, ValueError) as e:
            self.failed = self.failed or str(e)

    def flush(self, durable=False):
        with self._mutex:
            try:
                self._file.flush()
                if durable:
                    os.fsync(self._file.fileno())
            except (OSError, ValueError) as e:
                self.failed = self.failed or str(e)

    def vanished(self):
        """True when the folder or its journal file was removed or replaced
        under the run (the open file then writes to nowhere)."""
        try:
            return not os.path.samestat(os.stat(self.path), os.fstat(self._file.fileno()))
        except (OSError, ValueError):
            return True

    def needs_recovery(self):
        return self.failed is not None or self.vanished()

    def recover(self, unsent):
        """Starts the folder again from what memory holds: a new lock, the
        records not yet acknowledged (`unsent`, in order, with their seq),
        and a `shipped` just before the first of them. Raises OSError or
        JournalInUse when that is not possible (yet)."""
        with self._mutex:
            self._release()
            self.folder.mkdir(parents=True, exist_ok=True)
            self._lock_fd = hold_lock(self.folder / LOCK_FILE)
            self._file = open(self.path, "w", encoding="utf-8")
            self.failed = None
            for record in unsent:
                self._write_line(record)
            write_shipped(self.folder, unsent[0]["seq"] - 1 if unsent else self.seq)
            self.flush(durable=True)
            if self.failed:
                raise OSError(self.failed)

    def _release(self):
        if self._file is not None and not self._file.closed:
            try:
                self._file.close()
            except OSError:
                pass
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def close(self):
        """Flushes durably and lets go of the lock."""
        with self._mutex:
            if self._file is not None and not self._file.closed:
                self.flush(durable=True)
            self._release()

    def remove(self):
        """Deletes the folder, the lock still held until it is gone, so no
        `runlore sync` can take it over half-way."""
        with self._mutex:
            shutil.rmtree(self.folder, ignore_errors=True)
            self._release()

    def blob_path(self, sha256):
        return self.folder / BLOBS_DIR / sha256

    def keep_bytes(self, data):
        """Stores bytes under their SHA-256 in the journal; returns
        (sha256, size)."""
        digest = hashlib.sha256(data).hexdigest()
        target = self.blob_path(digest)
        if not target.exists():
            target.parent.mkdir(exist_ok=True)
            temp = target.parent / f"incoming-{uuid.uuid4().hex}.tmp"
            temp.write_bytes(data)
            os.replace(temp, target)
        return digest, len(data)

    def keep_file(self, source):
        """Copies a file's bytes into the journal and returns (sha256,
        size): the upload then survives the server being away, the process
        ending, and the source file changing later. (Not a hard link: a file
        changed in place would change the journal's copy with it.)"""
        blobs = self.folder / BLOBS_DIR
        blobs.mkdir(exist_ok=True)
        temp = blobs / f"incoming-{uuid.uuid4().hex}.tmp"
        digest = hashlib.sha256()
        size = 0
        try:
            with open(source, "rb") as src, open(temp, "xb") as dst:
                for chunk in iter(lambda: src.read(HASH_CHUNK), b""):
                    digest.update(chunk)
                    size += len(chunk)
                    dst.write(chunk)
            sha = digest.hexdigest()
            target = self.blob_path(sha)
            if target.exists():
                temp.unlink()
            else:
                os.replace(temp, target)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        return sha, size

    def shipped(self):
        return read_shipped(self.folder)

    def mark_shipped(self, seq):
        with self._mutex:
            try:
                write_shipped(self.folder, seq)
            except OSError as e:
                self.failed = self.failed or str(e)

    def set_aside(self, line):
        """Appends a line to `rejected.jsonl`; False when it cannot be written."""
        with self._mutex:
            try:
                with open(self.folder / "rejected.jsonl", "a", encoding="utf-8") as f:
                    f.write(line + "\n")
                return True
            except OSError as e:
                self.failed = self.failed or str(e)
                return False

    def pending(self):
        """Records after the last shipped one, in order."""
        done = self.shipped()
        return [r for r in read_records(self.path) if r["seq"] > done]


def read_records(path):
    """Every complete record of a journal file. A last line cut short by a
    crash is ignored (it was never acknowledged, so it is not lost: the
    caller's queue still held it)."""
    records = []
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                if not line.endswith("\n"):
                    break
                try:
                    records.append(json.loads(line))
                except ValueError:
                    break
    except FileNotFoundError:
        pass
    return records


def read_shipped(folder):
    try:
        return int((Path(folder) / SHIPPED_FILE).read_text().strip() or 0)
    except (FileNotFoundError, ValueError):
        return 0


def write_shipped(folder, seq):
    target = Path(folder) / SHIPPED_FILE
    temp = target.with_suffix(".tmp")
    temp.write_text(f"{seq}\n")
    os.replace(temp, target)

"""The append-only journal of one run (format in docs/SDK.md).

A run's journal is a folder `<journal root>/<run id>/` holding:

- `journal.jsonl`: one JSON record per line, each with a `seq` that grows by
  one from 1. Kinds: `create` (the run to create, with its client-chosen
  id), `log` (a batch of metrics, params and tags) and `finish`.
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
import uuid
from pathlib import Path

JOURNAL_FILE = "journal.jsonl"
SHIPPED_FILE = "shipped"
BLOBS_DIR = "blobs"
HASH_CHUNK = 1 << 20


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


class Journal:
    """Writer and reader of one run's journal folder."""

    def __init__(self, folder):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.path = self.folder / JOURNAL_FILE
        self.seq = self._last_seq()
        self._file = open(self.path, "a", encoding="utf-8")

    def _last_seq(self):
        last = 0
        for record in read_records(self.path):
            last = max(last, record["seq"])
        return last

    def append(self, record):
        """Appends one record (a dict without `seq`); returns its seq."""
        self.seq += 1
        record = {"seq": self.seq, **record}
        self._file.write(json.dumps(record, separators=(",", ":"), allow_nan=False) + "\n")
        return self.seq

    def flush(self, durable=False):
        self._file.flush()
        if durable:
            os.fsync(self._file.fileno())

    def close(self):
        if not self._file.closed:
            self.flush(durable=True)
            self._file.close()

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
        write_shipped(self.folder, seq)

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

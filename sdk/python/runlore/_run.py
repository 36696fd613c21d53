"""`runlore.init(...)` and the `Run` it returns."""

import atexit
import fnmatch
import json
import math
import os
import re
import sys
import threading
import time
import traceback
import uuid
from collections import deque
from pathlib import Path

from . import _capture, _media, _system
from ._http import Client
from ._journal import Journal, default_root
from ._shipper import BYTES, COMPONENT, FILE, FINISH, METRIC, PARAM, TAG, Shipper

DEFAULT_SERVER = "http://127.0.0.1:5000"
STATUSES = ("FINISHED", "FAILED", "KILLED")
COMPONENT_STATUSES = ("success", "disabled", "failed")
MAX_KEY = 250
MAX_PARAM = 6_000
MAX_TAG = 8_000
KEY_CHARS = re.compile(r"^[\w\-./ :]+$")
ENVIRONMENT_TAG = "runlore.environment"
UNIT_TAG = "runlore.unit."
PACKAGES_ARTIFACT = "runlore/requirements.txt"
GIT_DIFF_ARTIFACT = "runlore/git.diff"


_active = {"run": None}


def active_run():
    """The run most recently started with `init`, if any."""
    return _active["run"]


def _now_ms():
    return time.time_ns() // 1_000_000


def _check_key(kind, key):
    if not isinstance(key, str) or not key:
        raise ValueError(f"{kind} key must be a non-empty string, got {key!r}")
    if len(key) > MAX_KEY:
        raise ValueError(f"{kind} key {key[:40]!r}… is longer than {MAX_KEY} characters")
    if not KEY_CHARS.match(key) or key.startswith("/") or any(
            part in (".", "..") for part in key.split("/")):
        raise ValueError(f"{kind} key {key!r}: keys may hold letters, digits, '_', '-', '.', "
                         "':', '/' and spaces, and no '.' or '..' segments")


def _text(value):
    return value if isinstance(value, str) else json.dumps(value) if isinstance(
        value, (dict, list)) else str(value)


def _run_id(run):
    return run.id if isinstance(run, Run) else str(run)


def _load_features(features):
    """A dict, or the path of a JSON or YAML file (YAML needs PyYAML)."""
    if isinstance(features, dict):
        tree = features
    elif not isinstance(features, (str, os.PathLike)):
        raise ValueError("features must be a dict or the path of a JSON or YAML file, "
                         f"got {type(features).__name__}")
    else:
        path = Path(features)
        text = path.read_text()
        if path.suffix.lower() in (".yaml", ".yml"):
            try:
                import yaml
            except ImportError as e:
                raise ImportError("features from YAML need PyYAML: pip install pyyaml") from e
            tree = yaml.safe_load(text)
        else:
            tree = json.loads(text)
    if not isinstance(tree, dict):
        raise ValueError("features must be a mapping at the root (a YAML or JSON object)")
    return json.loads(json.dumps(tree, default=str))


def _environment_tag(env):
    text = json.dumps(env, separators=(",", ":"))
    if len(text) > MAX_TAG and "command" in env:
        env = {**env, "command": env["command"][:16] + ["…"]}
        text = json.dumps(env, separators=(",", ":"))
    return text[:MAX_TAG]


class Run:
    """A run being logged. Every `log_*` call returns at once; the data is
    journaled and shipped by a background thread."""

    def __init__(self, *, project, experiment, name, tags, params, parent, parents, nested_in,
                 features, server,
                 journal_dir, capture, flush_timeout, keep_journal, system_metrics=False,
                 system_interval=10.0, run_id=None):
        # Checked before anything is written: bad input leaves no journal.
        features = _load_features(features) if features is not None else None
        wanted = _capture.parts(capture)
        self.id = run_id or uuid.uuid4().hex
        self.project = project
        self.experiment = experiment
        self.name = name
        self.server = server
        self.flush_timeout = flush_timeout
        self.finished = False
        self._next_step = {}
        self._units = {}
        self._items = deque()
        self._lock = threading.Lock()
        folder = Path(journal_dir) if journal_dir else default_root()
        self.journal = Journal(folder / self.id)
        run_tags = {}
        for tag in tags or []:
            run_tags[str(tag)] = ""
        environment = None
        if "system" in wanted:
            environment = _capture.capture(git="git" in wanted, gpus="gpus" in wanted)
        diff = _capture.git_diff() if "git" in wanted else None
        if environment is not None:
            if "packages" in wanted:
                environment["packages"] = PACKAGES_ARTIFACT
            if diff:
                environment.setdefault("git", {})["diff"] = GIT_DIFF_ARTIFACT
            run_tags[ENVIRONMENT_TAG] = _environment_tag(environment)
        new = {"id": self.id, "project": project, "experiment": experiment,
               "start_time": _now_ms(), "tags": run_tags,
               "params": {k: _text(v) for k, v in (params or {}).items()}}
        if name:
            new["name"] = name
        links = []
        if parent:
            links.append({"run_id": _run_id(parent)})
        for link in parents or []:
            if isinstance(link, dict):
                links.append({**link, "run_id": _run_id(link["run_id"])})
            else:
                links.append({"run_id": _run_id(link)})
        if links:
            new["parents"] = links
        if nested_in:
            new["parent_run_id"] = _run_id(nested_in)
        if features is not None:
            new["features"] = features
        for key in new["params"]:
            _check_key("param", key)
        if not self.journal.pending() and self.journal.shipped() == 0:
            self.journal.append({"kind": "create", "server": server, "run": new})
            self.journal.flush(durable=True)
        self._shipper = Shipper(self.id, self.journal, Client(server), self._items,
                                keep_journal=keep_journal)
        self._shipper.start()
        if "packages" in wanted:
            # Too long for a tag: the package list goes as a file.
            self._items.append((BYTES, _capture.packages().encode(), PACKAGES_ARTIFACT, None))
        if diff:
            self._items.append((BYTES, diff, GIT_DIFF_ARTIFACT, None))
        # The code as it is now, stored by `runlore run snapshot` in the
        # background (the run may not be on the server yet: it waits).
        self._snapshot = None
        if "code" in wanted:
            self._snapshot = _capture.start_code_snapshot(
                server, self.id, self.journal.folder / "snapshot.log")
        self._system = None
        if system_metrics:
            self._system = _system.SystemSampler(self, system_interval)
            self._system.start()
        atexit.register(self._at_exit)
        _active["run"] = self

    # ------------------------------------------------------------ logging

    def log_metric(self, key, value, step=None, unit=None, timestamp=None):
        """Queues one point; `step` defaults to one past this key's last step.
        `value` may be a pint Quantity (its unit is kept) or anything
        `float()` takes (NaN and infinities included)."""
        if key not in self._next_step:
            _check_key("metric", key)
        if unit is None and hasattr(value, "magnitude") and hasattr(value, "units"):
            unit, value = str(value.units), value.magnitude
        if unit is not None and self._units.get(key) != unit:
            self._units[key] = unit
            self._items.append((TAG, UNIT_TAG + key, str(unit)))
        if step is None:
            step = self._next_step.get(key, 0)
        self._next_step[key] = step + 1
        self._items.append((METRIC, key, float(value), int(step),
                            timestamp if timestamp is not None else time.time_ns() // 1_000_000))

    def log_metrics(self, metrics, step=None, timestamp=None):
        ts = timestamp if timestamp is not None else _now_ms()
        for key, value in metrics.items():
            self.log_metric(key, value, step=step, timestamp=ts)

    def log_param(self, key, value):
        """Params are immutable: logging the same key again with another
        value is refused by the server (and kept aside, see docs/SDK.md)."""
        _check_key("param", key)
        text = _text(value)
        if len(text) > MAX_PARAM:
            raise ValueError(f"param {key!r} is longer than {MAX_PARAM} characters")
        self._items.append((PARAM, key, text))

    def log_params(self, params):
        for key, value in params.items():
            self.log_param(key, value)

    def set_tag(self, key, value):
        _check_key("tag", key)
        text = _text(value)
        if len(text) > MAX_TAG:
            raise ValueError(f"tag {key!r} is longer than {MAX_TAG} characters")
        self._items.append((TAG, key, text))

    def set_tags(self, tags):
        for key, value in tags.items():
            self.set_tag(key, value)

    # ------------------------------------------------------------ files and media

    def _artifact_path(self, path):
        path = str(path).strip("/")
        parts = path.split("/")
        if not path or any(p in ("", ".", "..") for p in parts) or "\\" in path or "\0" in path:
            raise ValueError(f"invalid artifact path {path!r}: a relative path without "
                             "'.', '..' or empty segments")
        return path

    def log_artifact(self, local_path, artifact_path=None):
        """Uploads a file, as `artifact_path/<its name>` (or its name). Its
        bytes are kept in the journal first, so the upload survives an
        absent server."""
        local = Path(local_path)
        if not local.is_file():
            raise FileNotFoundError(f"no such file: {local}")
        target = local.name if not artifact_path else f"{str(artifact_path).strip('/')}/{local.name}"
        self._items.append((FILE, str(local), self._artifact_path(target), None))

    def log_artifacts(self, local_dir, artifact_path=None, include=None, exclude=None):
        """Uploads the files under a folder, keeping their relative paths.
        `include` / `exclude` are glob patterns on those paths (`**/*.json`,
        `cache/**`); returns how many files were queued."""
        root = Path(local_dir)
        if not root.is_dir():
            raise NotADirectoryError(f"no such folder: {root}")

        def matches(rel, patterns):
            return any(fnmatch.fnmatchcase(rel, p) or
                       (p.startswith("**/") and fnmatch.fnmatchcase(rel, p[3:]))
                       for p in patterns)

        count = 0
        for file in sorted(p for p in root.rglob("*") if p.is_file()):
            rel = file.relative_to(root).as_posix()
            if include and not matches(rel, include):
                continue
            if exclude and matches(rel, exclude):
                continue
            target = rel if not artifact_path else f"{str(artifact_path).strip('/')}/{rel}"
            self._items.append((FILE, str(file), self._artifact_path(target), None))
            count += 1
        return count

    def _media(self, kind, key, step, suffix, data):
        _check_key("media", key)
        if step is None:
            step = self._next_step.get(f"{kind}:{key}", 0)
        self._next_step[f"{kind}:{key}"] = step + 1
        path = self._artifact_path(f"media/{kind}/{key}/{int(step)}{suffix}")
        self._items.append((BYTES, data, path, int(step)))
        return path

    def log_image(self, key, image, step=None):
        """A PIL image or an array, stored as PNG at `media/images/<key>/<step>.png`."""
        return self._media("images", key, step, ".png", _media.image_png(image))

    def log_text(self, key, text, step=None):
        return self._media("text", key, step, ".txt", str(text).encode())

    def log_table(self, key, table, step=None, columns=None):
        """Rows (lists or dicts) or a pandas DataFrame, as JSON
        `{"columns", "data"}` at `media/tables/<key>/<step>.json`."""
        return self._media("tables", key, step, ".json", _media.table_json(table, columns))

    def log_audio(self, key, audio, sample_rate=None, step=None):
        """A sound file, or samples (with `sample_rate`) written as WAV."""
        if isinstance(audio, (str, Path)):
            local = Path(audio)
            return self._media("audio", key, step, local.suffix or ".bin", local.read_bytes())
        if not sample_rate:
            raise ValueError("log_audio with samples needs sample_rate")
        return self._media("audio", key, step, ".wav", _media.wav_bytes(audio, sample_rate))

    def log_video(self, key, video, step=None):
        """A video file (mp4, webm, gif …)."""
        local = Path(video)
        return self._media("video", key, step, local.suffix or ".bin", local.read_bytes())

    def log_component(self, name, status="success", reason=""):
        """Reports what became of an expected output of the run, so that
        nothing silently disappears: `success`, `disabled` or `failed`, the
        last two with a reason. Reporting a name again replaces it."""
        _check_key("component", name)
        status = str(status).lower()
        if status not in COMPONENT_STATUSES:
            raise ValueError(f"component status must be one of {', '.join(COMPONENT_STATUSES)}, "
                             f"got {status!r}")
        reason = str(reason or "")
        if status != "success" and not reason.strip():
            raise ValueError(f"a {status} component needs a reason (component {name!r})")
        if len(reason) > MAX_TAG:
            raise ValueError(f"the reason of component {name!r} is longer than {MAX_TAG} "
                             "characters")
        self._items.append((COMPONENT, name, status, reason))

    def set_progress(self, percent):
        """0–100, shown with the run while it is running."""
        percent = float(percent)
        if not 0 <= percent <= 100 or math.isnan(percent):
            raise ValueError(f"progress must be between 0 and 100, got {percent}")
        self.set_tag("runlore.progress", f"{percent:g}")

    # ------------------------------------------------------------ ending

    def flush(self, timeout=None):
        """Waits until everything queued so far reached the server, or
        `timeout` seconds passed; returns True when nothing is left."""
        deadline = time.monotonic() + (self.flush_timeout if timeout is None else timeout)
        self._shipper.wake.set()
        while time.monotonic() < deadline:
            if self._shipper.idle():
                return True
            if not self._shipper.is_alive() or self._shipper.fatal:
                break
            time.sleep(0.01)
        return self._shipper.idle()

    def finish(self, status="FINISHED", timeout=None):
        """Ends the run and waits (at most `timeout` seconds, default
        RUNLORE_FLUSH_TIMEOUT or 30) for its data to reach the server. What
        has not arrived stays in the journal for `runlore sync`."""
        status = str(status).upper()
        if status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}, got {status!r}")
        with self._lock:
            if self.finished:
                return
            self.finished = True
        if self._system:
            self._system.stop()
            self._system.join(timeout=_system.SMI_TIMEOUT_S + 1)
        self._items.append((FINISH, status, _now_ms()))
        shipper = self._shipper
        shipper.stopping.set()
        shipper.wake.set()
        shipper.join(self.flush_timeout if timeout is None else timeout)
        if shipper.is_alive():
            shipper.abandon.set()
            shipper.wake.set()
            shipper.join(5)
        if shipper.unsent or self._items:
            left = len(shipper.unsent)
            reason = f" ({shipper.last_error})" if shipper.last_error else ""
            print(f"runlore: {left} record(s) of run {self.id} not yet on {self.server}{reason}; "
                  f"they are kept in {self.journal.folder}: run `runlore sync` to upload them",
                  file=sys.stderr)

    def _at_exit(self):
        if not self.finished:
            self.finish("FINISHED")

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.finish("FINISHED")
        elif issubclass(exc_type, KeyboardInterrupt):
            self.set_tag("runlore.error", "KeyboardInterrupt")
            self.finish("KILLED")
        else:
            text = "".join(traceback.format_exception(exc_type, exc, tb))
            self.set_tag("runlore.error", text[-MAX_TAG:])
            self.finish("FAILED")
        return False

    def __repr__(self):
        return f"<runlore.Run {self.id} {self.project}/{self.experiment}/{self.name or ''}>"


def init(project="default", experiment="Default", name=None, *, features=None, tags=None,
         params=None, parent=None, parents=None, nested_in=None, server=None,
         journal_dir=None, capture=True, flush_timeout=None, keep_journal=False,
         system_metrics=False, system_interval=10.0, sync_tensorboard=False):
    """Starts a run and returns it (also a context manager).

    `features` is the run's configuration tree: a dict, or a JSON or YAML
    file. `parent` is the run this one derives from (a DAG edge; its
    features are the base of this run's diff); `parents` lists several, as
    run ids or `{"run_id", "kind", "resume_step"}` dicts. `nested_in` makes
    the run a child run (MLflow's nested runs), which is not a DAG edge.

    Inside `runlore exec`, `$RUNLORE_RUN_ID` names the run exec made: the
    SDK attaches to it (its project and experiment win; `params` and `tags`
    are added; capture is left to exec) rather than starting another.

    `server` defaults to `$RUNLORE_SERVER`, then http://127.0.0.1:5000. The
    run is created even when the server is down: its id is chosen here and
    the creation waits in the journal with everything else.

    `capture` records the environment: True (all), False (nothing) or a
    dict turning parts off, e.g. `{"git": False, "packages": False}` (parts:
    system, gpus, git, packages, code). `code` stores a snapshot of the
    working tree (with untracked files) through the `runlore` program
    (`$RUNLORE_BIN` or on PATH), so `runlore run restore RUN --to DIR`
    rebuilds it; without the program only git's commit and diff are kept.

    `system_metrics=True` samples CPU, memory and GPU use every
    `system_interval` seconds as `system.*` metrics. `sync_tensorboard=True`
    also sends what TensorBoard writers log (see `runlore.tensorboard`).
    """
    server = server or os.environ.get("RUNLORE_SERVER", "").strip() or DEFAULT_SERVER
    # Under `runlore exec` the run already exists: attach to it instead of
    # making a second one. Creating with its id in its experiment is a no-op
    # on the server, so the journal keeps its usual shape; exec has already
    # captured code, config and environment.
    attach = os.environ.get("RUNLORE_RUN_ID", "").strip() or None
    if attach:
        project = os.environ.get("RUNLORE_PROJECT") or project
        experiment = os.environ.get("RUNLORE_EXPERIMENT") or experiment
        if capture is True:
            capture = False
    if flush_timeout is None:
        flush_timeout = float(os.environ.get("RUNLORE_FLUSH_TIMEOUT", "30"))
    run = Run(project=project, experiment=experiment, name=name, tags=tags, params=params,
              parent=parent, parents=parents, nested_in=nested_in, features=features,
              server=server, journal_dir=journal_dir, capture=capture,
              flush_timeout=flush_timeout, keep_journal=keep_journal,
              system_metrics=system_metrics, system_interval=float(system_interval),
              run_id=attach)
    if attach:
        # The existing run keeps its own params and tags; these are added.
        if params:
            run.log_params(params)
        if tags:
            run.set_tags({str(t): "" for t in tags})
    if sync_tensorboard:
        from . import tensorboard

        tensorboard.patch()
    return run

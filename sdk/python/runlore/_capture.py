"""What the SDK records about where a run ran, at `init`.

Kept as one JSON document (the tag `runlore.environment`) so that the
reproducibility work can extend it without changing its shape: each part
is a key, and a part that could not be read is absent, never an error.
"""

import os
import platform
import re
import shutil
import socket
import subprocess
import sys

GIT_TIMEOUT_S = 3


PARTS = ("system", "gpus", "git", "packages", "code")
DIFF_LIMIT = 10 * 1024 * 1024


def parts(capture):
    """`capture` as the set of parts to record: True (all), False (none),
    or a dict such as `{"git": False}` (the parts not named stay on)."""
    if capture is True:
        return set(PARTS)
    if not capture:
        return set()
    if isinstance(capture, dict):
        unknown = set(capture) - set(PARTS)
        if unknown:
            raise ValueError(f"unknown capture parts {sorted(unknown)}; known: {', '.join(PARTS)}")
        return {p for p in PARTS if capture.get(p, True)}
    raise ValueError("capture must be True, False or a dict of parts")


def capture(git=True, gpus=True):
    env = {
        "command": [sys.executable, *sys.argv],
        "cwd": os.getcwd(),
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "hostname": socket.gethostname(),
        "os": platform.platform(),
        "cpu_count": os.cpu_count(),
    }
    memory = _memory_bytes()
    if memory:
        env["memory_bytes"] = memory
    found = _gpus() if gpus else None
    if found:
        env["gpus"] = found
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        env["cuda_visible_devices"] = visible
    if git:
        repo = _git()
        if repo:
            env["git"] = repo
    return env


def _gpus():
    """`nvidia-smi`'s view of the GPUs (name, memory, driver, CUDA
    version), or None on a machine without one."""
    smi = shutil.which("nvidia-smi")
    if not smi:
        return None
    query = "index,name,uuid,memory.total,driver_version"
    try:
        listed = subprocess.run([smi, f"--query-gpu={query}", "--format=csv,noheader,nounits"],
                                capture_output=True, text=True, timeout=GIT_TIMEOUT_S,
                                check=False)
        banner = subprocess.run([smi], capture_output=True, text=True, timeout=GIT_TIMEOUT_S,
                                check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if listed.returncode != 0:
        return None
    cuda = re.search(r"CUDA Version:\s*([\d.]+)", banner.stdout or "")
    gpus = []
    for line in listed.stdout.strip().splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) != 5:
            continue
        gpu = {"index": parts[0], "name": parts[1], "uuid": parts[2], "driver": parts[4]}
        try:
            gpu["memory_total_mib"] = int(float(parts[3]))
        except ValueError:
            pass
        if cuda:
            gpu["cuda"] = cuda.group(1)
        gpus.append(gpu)
    return gpus or None


def _memory_bytes():
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def _run_git(*args):
    try:
        done = subprocess.run(["git", *args], capture_output=True, text=True,
                              timeout=GIT_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def _git():
    commit = _run_git("rev-parse", "HEAD")
    if not commit:
        return None
    repo = {"commit": commit}
    branch = _run_git("rev-parse", "--abbrev-ref", "HEAD")
    if branch:
        repo["branch"] = branch
    remote = _run_git("config", "--get", "remote.origin.url")
    if remote:
        repo["remote"] = remote
    status = _run_git("status", "--porcelain")
    repo["dirty"] = bool(status)
    return repo


def packages():
    """The installed distributions as `pip freeze` would list them
    (`name==version`, sorted), from importlib.metadata: no subprocess."""
    from importlib import metadata

    seen = {}
    for dist in metadata.distributions():
        name = dist.metadata.get("Name")
        if name and name.lower() not in seen:
            seen[name.lower()] = f"{name}=={dist.version}"
    return "".join(f"{line}\n" for _, line in sorted(seen.items()))


def git_diff():
    """The working tree's changes against HEAD (tracked files), as text, or
    None outside a repository or when clean. Cut at DIFF_LIMIT bytes."""
    diff = _run_git("diff", "HEAD", "--no-color", "--no-ext-diff")
    if not diff:
        return None
    data = (diff + "\n").encode()
    return data[:DIFF_LIMIT]


def runlore_binary():
    """The `runlore` program for code snapshots: `$RUNLORE_BIN`, else the
    one on PATH; None when there is neither."""
    named = os.environ.get("RUNLORE_BIN", "").strip()
    if named:
        return named if os.access(named, os.X_OK) else None
    import shutil

    return shutil.which("runlore")


def start_code_snapshot(server, run_id, log_path):
    """Starts `runlore run snapshot` in the background: the code under the
    working directory becomes the run's snapshot (tracked, modified and
    untracked files, content-addressed), so `runlore run restore --to`
    can rebuild it. Never blocks and never fails the run: without the
    program it returns None, and the program's messages go to `log_path`."""
    import subprocess

    if os.environ.get("RUNLORE_SNAPSHOT", "").strip() == "0":
        return None
    binary = runlore_binary()
    if not binary:
        return None
    try:
        log = open(log_path, "ab")
    except OSError:
        return None
    with log:
        try:
            return subprocess.Popen(
                [binary, "--server", server, "run", "snapshot", run_id,
                 "--dir", os.getcwd(), "--wait", "120"],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                start_new_session=True,
            )
        except OSError:
            return None

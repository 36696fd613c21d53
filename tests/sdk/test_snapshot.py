"""`runlore.init()` snapshots the code it runs from (through the `runlore`
program, in the background), so a run made from a dirty, never-committed
tree is restored byte for byte by `runlore run restore --to`."""

import os
import subprocess
import time
from pathlib import Path

import runlore
from conftest import runlore_bin


def _git(cwd, *args):
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                   env={**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@x",
                        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@x"})


def _tree(root):
    out = {}
    for path in sorted(Path(root).rglob("*")):
        rel = path.relative_to(root)
        if rel.parts[0] in (".git", ".runlore-run") or not path.is_file():
            continue
        out[str(rel)] = path.read_bytes()
    return out


def test_an_sdk_run_restores_its_dirty_tree(server, journal_dir, tmp_path, monkeypatch):
    repo = tmp_path / "project"
    (repo / "src").mkdir(parents=True)
    (repo / "train.py").write_text("print('v1')\n")
    (repo / "src" / "model.py").write_text("LAYERS = 4\n")
    (repo / "weights.bin").write_bytes(bytes(range(256)) * 8)
    (repo / ".gitignore").write_text("cache/\n")
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "first")
    # Dirty: a change, a binary change, a new file, a deleted file, an
    # ignored folder that must not be captured.
    (repo / "train.py").write_text("print('v2, never committed')\n")
    (repo / "weights.bin").write_bytes(bytes(reversed(range(256))) * 8)
    (repo / "notes.md").write_text("untracked idea\n")
    (repo / "src" / "model.py").unlink()
    (repo / "cache").mkdir()
    (repo / "cache" / "big.tmp").write_text("ignored")

    monkeypatch.setenv("RUNLORE_SNAPSHOT", "1")
    monkeypatch.setenv("RUNLORE_BIN", str(runlore_bin()))
    monkeypatch.chdir(repo)
    with runlore.init(project="snap", server=server.url, journal_dir=journal_dir) as run:
        run.log_metric("loss", 0.5)
    # The snapshot finishes in the background; bounded wait for its manifest.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        listing = server.get(f"/api/v1/runs/{run.id}/artifacts?recursive=true")["files"]
        if any(f["path"] == "runlore/code/manifest.json" for f in listing):
            break
        time.sleep(0.2)
    else:
        log = (Path(journal_dir) / run.id / "snapshot.log").read_text()
        raise AssertionError(f"no snapshot after 60 s: {log}")

    dest = tmp_path / "restored"
    done = subprocess.run(
        [str(runlore_bin()), "--server", server.url, "run", "restore", run.id, "--to", str(dest)],
        capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    expected = _tree(repo)
    del expected["cache/big.tmp"]
    assert _tree(dest) == expected
    assert not (dest / "src" / "model.py").exists()


def test_without_the_program_the_run_still_starts(server, journal_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("RUNLORE_SNAPSHOT", "1")
    monkeypatch.setenv("RUNLORE_BIN", str(tmp_path / "no-such-runlore"))
    monkeypatch.chdir(tmp_path)
    with runlore.init(project="snap", server=server.url, journal_dir=journal_dir) as run:
        run.log_metric("loss", 0.5)
    assert server.run(run.id)["status"] == "FINISHED"

"""Files and media from the SDK: stored on the server, listed, downloaded
byte for byte, and kept in the journal while the server is away."""

import json
import urllib.request

import numpy as np
import pandas as pd
from PIL import Image

import runlore
from conftest import sync


def listing(server, run_id, path=""):
    got = server.get(f"/api/v1/runs/{run_id}/artifacts?path={path}")
    return {(e["name"], e["is_dir"]) for e in got["items"]}


def download(server, run_id, path):
    with urllib.request.urlopen(f"{server.url}/api/v1/runs/{run_id}/artifacts/{path}") as r:
        return r.read(), r.headers["Content-Type"]


def test_files_and_folders(server, journal_dir, tmp_path):
    (tmp_path / "out" / "cache").mkdir(parents=True)
    (tmp_path / "out" / "sub").mkdir()
    (tmp_path / "out" / "a.json").write_text('{"a": 1}')
    (tmp_path / "out" / "sub" / "b.json").write_text('{"b": 2}')
    (tmp_path / "out" / "sub" / "notes.txt").write_text("skip me")
    (tmp_path / "out" / "cache" / "c.json").write_text("{}")
    weights = tmp_path / "model.pt"
    weights.write_bytes(bytes(range(256)) * 4096)
    expected = weights.read_bytes()
    run = runlore.init(project="art", server=server.url, journal_dir=journal_dir)
    run.log_artifact(weights)
    run.log_artifact(weights, artifact_path="checkpoints/epoch-1")
    queued = run.log_artifacts(tmp_path / "out", artifact_path="outputs",
                               include=["**/*.json"], exclude=["cache/**"])
    assert queued == 2
    run.finish()
    # `runlore/` holds the package list the SDK captured at init.
    assert listing(server, run.id) == {("model.pt", False), ("checkpoints", True),
                                       ("outputs", True), ("runlore", True)}
    assert listing(server, run.id, "outputs") == {("a.json", False), ("sub", True)}
    assert listing(server, run.id, "outputs/sub") == {("b.json", False)}
    body, _ = download(server, run.id, "checkpoints/epoch-1/model.pt")
    assert body == expected
    # Logging never touches the user's files.
    assert weights.read_bytes() == expected
    assert (tmp_path / "out" / "a.json").read_text() == '{"a": 1}'
    assert not (journal_dir / run.id).exists()


def test_media(server, journal_dir):
    run = runlore.init(project="media", server=server.url, journal_dir=journal_dir)
    gradient = np.linspace(0, 1, 32 * 16 * 3).reshape(32, 16, 3)
    assert run.log_image("attention", gradient, step=10) == "media/images/attention/10.png"
    run.log_image("attention", Image.new("RGB", (4, 4), "red"))   # step 11
    run.log_text("sample", "the cat sat", step=3)
    run.log_table("preds", [{"id": 1, "label": "cat"}, {"id": 2, "label": "dog"}])
    run.log_table("frame", pd.DataFrame({"x": [1.5, None], "y": ["a", "b"]}))
    run.log_audio("clip", np.sin(np.linspace(0, 440 * 6.28, 16000)), sample_rate=16000)
    run.finish()
    png, kind = download(server, run.id, "media/images/attention/10.png")
    assert kind == "image/png" and png.startswith(b"\x89PNG")
    assert listing(server, run.id, "media/images/attention") == {("10.png", False),
                                                                ("11.png", False)}
    assert download(server, run.id, "media/text/sample/3.txt")[0] == b"the cat sat"
    table = json.loads(download(server, run.id, "media/tables/preds/0.json")[0])
    assert table == {"columns": ["id", "label"], "data": [[1, "cat"], [2, "dog"]]}
    frame = json.loads(download(server, run.id, "media/tables/frame/0.json")[0])
    assert frame == {"columns": ["x", "y"], "data": [[1.5, "a"], [None, "b"]]}
    wav, _ = download(server, run.id, "media/audio/clip/0.wav")
    assert wav[:4] == b"RIFF" and len(wav) == 44 + 2 * 16000


def test_artifacts_wait_in_the_journal_for_sync(idle_server, journal_dir, tmp_path):
    report = tmp_path / "report.txt"
    report.write_text("offline report\n")
    run = runlore.init(project="art", server=idle_server.url, journal_dir=journal_dir,
                       flush_timeout=0.3)
    run.log_artifact(report)
    run.log_text("note", "written on a plane")
    run.finish()
    report.unlink()  # the journal kept its own copy
    idle_server.start()
    code, out, err = sync(idle_server, journal_dir)
    assert code == 0, err
    assert download(idle_server, run.id, "report.txt")[0] == b"offline report\n"
    assert download(idle_server, run.id, "media/text/note/0.txt")[0] == b"written on a plane"


def test_sync_into_a_local_data_dir(idle_server, journal_dir, tmp_path):
    """No server at all: `runlore sync` writes the run and its files straight
    into a data dir, which a server then serves."""
    run = runlore.init(project="local", server=idle_server.url, journal_dir=journal_dir,
                       flush_timeout=0.2)
    run.log_metric("loss", 0.25)
    run.log_text("note", "kept locally")
    run.finish()
    from conftest import runlore_bin
    import subprocess
    # The same database the server will open (its data dir's SQLite file,
    # or its PostgreSQL database when the suite runs there).
    done = subprocess.run([str(runlore_bin()), "--data-dir", str(idle_server.data_dir)]
                          + idle_server.db_args + ["sync", str(journal_dir)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    idle_server.start()
    assert idle_server.run(run.id)["status"] == "FINISHED"
    assert download(idle_server, run.id, "media/text/note/0.txt")[0] == b"kept locally"

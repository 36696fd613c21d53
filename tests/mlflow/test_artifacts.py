"""Artifacts through the proxy: log, list, download, load, odd file names."""

import json
import os
from pathlib import Path

import mlflow
import numpy as np
import pytest
import yaml
from mlflow.exceptions import MlflowException
from PIL import Image


@pytest.fixture
def run_id(client, experiment_id):
    return client.create_run(experiment_id).info.run_id


def listing(client, run_id, path=None):
    return {(f.path, f.is_dir, f.file_size) for f in client.list_artifacts(run_id, path)}


def test_log_artifact_list_and_download(client, run_id, tmp_path):
    src = tmp_path / "hello.txt"
    src.write_text("hello artifacts\n")
    blob = tmp_path / "blob.bin"
    payload = os.urandom(3 * 1024 * 1024 + 17)
    blob.write_bytes(payload)
    client.log_artifact(run_id, str(src))
    client.log_artifact(run_id, str(blob), artifact_path="bin")
    assert listing(client, run_id) == {("hello.txt", False, 16), ("bin", True, None)}
    assert listing(client, run_id, "bin") == {("bin/blob.bin", False, len(payload))}
    out = Path(client.download_artifacts(run_id, "hello.txt", str(tmp_path / "dl")))
    assert out.read_text() == "hello artifacts\n"
    out = Path(client.download_artifacts(run_id, "bin/blob.bin", str(tmp_path / "dl")))
    assert out.read_bytes() == payload


def test_log_artifacts_with_subfolders(client, run_id, tmp_path):
    tree = {"a.csv": "x,y\n1,2\n", "sub/b.json": '{"b": 1}', "sub/deeper/c.txt": "c"}
    src = tmp_path / "outdir"
    for rel, text in tree.items():
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_text(text)
    client.log_artifacts(run_id, str(src), artifact_path="outdir")
    assert listing(client, run_id) == {("outdir", True, None)}
    assert listing(client, run_id, "outdir") == {
        ("outdir/a.csv", False, 8), ("outdir/sub", True, None)}
    assert listing(client, run_id, "outdir/sub") == {
        ("outdir/sub/b.json", False, 8), ("outdir/sub/deeper", True, None)}
    out = Path(client.download_artifacts(run_id, "outdir", str(tmp_path / "dl")))
    got = {str(p.relative_to(out)): p.read_text() for p in out.rglob("*") if p.is_file()}
    assert got == tree


def test_listing_a_missing_directory_is_empty(client, run_id):
    assert client.list_artifacts(run_id, "nothing/here") == []
    assert client.list_artifacts(run_id) == []


def test_download_missing_artifact_fails(client, run_id, tmp_path):
    with pytest.raises(MlflowException):
        client.download_artifacts(run_id, "missing.txt", str(tmp_path))


def test_log_dict_and_text_then_load(experiment_id):
    with mlflow.start_run() as run:
        mlflow.log_dict({"a": [1, 2], "b": {"c": "é"}}, "conf/config.json")
        mlflow.log_dict({"k": "v"}, "conf/config.yaml")
        mlflow.log_text("line one\nline two ✓\n", "notes/readme.md")
    base = f"runs:/{run.info.run_id}"
    assert mlflow.artifacts.load_dict(f"{base}/conf/config.json") == {"a": [1, 2], "b": {"c": "é"}}
    assert yaml.safe_load(mlflow.artifacts.load_text(f"{base}/conf/config.yaml")) == {"k": "v"}
    assert mlflow.artifacts.load_text(f"{base}/notes/readme.md") == "line one\nline two ✓\n"


def test_download_artifacts_by_uri(experiment_id, tmp_path):
    with mlflow.start_run() as run:
        mlflow.log_text("t", "d/one.txt")
        mlflow.log_text("u", "d/two.txt")
    out = mlflow.artifacts.download_artifacts(
        artifact_uri=f"runs:/{run.info.run_id}/d", dst_path=str(tmp_path))
    assert sorted(p.name for p in Path(out).iterdir()) == ["one.txt", "two.txt"]


def test_log_image_numpy(client, experiment_id, tmp_path):
    pixels = np.zeros((8, 6, 3), dtype=np.uint8)
    pixels[2, 3] = [255, 128, 7]
    with mlflow.start_run() as run:
        mlflow.log_image(pixels, "images/dot.png")
    out = client.download_artifacts(run.info.run_id, "images/dot.png", str(tmp_path))
    with Image.open(out) as img:
        assert np.array_equal(np.asarray(img.convert("RGB")), pixels)


def test_log_table(client, experiment_id):
    data = {"name": ["a", "b"], "score": [0.5, 0.75]}
    with mlflow.start_run() as run:
        mlflow.log_table(data=data, artifact_file="tables/t.json")
    run_id = run.info.run_id
    tag = json.loads(client.get_run(run_id).data.tags["mlflow.loggedArtifacts"])
    assert tag == [{"path": "tables/t.json", "type": "table"}]
    df = mlflow.load_table("tables/t.json", run_ids=[run_id])
    assert list(df["name"]) == ["a", "b"]
    assert list(df["score"]) == [0.5, 0.75]


@pytest.mark.parametrize("name", ["my file+v1 é.txt", "naïve – ünïcode ✓.txt", "a+b=c&d (1),x;y.txt"])
def test_odd_file_names(client, run_id, tmp_path, name):
    src = tmp_path / "src" / name
    src.parent.mkdir()
    src.write_text(f"content of {name}")
    client.log_artifact(run_id, str(src), artifact_path="odd dir")
    assert listing(client, run_id, "odd dir") == {
        (f"odd dir/{name}", False, len(src.read_bytes()))}
    out = client.download_artifacts(run_id, f"odd dir/{name}", str(tmp_path / "dl"))
    assert Path(out).read_text() == f"content of {name}"


def test_overwrite_artifact(client, run_id, tmp_path):
    src = tmp_path / "v.txt"
    src.write_text("one")
    client.log_artifact(run_id, str(src))
    src.write_text("two!")
    client.log_artifact(run_id, str(src))
    assert listing(client, run_id) == {("v.txt", False, 4)}
    assert Path(client.download_artifacts(run_id, "v.txt", str(tmp_path / "dl"))).read_text() == "two!"


def test_delete_file_and_directory(api, client, experiment_id, run_id, tmp_path):
    folder = tmp_path / "out"
    (folder / "sub").mkdir(parents=True)
    (folder / "keep.txt").write_text("keep")
    (folder / "drop.txt").write_text("drop")
    (folder / "sub" / "a.txt").write_text("a")
    client.log_artifacts(run_id, str(folder), artifact_path="out")
    root = f"/api/2.0/mlflow-artifacts/artifacts/{experiment_id}/{run_id}/artifacts/out"
    assert api.session.delete(api.url + f"{root}/drop.txt", timeout=30).status_code == 200
    assert api.session.delete(api.url + f"{root}/sub", timeout=30).status_code == 200
    assert listing(client, run_id, "out") == {("out/keep.txt", False, 4)}
    with pytest.raises(MlflowException):
        client.download_artifacts(run_id, "out/drop.txt", str(tmp_path / "dl"))

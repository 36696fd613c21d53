"""Altered artifacts never reach an MLflow client as a successful download.

A byte is flipped in the stored blob behind the server's back (the local blob
folder of the server under test). The real mlflow client must then fail the
download: Runlore checks every 1 MiB chunk before sending it, so a damaged
first chunk is an error answer and a later one breaks the body off short of
its Content-Length. Intact files keep downloading.
"""

import hashlib
import os
from pathlib import Path

import pytest

pytestmark = pytest.mark.runlore_only

MIB = 1 << 20


def blob_file(server, payload):
    digest = hashlib.sha256(payload).hexdigest()
    path = server.data_dir / "blobs" / "sha256" / digest[:2] / digest[2:]
    assert path.is_file(), f"no blob at {path}"
    return path


def flip(path, offset):
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))
    return bytes(data)


def assert_download_fails(client, run_id, artifact, dest, altered):
    with pytest.raises(Exception):
        client.download_artifacts(run_id, artifact, str(dest))
    # Whatever was left behind is not the altered file passed off as whole.
    for leftover in Path(dest).rglob("*"):
        if leftover.is_file():
            assert leftover.read_bytes() != altered


@pytest.fixture
def run_id(client, experiment_id):
    return client.create_run(experiment_id).info.run_id


def test_a_flipped_byte_in_a_large_artifact_fails_the_download(server, client, run_id, tmp_path):
    payload = os.urandom(3 * MIB + 12_345)
    src = tmp_path / "weights.bin"
    src.write_bytes(payload)
    client.log_artifact(run_id, str(src))
    intact = tmp_path / "ok.txt"
    intact.write_text("still fine\n")
    client.log_artifact(run_id, str(intact))

    altered = flip(blob_file(server, payload), 2 * MIB + 77)
    assert_download_fails(client, run_id, "weights.bin", tmp_path / "dl", altered)

    out = Path(client.download_artifacts(run_id, "ok.txt", str(tmp_path / "dl2")))
    assert out.read_text() == "still fine\n"


def test_a_flipped_byte_in_a_small_artifact_fails_the_download(server, client, run_id, tmp_path):
    payload = os.urandom(40_000)
    src = tmp_path / "table.parquet"
    src.write_bytes(payload)
    client.log_artifact(run_id, str(src))
    altered = flip(blob_file(server, payload), 123)
    assert_download_fails(client, run_id, "table.parquet", tmp_path / "dl", altered)

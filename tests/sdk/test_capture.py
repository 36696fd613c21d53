"""What the SDK captures from other libraries: TensorBoard writers (the real
tensorboardX package) and pint quantities."""

import io
import urllib.request

import numpy as np
import pint
import pytest
from PIL import Image
from tensorboardX import SummaryWriter

import runlore


@pytest.fixture
def unpatched():
    yield
    runlore.tensorboard.unpatch()


def test_tensorboard_writer_also_logs_to_the_run(server, journal_dir, tmp_path, unpatched):
    logdir = tmp_path / "tb"
    run = runlore.init(project="tb", server=server.url, journal_dir=journal_dir,
                       sync_tensorboard=True)
    writer = SummaryWriter(logdir=str(logdir))
    for step in range(20):
        writer.add_scalar("train/loss", 1.0 / (step + 1), global_step=step)
    writer.add_scalars("lr", {"encoder": 1e-3, "decoder": 5e-4}, global_step=3)
    writer.add_hparams({"lr": 0.01, "layers": 4}, {"hparam/accuracy": 0.9})
    writer.add_text("notes/summary", "converged", global_step=5)
    writer.add_image("inputs/first", np.random.rand(3, 8, 6), global_step=2)  # CHW
    writer.close()
    run.finish()

    loss = server.history(run.id, "train/loss")
    assert [(p["step"], p["value"]) for p in loss] == [(s, 1.0 / (s + 1)) for s in range(20)]
    assert server.history(run.id, "lr/encoder")[0] == {"step": 3, "value": 1e-3,
                                                        "timestamp": pytest.approx(
                                                            loss[0]["timestamp"], abs=60_000)}
    got = server.run(run.id)
    assert got["params"] == {"lr": "0.01", "layers": "4"}
    assert {m["key"] for m in got["metrics"]} >= {"train/loss", "lr/decoder", "hparam/accuracy"}
    base = f"{server.url}/api/v1/runs/{run.id}/artifacts/media"
    with urllib.request.urlopen(f"{base}/text/notes_summary/5.txt") as r:
        assert r.read() == b"converged"
    with urllib.request.urlopen(f"{base}/images/inputs_first/2.png") as r:
        image = Image.open(io.BytesIO(r.read()))
        assert image.size == (6, 8) and image.mode == "RGB"
    # The writer still wrote its own event files.
    assert any(p.name.startswith("events.out.tfevents") for p in logdir.rglob("*"))


def test_patch_without_a_run_only_writes_event_files(tmp_path, unpatched):
    runlore.tensorboard.patch()
    writer = SummaryWriter(logdir=str(tmp_path / "tb"))
    writer.add_scalar("x", 1.0, 0)   # no active run: nothing else happens
    writer.close()
    assert any((tmp_path / "tb").rglob("events.out.tfevents*"))


def test_pint_quantities_keep_their_unit(server, journal_dir):
    units = pint.UnitRegistry()
    run = runlore.init(project="units", server=server.url, journal_dir=journal_dir)
    run.log_metric("energy", 3.5 * units.joule, step=0)
    run.log_metric("energy", 4.0 * units.joule, step=1)
    run.log_metric("power", 250, unit="W")
    run.finish()
    got = server.run(run.id)
    assert got["tags"]["runlore.unit.energy"] == "joule"
    assert got["tags"]["runlore.unit.power"] == "W"
    assert [p["value"] for p in server.history(run.id, "energy")] == [3.5, 4.0]

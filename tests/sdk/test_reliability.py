"""Nothing is lost and nothing is doubled: the server killed mid-run, the
server absent for the whole run, a sync repeated."""

import shutil

import runlore
from conftest import sync

POINTS = 100_000
CHUNK = 1_000


def steps_of(server, run_id, key):
    return [p["step"] for p in server.history(run_id, key)]


def test_server_killed_and_restarted_mid_run(server, journal_dir):
    run = runlore.init(project="crash", server=server.url, journal_dir=journal_dir,
                       flush_timeout=120)
    run.log_param("lr", "0.1")
    for chunk in range(POINTS // CHUNK):
        if chunk == 30:
            server.kill()
        if chunk == 60:
            server.start()
        for i in range(CHUNK):
            step = chunk * CHUNK + i
            run.log_metric("loss", 1.0 / (step + 1), step=step)
        # Let the shipper see the outage: some batches fail, then succeed.
        __import__("time").sleep(0.005)
    run.finish()
    assert run._shipper.failures > 0, "the outage went unnoticed: the test proved nothing"
    assert steps_of(server, run.id, "loss") == list(range(POINTS))
    got = server.run(run.id)
    assert got["status"] == "FINISHED" and got["params"] == {"lr": "0.1"}
    assert not (journal_dir / run.id).exists()


def test_offline_run_then_sync(idle_server, journal_dir, capfd):
    run = runlore.init(project="offline", experiment="e", name="on-a-plane",
                       server=idle_server.url, journal_dir=journal_dir, flush_timeout=0.5)
    run.log_params({"lr": "0.1", "seed": "7"})
    for step in range(5_000):
        run.log_metric("loss", 1.0 / (step + 1), step=step)
    run.log_metric("nan", float("nan"))
    run.finish()
    assert "runlore sync" in capfd.readouterr().err
    folder = journal_dir / run.id
    assert (folder / "journal.jsonl").exists()

    idle_server.start()
    backup = journal_dir.parent / "journal-copy"
    shutil.copytree(journal_dir, backup)
    code, out, err = sync(idle_server, journal_dir)
    assert code == 0, err
    assert f"{run.id}: " in out and "complete" in out
    assert not folder.exists()
    got = idle_server.run(run.id)
    assert got["name"] == "on-a-plane" and got["status"] == "FINISHED"
    assert got["params"] == {"lr": "0.1", "seed": "7"}
    assert steps_of(idle_server, run.id, "loss") == list(range(5_000))

    # The same journal sent again (say, a sync killed before it could note
    # its progress) changes nothing.
    code, out, err = sync(idle_server, backup / run.id)
    assert code == 0, err
    assert steps_of(idle_server, run.id, "loss") == list(range(5_000))
    assert len(idle_server.history(run.id, "nan")) == 1

    code, out, _ = sync(idle_server, journal_dir)
    assert code == 0 and "nothing to sync" in out


def test_sync_with_the_server_down_keeps_the_journal(idle_server, journal_dir):
    run = runlore.init(project="offline", server=idle_server.url, journal_dir=journal_dir,
                       flush_timeout=0.2)
    run.log_metric("loss", 0.5)
    run.finish()
    code, _, err = sync(idle_server, journal_dir)
    assert code == 5, err
    assert (journal_dir / run.id / "journal.jsonl").exists()

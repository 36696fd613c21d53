"""Every logging call of the SDK lands on the server as written."""

import json
import math

import pytest

import runlore


def test_a_run_logs_everything(server, journal_dir):
    run = runlore.init(project="vit", experiment="lr-sweep", name="12_from_8_lr",
                       tags=["ablation"], params={"seed": 3}, server=server.url,
                       journal_dir=journal_dir)
    run.log_param("lr", 0.01)
    run.log_params({"optimizer": "adam", "layers": [4, 8]})
    run.set_tag("team", "vision")
    for step in range(10):
        run.log_metric("loss", 1.0 / (step + 1), step=step)
    run.log_metric("acc", 0.5)      # steps count up per key when not given
    run.log_metric("acc", 0.7)
    run.log_metrics({"loss.recon": 0.3, "loss.kl.z": 0.1}, step=10)
    run.log_metric("energy", 12.5, unit="J")
    run.log_metric("nan", float("nan"))
    run.log_metric("inf", float("inf"))
    run.set_progress(40)
    run.finish()

    got = server.run(run.id)
    assert got["project"] == "vit"
    assert got["name"] == "12_from_8_lr"
    assert got["status"] == "FINISHED" and got["end_time"] >= got["start_time"]
    assert got["params"] == {"seed": "3", "lr": "0.01", "optimizer": "adam", "layers": "[4, 8]"}
    assert got["tags"]["team"] == "vision"
    assert got["tags"]["ablation"] == ""
    assert got["tags"]["runlore.unit.energy"] == "J"
    assert got["tags"]["runlore.progress"] == "40"
    env = json.loads(got["tags"]["runlore.environment"])
    assert env["python"].count(".") == 2 and env["cpu_count"] >= 1 and env["hostname"]
    assert env["packages"] == "runlore/requirements.txt"
    url = f"{server.url}/api/v1/runs/{run.id}/artifacts/runlore/requirements.txt"
    with __import__("urllib.request").request.urlopen(url) as r:
        packages = r.read().decode().splitlines()
    assert any(line.startswith("pytest==") for line in packages), packages[:5]
    loss = server.history(run.id, "loss")
    assert [(p["step"], p["value"]) for p in loss] == [(s, 1.0 / (s + 1)) for s in range(10)]
    assert [(p["step"], p["value"]) for p in server.history(run.id, "acc")] == [(0, 0.5), (1, 0.7)]
    assert server.history(run.id, "loss.kl.z")[0]["step"] == 10
    assert server.history(run.id, "nan")[0]["value"] == "NaN"
    assert server.history(run.id, "inf")[0]["value"] == "Infinity"
    # Everything arrived, so the journal is gone.
    assert not (journal_dir / run.id).exists()


def test_an_exception_marks_the_run_failed(server, journal_dir):
    with pytest.raises(ZeroDivisionError):
        with runlore.init(project="p", server=server.url, journal_dir=journal_dir) as run:
            run.log_metric("loss", 1.0)
            1 / 0
    got = server.run(run.id)
    assert got["status"] == "FAILED"
    assert "ZeroDivisionError" in got["tags"]["runlore.error"]
    assert len(server.history(run.id, "loss")) == 1


def test_features_parents_and_nesting(server, journal_dir, tmp_path):
    config = tmp_path / "features.yaml"
    config.write_text("model:\n  lr: 0.1\n  layers: [64, 64]\nseed: 1\n")
    with runlore.init(project="p", name="8_base", features=str(config), server=server.url,
                      journal_dir=journal_dir) as base:
        pass
    with runlore.init(project="p", name="12_from_8_lr", parent=base, server=server.url,
                      features={"model": {"lr": 0.01, "layers": [64, 64]}, "seed": 1},
                      journal_dir=journal_dir) as child:
        with runlore.init(project="p", name="trial-0", nested_in=child, server=server.url,
                          journal_dir=journal_dir) as trial:
            pass
    assert server.run(base.id)["status"] == "FINISHED"
    got = server.get(f"/api/v1/runs/{child.id}/features")
    assert got["full"] == {"model": {"lr": 0.01, "layers": [64, 64]}, "seed": 1}
    assert got["diff"] == [{"op": "replace", "path": "/model/lr", "value": 0.01}]
    assert got["parents"] == [{"run_id": base.id, "kind": "derived_from"}]
    assert server.get(f"/api/v1/runs/{base.id}/features")["full"]["model"]["layers"] == [64, 64]
    assert server.run(trial.id)["parent_run_id"] == child.id
    with pytest.raises(ValueError):
        runlore.init(project="p", features=[1, 2], server=server.url, journal_dir=journal_dir)


@pytest.mark.parametrize("key", ["", "a" * 251, "bad|key", "/abs", "a/../b"])
def test_bad_keys_are_refused_in_the_calling_thread(server, journal_dir, key):
    run = runlore.init(project="p", server=server.url, journal_dir=journal_dir)
    with pytest.raises(ValueError):
        run.log_metric(key, 1.0)
    with pytest.raises(ValueError):
        run.log_param(key, "x")
    run.finish()
    assert server.run(run.id)["status"] == "FINISHED"


def test_bad_values_are_refused(server, journal_dir):
    run = runlore.init(project="p", server=server.url, journal_dir=journal_dir)
    with pytest.raises(ValueError):
        run.log_param("long", "x" * 6001)
    with pytest.raises(ValueError):
        run.set_progress(140)
    with pytest.raises((TypeError, ValueError)):
        run.log_metric("m", "not a number")
    with pytest.raises(ValueError):
        run.finish("DONE")
    run.finish("KILLED")
    assert server.run(run.id)["status"] == "KILLED"


def test_a_param_conflict_is_kept_aside_not_lost(server, journal_dir, capfd):
    run = runlore.init(project="p", server=server.url, journal_dir=journal_dir)
    run.log_param("lr", "0.1")
    assert run.flush(10)
    run.log_param("lr", "0.2")
    run.log_metric("loss", 0.5)
    run.finish()
    got = server.run(run.id)
    assert got["params"]["lr"] == "0.1"
    rejected = (journal_dir / run.id / "rejected.jsonl").read_text().splitlines()
    assert len(rejected) == 1 and "lr" in rejected[0]
    assert "refused" in capfd.readouterr().err
    assert got["status"] == "FINISHED"


def test_system_metrics_are_sampled(server, journal_dir):
    run = runlore.init(project="p", server=server.url, journal_dir=journal_dir,
                       system_metrics=True, system_interval=0.05)
    deadline = __import__("time").monotonic() + 10
    while run._system.step < 3 and __import__("time").monotonic() < deadline:
        __import__("time").sleep(0.02)
    run.finish()
    cpu = server.history(run.id, "system.cpu.percent")
    assert len(cpu) >= 3 and all(0 <= p["value"] <= 100 for p in cpu)
    assert [p["step"] for p in cpu] == list(range(len(cpu)))
    memory = server.history(run.id, "system.memory.percent")
    assert 0 < memory[0]["value"] < 100
    assert server.history(run.id, "system.process.rss_mib")[0]["value"] > 1


def test_components_report_every_expected_output(server, journal_dir):
    run = runlore.init(project="p", server=server.url, journal_dir=journal_dir)
    run.log_component("tau_classifier", status="disabled", reason="use_tau_classifier=false")
    run.log_component("embeddings")
    run.log_component("eval_report", status="failed", reason="OOM at batch 12")
    run.log_component("eval_report", status="success")  # retried, now fine
    with pytest.raises(ValueError):
        run.log_component("plots", status="failed")       # a failure needs a reason
    with pytest.raises(ValueError):
        run.log_component("plots", status="skipped", reason="x")
    run.finish()
    got = {c["name"]: (c["status"], c["reason"]) for c in server.run(run.id)["components"]}
    assert got == {"embeddings": ("success", ""), "eval_report": ("success", ""),
                   "tau_classifier": ("disabled", "use_tau_classifier=false")}


def test_capture_records_git_diff_and_parts_switch_off(server, journal_dir, tmp_path, monkeypatch):
    import subprocess
    repo = tmp_path / "repo"
    repo.mkdir()
    git = lambda *args: subprocess.run(["git", *args], cwd=repo, check=True,  # noqa: E731
                                       capture_output=True)
    git("init", "-q")
    git("-c", "user.email=a@b", "-c", "user.name=a", "commit", "-q", "--allow-empty", "-m", "init")
    (repo / "train.py").write_text("lr = 0.1\n")
    git("add", "train.py")
    git("-c", "user.email=a@b", "-c", "user.name=a", "commit", "-q", "-m", "train")
    (repo / "train.py").write_text("lr = 0.01\n")
    monkeypatch.chdir(repo)
    run = runlore.init(project="cap", server=server.url, journal_dir=journal_dir)
    run.finish()
    env = json.loads(server.run(run.id)["tags"]["runlore.environment"])
    assert env["git"]["dirty"] is True and len(env["git"]["commit"]) == 40
    assert env["git"]["diff"] == "runlore/git.diff"
    url = f"{server.url}/api/v1/runs/{run.id}/artifacts/runlore/git.diff"
    with __import__("urllib.request").request.urlopen(url) as r:
        diff = r.read().decode()
    assert "-lr = 0.1" in diff and "+lr = 0.01" in diff

    quiet = runlore.init(project="cap", server=server.url, journal_dir=journal_dir,
                         capture={"git": False, "packages": False})
    quiet.finish()
    got = server.run(quiet.id)
    assert "git" not in json.loads(got["tags"]["runlore.environment"])
    assert server.get(f"/api/v1/runs/{quiet.id}/artifacts")["items"] == []
    with pytest.raises(ValueError):
        runlore.init(project="cap", server=server.url, journal_dir=journal_dir,
                     capture={"gitt": False})

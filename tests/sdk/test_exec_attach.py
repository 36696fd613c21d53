"""`runlore exec -- python script.py`: the SDK inside the command attaches to
the run exec made (RUNLORE_RUN_ID) instead of making a second one, and reads
the resolved config from RUNLORE_CONFIG."""

import os
import subprocess
import sys
import textwrap

from conftest import REPO, runlore_bin, sync

SCRIPT = textwrap.dedent("""
    import os
    import runlore

    config = open(os.environ["RUNLORE_CONFIG"]).read()
    with runlore.init(project="ignored", experiment="also-ignored", params={"extra": 7},
                      tags=["from-sdk"]) as run:
        assert run.id == os.environ["RUNLORE_RUN_ID"]
        run.log_metric("loss", 0.25, step=0)
        run.log_param("config_text", config.strip())
""")


def _exec_train(server_url, name, journal_dir, folder):
    """`runlore exec` of SCRIPT with a base config and one override."""
    (folder / "base.yaml").write_text("lr: 0.1\nlayers: [64, 32]\n")
    (folder / "train.py").write_text(SCRIPT)
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNLORE_")}
    env["PYTHONPATH"] = str(REPO / "sdk" / "python")
    env["RUNLORE_JOURNAL_DIR"] = str(journal_dir)
    return subprocess.run(
        [str(runlore_bin()), "--server", server_url, "-p", "vision", "exec", "-e", "sweep",
         "--config", "base.yaml", "--set", "lr=0.5", "--name", name, "--no-snapshot",
         "--", sys.executable, "train.py"],
        cwd=folder, env=env, capture_output=True, text=True, timeout=120)


def test_the_sdk_attaches_to_the_exec_run(server, journal_dir, tmp_path):
    done = _exec_train(server.url, "attached", journal_dir, tmp_path)
    assert done.returncode == 0, done.stderr

    runs = server.get("/api/v1/runs?project=vision&view=all")["items"]
    assert [r["name"] for r in runs] == ["attached"], runs
    run = server.run(runs[0]["id"])
    assert run["experiment"] == "sweep"
    assert run["status"] == "FINISHED"
    assert run["params"]["extra"] == "7"
    assert run["params"]["lr"] == "0.5"
    assert "lr: 0.5" in run["params"]["config_text"]
    assert run["tags"]["from-sdk"] == ""
    assert run["tags"]["runlore.source"] == "exec"
    assert server.history(run["id"], "loss")[0]["value"] == 0.25
    # No run was made under the names the script asked for.
    assert not _project_exists(server, "ignored")


def _project_exists(server, name):
    projects = server.get("/api/v1/projects?view=all")["items"]
    return any(p["name"] == name for p in projects)


def test_offline_exec_and_its_sdk_journals_sync_into_one_run(idle_server, journal_dir, tmp_path):
    """The server is down for the whole run: exec journals the run (params,
    features, logs, exit status) and the SDK in the command journals its
    metrics for the same run id. `runlore sync` ships exec's journal first,
    so the SDK's create is a no-op and nothing of either is lost."""
    done = _exec_train(idle_server.url, "offline", journal_dir, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "runlore sync" in done.stderr, done.stderr
    folders = sorted(p.name for p in journal_dir.iterdir())
    assert len(folders) == 2 and folders[1] == folders[0] + ".exec", folders

    idle_server.start()
    code, out, err = sync(idle_server, journal_dir)
    assert code == 0, err
    assert list(journal_dir.iterdir()) == [], out

    runs = idle_server.get("/api/v1/runs?project=vision&view=all")["items"]
    assert [r["name"] for r in runs] == ["offline"], runs
    run = idle_server.run(runs[0]["id"])
    assert run["id"] == folders[0]
    assert run["experiment"] == "sweep"
    assert run["status"] == "FINISHED"
    assert run["params"]["lr"] == "0.5"
    assert run["params"]["extra"] == "7"
    assert run["tags"]["from-sdk"] == ""
    assert run["tags"]["runlore.source"] == "exec"
    assert idle_server.history(run["id"], "loss")[0]["value"] == 0.25
    features = idle_server.get(f"/api/v1/runs/{run['id']}/features")
    assert features["full"]["lr"] == 0.5

"""GPU check for the SDK, run by hand on a machine with an NVIDIA GPU
(not part of `cargo xtask test`, whose machines have none):

    python3 tests/gpu/check_gpu.py --runlore target/release/runlore --out result.json

Starts a server, logs a run with system metrics on, trains a small model on
the GPU when PyTorch is installed (a CPU-only loop otherwise), and checks
that the run's environment lists the GPUs and that `system.gpu.*` metrics
arrived. Prints and writes what it found; exits non-zero on a failed check.
"""

import argparse
import json
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "sdk" / "python"))

import runlore  # noqa: E402


def get(url):
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.loads(r.read())


def train(run, steps):
    try:
        import torch
    except ImportError:
        for step in range(steps):
            run.log_metric("loss", 1 / (step + 1), step=step)
            time.sleep(0.01)
        return {"torch": None}
    device = "cuda" if torch.cuda.is_available() else "cpu"
    torch.manual_seed(0)
    x = torch.randn(4096, 512, device=device)
    y = (x[:, :1] > 0).float()
    model = torch.nn.Sequential(torch.nn.Linear(512, 2048), torch.nn.ReLU(),
                                torch.nn.Linear(2048, 1)).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    try:
        from torch.utils.tensorboard import SummaryWriter

        writer = SummaryWriter(log_dir=tempfile.mkdtemp())
    except Exception:  # noqa: BLE001 - the tensorboard package is optional
        writer = None
    started = time.perf_counter()
    for step in range(steps):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        run.log_metric("loss", loss.item(), step=step)
        if writer is not None and step % 100 == 0:
            writer.add_scalar("tb/loss", loss.item(), step)
    if writer is not None:
        writer.add_image("tb/weights", model[0].weight[:64, :64].detach().unsqueeze(0), 0)
        writer.close()
    return {"torch": torch.__version__, "device": device,
            "torch_tensorboard": writer is not None,
            "gpu": torch.cuda.get_device_name(0) if device == "cuda" else None,
            "train_s": time.perf_counter() - started}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runlore", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--steps", type=int, default=2000)
    args = parser.parse_args()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    root = Path(tempfile.mkdtemp())
    server = subprocess.Popen([args.runlore, "server", "--port", str(port), "--data-dir",
                               str(root / "data")], stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(500):
        try:
            get(url + "/health")
            break
        except OSError:
            time.sleep(0.02)
    result = {}
    try:
        with runlore.init(project="gpu-check", name="tiny-mlp", server=url,
                          journal_dir=root / "journal", system_metrics=True,
                          system_interval=0.5, sync_tensorboard=True) as run:
            result["training"] = train(run, args.steps)
            time.sleep(1.2)
        got = get(f"{url}/api/v1/runs/{run.id}")
        env = json.loads(got["tags"]["runlore.environment"])
        keys = get(f"{url}/api/v1/runs/{run.id}/metrics")["keys"]
        result["tensorboard_keys"] = [k for k in keys if k.startswith("tb/")]
        arts = get(f"{url}/api/v1/runs/{run.id}/artifacts?path=media/images")["items"]
        result["tensorboard_images"] = [a["name"] for a in arts]
        result.update(status=got["status"], gpus=env.get("gpus"),
                      system_keys=[k for k in keys if k.startswith("system.")],
                      loss_points=len(get(f"{url}/api/v1/runs/{run.id}/metrics/loss")["points"]))
        gpu_util = [k for k in keys if k.startswith("system.gpu.") and k.endswith("utilization_percent")]
        if gpu_util:
            points = get(f"{url}/api/v1/runs/{run.id}/metrics/{gpu_util[0]}")["points"]
            result["gpu_utilization_samples"] = [p["value"] for p in points]
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(json.dumps(result, indent=1))
    Path(args.out).write_text(json.dumps(result, indent=1))
    checks = [result.get("status") == "FINISHED", bool(result.get("gpus")),
              any(k.startswith("system.gpu.") for k in result.get("system_keys", [])),
              result.get("loss_points") == args.steps]
    sys.exit(0 if all(checks) else 1)


if __name__ == "__main__":
    main()

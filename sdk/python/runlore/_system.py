"""Optional system metrics (`init(system_metrics=True)`): CPU, memory and
GPU utilisation sampled every few seconds by a daemon thread and logged as
`system.*` metrics. Linux `/proc` and `nvidia-smi` only; what cannot be
read is skipped."""

import os
import shutil
import subprocess
import threading

SMI_TIMEOUT_S = 5
GPU_FIELDS = "index,utilization.gpu,memory.used,memory.total,temperature.gpu,power.draw"


def _cpu_times():
    try:
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return idle, sum(fields)


def _meminfo():
    values = {}
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                name, rest = line.split(":", 1)
                values[name] = int(rest.split()[0]) * 1024
    except (OSError, ValueError):
        pass
    return values


def _process_rss():
    try:
        with open(f"/proc/{os.getpid()}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return None


def gpu_samples():
    """One dict per GPU from `nvidia-smi`, or [] without one."""
    smi = shutil.which("nvidia-smi")
    if not smi:
        return []
    try:
        done = subprocess.run([smi, f"--query-gpu={GPU_FIELDS}", "--format=csv,noheader,nounits"],
                              capture_output=True, text=True, timeout=SMI_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return []
    if done.returncode != 0:
        return []
    samples = []
    for line in done.stdout.strip().splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) != 6:
            continue
        sample = {"index": parts[0]}
        for name, text in zip(("utilization_percent", "memory_used_mib", "memory_total_mib",
                               "temperature_c", "power_w"), parts[1:]):
            try:
                sample[name] = float(text)
            except ValueError:
                pass  # "[N/A]" on some boards
        samples.append(sample)
    return samples


class SystemSampler(threading.Thread):
    def __init__(self, run, interval):
        super().__init__(name="runlore-system-metrics", daemon=True)
        self.run_ = run
        self.interval = interval
        self.stop_event = threading.Event()
        self.step = 0

    def run(self):
        previous = _cpu_times()
        while not self.stop_event.wait(self.interval):
            current = _cpu_times()
            self.sample(previous, current)
            previous = current

    def sample(self, previous, current):
        metrics = {}
        if previous and current and current[1] > previous[1]:
            busy = 1 - (current[0] - previous[0]) / (current[1] - previous[1])
            metrics["system.cpu.percent"] = round(100 * busy, 2)
        mem = _meminfo()
        if "MemTotal" in mem and "MemAvailable" in mem:
            metrics["system.memory.percent"] = round(
                100 * (1 - mem["MemAvailable"] / mem["MemTotal"]), 2)
        rss = _process_rss()
        if rss:
            metrics["system.process.rss_mib"] = round(rss / 2**20, 1)
        for gpu in gpu_samples():
            for name in ("utilization_percent", "memory_used_mib", "temperature_c", "power_w"):
                if name in gpu:
                    metrics[f"system.gpu.{gpu['index']}.{name}"] = gpu[name]
        if metrics:
            self.run_.log_metrics(metrics, step=self.step)
            self.step += 1

    def stop(self):
        self.stop_event.set()

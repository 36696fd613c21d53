// Starts the real `runlore` binary on a free loopback port with a fresh
// data dir, and seeds data through the real native API.

import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export async function startServer(binary) {
  const dataDir = mkdtempSync(join(tmpdir(), "runlore-ui-e2e-"));
  const child = spawn(binary, ["server", "--host", "127.0.0.1", "--port", "0", "--data-dir", dataDir], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`runlore server did not start in 30 s:\n${output}`)), 30_000);
    const onData = (chunk) => {
      output += chunk.toString();
      const m = output.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`runlore server exited with ${code}:\n${output}`));
    });
  });
  child.removeAllListeners("exit");
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    }
  };
  return {
    url,
    stop,
    cleanup: async () => {
      await stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export function client(base) {
  async function call(method, path, body, raw) {
    const response = await fetch(base + "/api/v1" + path, {
      method,
      headers: raw ? { "content-type": "application/octet-stream" } : body ? { "content-type": "application/json" } : {},
      body: raw ?? (body ? JSON.stringify(body) : undefined),
      signal: AbortSignal.timeout(120_000),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
    return text ? JSON.parse(text) : null;
  }
  return {
    get: (p) => call("GET", p),
    post: (p, b) => call("POST", p, b),
    put: (p, b) => call("PUT", p, b),
    patch: (p, b) => call("PATCH", p, b),
    putBytes: (p, bytes) => call("PUT", p, undefined, bytes),
  };
}

// A 4×4 red PNG.
const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAQAAAAECAIAAAAmkwkpAAAAEklEQVR4nGP4z8DAwMDAxMDAAAAeIQL/7pFaNQAAAABJRU5ErkJggg==",
  "base64",
);

function curve(steps, start, end, noise, seed) {
  let x = seed;
  const rand = () => ((x = (x * 1103515245 + 12345) % 2147483648) / 2147483648) - 0.5;
  const t0 = 1_790_000_000_000;
  return Array.from({ length: steps }, (_, s) => ({
    step: s,
    timestamp: t0 + s * 1000,
    value: end + (start - end) * Math.exp(-s / (steps / 5)) + noise * rand(),
  }));
}

/** The demo project: a small DAG with features, metrics, artifacts, a failed run. */
export async function seed(api) {
  await api.post("/projects", { name: "vision", description: "ViT experiments (seeded by the UI e2e test)" });
  const mk = async (name, features, parents, params, tags = {}) =>
    api.post("/runs", {
      project: "vision",
      experiment: name.startsWith("ablation") ? "ablations" : "lr-sweep",
      name,
      status: "RUNNING",
      features,
      parents: parents.map((run_id) => ({ run_id, kind: name.startsWith("ablation") ? "ablation_of" : "derived_from" })),
      params,
      tags,
    });
  const log = async (run, points, extra = {}) => api.post(`/runs/${run.id}/log`, { metrics: points, ...extra });
  const metrics = (key, pts) => pts.map((p) => ({ key, ...p }));

  const base = await mk(
    "base",
    { model: { arch: "vit", depth: 12, lr: 0.1, dropout: 0.1 }, data: { aug: "basic", batch: 256 } },
    [],
    { lr: "0.1", depth: "12" },
    {
      team: "vision",
      "runlore.environment": JSON.stringify({
        command: ["python", "train.py", "--lr", "0.1"],
        cwd: "/work/vit",
        python: "3.11.9",
        hostname: "gpu-box",
        os: "Linux-6.1",
        cpu_count: 16,
        gpus: [{ name: "H200" }],
        git: { commit: "3f2a9c1d0e8b7a6f5e4d3c2b1a09f8e7d6c5b4a3", branch: "main", dirty: true },
      }),
    },
  );
  const lr = await mk(
    "lr-0.01",
    { model: { arch: "vit", depth: 12, lr: 0.01, heads: 8 }, data: { aug: "basic", batch: 256 } },
    [base.id],
    { lr: "0.01", depth: "12" },
    { team: "vision" },
  );
  const deeper = await mk(
    "deeper",
    { model: { arch: "vit", depth: 24, lr: 0.1, dropout: 0.1 }, data: { aug: "basic", batch: 256 } },
    [base.id],
    { lr: "0.1", depth: "24" },
    { team: "vision" },
  );
  const aug = await mk(
    "ablation-aug",
    { model: { arch: "vit", depth: 24, lr: 0.1, dropout: 0.1 }, data: { aug: "strong", batch: 256 } },
    [deeper.id],
    { lr: "0.1", depth: "24" },
    { team: "robustness", "runlore.progress": "40" },
  );
  const failed = await mk(
    "diverged",
    { model: { arch: "vit", depth: 12, lr: 1.0, heads: 8 }, data: { aug: "basic", batch: 256 } },
    [lr.id],
    { lr: "1.0", depth: "12" },
    { team: "vision", "runlore.error": "RuntimeError: loss is NaN at step 60" },
  );
  const planned = await api.post("/runs", { project: "vision", experiment: "lr-sweep", name: "next-idea", status: "PLANNED" });

  await log(base, [...metrics("loss", curve(500, 2.5, 0.6, 0.05, 1)), ...metrics("acc", curve(500, 0.1, 0.78, 0.01, 2))], {
    components: [
      { name: "checkpoint", status: "success" },
      { name: "tensorboard", status: "disabled", reason: "not installed" },
    ],
  });
  await log(lr, [...metrics("loss", curve(500, 2.5, 0.4, 0.05, 3)), ...metrics("acc", curve(500, 0.1, 0.85, 0.01, 4))]);
  await log(deeper, [...metrics("loss", curve(500, 2.6, 0.5, 0.05, 5)), ...metrics("acc", curve(500, 0.1, 0.81, 0.01, 6))]);
  await log(aug, [...metrics("loss", curve(200, 2.6, 0.9, 0.05, 7)), ...metrics("acc", curve(200, 0.1, 0.6, 0.01, 8))]);
  const diverging = curve(60, 2.5, 4, 0.2, 9);
  diverging.push({ step: 60, timestamp: diverging[59].timestamp + 1000, value: "NaN" });
  await log(failed, metrics("loss", diverging));

  await api.putBytes(`/runs/${base.id}/artifacts/config.json`, Buffer.from(JSON.stringify({ lr: 0.1, depth: 12 })));
  await api.putBytes(`/runs/${lr.id}/artifacts/config.json`, Buffer.from(JSON.stringify({ lr: 0.01, depth: 12, heads: 8 })));
  await api.putBytes(`/runs/${base.id}/artifacts/notes.txt`, Buffer.from("baseline run\nseeded by the e2e test\n"));
  await api.putBytes(`/runs/${base.id}/artifacts/eval/confusion.csv`, Buffer.from("class,precision,recall\ncat,0.9,0.8\ndog,0.85,0.88\n"));
  await api.putBytes(`/runs/${base.id}/artifacts/eval/plot.png`, PNG);

  for (const r of [base, lr, deeper]) await api.patch(`/runs/${r.id}`, { status: "FINISHED" });
  await api.patch(`/runs/${failed.id}`, { status: "FAILED" });
  return { base, lr, deeper, aug, failed, planned };
}

/** 10,000 runs, and one run with a 1,000,000-point metric. */
export async function seedLarge(api) {
  await api.post("/projects", { name: "large", description: "10,000 runs" });
  const total = 10_000;
  let next = 0;
  const worker = async () => {
    while (next < total) {
      const i = next++;
      const run = await api.post("/runs", {
        project: "large",
        experiment: `sweep-${i % 10}`,
        name: `trial-${i}`,
        status: "FINISHED",
        params: { lr: String((i % 100) / 1000), seed: String(i) },
      });
      await api.post(`/runs/${run.id}/log`, {
        metrics: [{ key: "acc", value: i % 97 === 0 ? "NaN" : (i % 1000) / 1000, step: 0 }],
      });
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  const big = await api.post("/runs", { project: "large", experiment: "long", name: "million-points", status: "RUNNING" });
  const batch = 100_000;
  for (let start = 0; start < 1_000_000; start += batch) {
    const metrics = Array.from({ length: batch }, (_, j) => {
      const s = start + j;
      return { key: "loss", step: s, timestamp: 1_790_000_000_000 + s, value: 1 / Math.sqrt(s + 1) + 0.01 * Math.sin(s / 50) };
    });
    await api.post(`/runs/${big.id}/log`, { metrics });
  }
  return { big };
}

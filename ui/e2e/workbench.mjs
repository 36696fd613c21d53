// The e2e checks of the workbench gaps (issue 8): `runlore demo` seeding
// through the server, key metrics from the project settings with best
// values from the server's summaries, feature columns and grouping, and
// the run page's logs (a live tail), media by step and provenance.

import { execFileSync } from "node:child_process";

export async function workbench({ page, api, base, binary, check, shot }) {
  console.log("runlore demo");
  const out = execFileSync(binary, ["--server", base, "demo"], { encoding: "utf8" });
  check(/Seeded project 'demo': 10 runs/.test(out), "runlore demo seeds a project through the server");
  const again = execFileSync(binary, ["--server", base, "demo"], { encoding: "utf8" });
  check(/already exists/.test(again), "runlore demo a second time leaves the project alone");
  const demo = (await api.get("/runs?project=demo&limit=100")).items;
  const run = (name) => demo.find((r) => r.name === name);

  console.log("key metrics from the server");
  await page.goto(`${base}/projects/demo/settings`);
  await page.getByLabel("aggregation of val_loss").waitFor();
  check((await page.getByLabel("aggregation of val_loss").inputValue()) === "best", "settings show the server's key metrics");
  await page.getByLabel("key metric").fill("x,y");
  await page.getByRole("button", { name: "Add key metric" }).click();
  await page.getByTestId("key-metric-error").getByText("contains ','").waitFor();
  check(true, "a key metric the server refuses shows its error inline");
  await shot(page, "20-settings-key-metric-error");

  await page.goto(`${base}/projects/demo`);
  await page.getByTestId("run-count").getByText("10 runs").waitFor();
  await page.getByRole("columnheader", { name: /val_loss \(best\)/ }).waitFor();
  const target = run("5_resnet34");
  // a run whose best val_loss is not its latest one
  const latestOf = (r) => Number(r.metrics.find((m) => m.key === "val_loss")?.value);
  const sums = await api.post("/runs/metric-summaries", { run_ids: demo.map((r) => r.id), keys: ["val_loss"] });
  const pick = sums.items.find((s) => s.min < latestOf(demo.find((r) => r.id === s.run_id)) - 1e-6);
  check(pick !== undefined, "the demo has a run whose best val_loss is not its latest");
  const best = pick.min;
  const cell = page.locator(`.tr[data-run="${pick.run_id}"] .td.num`).first();
  await page.waitForFunction(
    ([id, want]) => {
      const td = document.querySelector(`.tr[data-run="${id}"] .td.num`);
      return td && Math.abs(parseFloat(td.textContent) - want) <= Math.abs(want) * 1e-4;
    },
    [pick.run_id, best],
  );
  check(true, `the val_loss column shows the best value (${await cell.textContent()}), not the latest`);
  const targetCell = page.locator(`.tr[data-run="${target.id}"] .td.num`).first();
  await page.getByLabel("baseline 1_baseline").click();
  // The highlighting follows the click on the next render: wait for it
  // (bounded) rather than reading the class at once.
  await page
    .waitForFunction(
      (id) => /better/.test(document.querySelector(`.tr[data-run="${id}"] .td.num`)?.className ?? ""),
      target.id,
      { timeout: 10_000 },
    )
    .catch(() => undefined);
  check(/better/.test(await targetCell.getAttribute("class")), "the baseline is judged on the aggregated value");

  console.log("feature columns and grouping");
  await page.getByRole("button", { name: "Columns ▾" }).click();
  const chooser = page.getByTestId("column-chooser");
  await chooser.locator('[data-kind="feature"]').getByLabel("model.arch").click();
  await page.locator(".th", { hasText: "model.arch" }).nth(1).waitFor();
  await page.getByRole("button", { name: "Columns ▾" }).click();
  await page.locator(`.tr[data-run="${target.id}"] [data-col="feature:model.arch"]`).getByText("resnet34").waitFor();
  check(true, "a feature path is offered as a column and shows each run's value");
  await page.locator(".th", { hasText: "model.arch" }).nth(1).click();
  await page.waitForURL(/order=features/);
  const archs = async () =>
    (await page.locator('.tr[data-run] [data-col="feature:model.arch"]').allTextContents()).filter((t) => t.startsWith("resnet"));
  // The rows are re-read from the server in its order, descending on the
  // first click (bounded wait).
  await page
    .waitForFunction(
      () => {
        const v = [...document.querySelectorAll('.tr[data-run] [data-col="feature:model.arch"]')].map((e) => e.textContent ?? "").filter((x) => x.startsWith("resnet"));
        return v.length > 1 && v.every((x, i) => i === 0 || v[i - 1] >= x);
      },
      null,
      { timeout: 10_000 },
    )
    .catch(() => undefined);
  const sortedArchs = await archs();
  check(
    sortedArchs.length > 1 && sortedArchs.every((v, i) => i === 0 || sortedArchs[i - 1] >= v),
    `a feature column sorts on the server, first click descending (${sortedArchs.join(", ")})`,
  );
  await page.locator('select[aria-label="group by"] option[value="feature:model.arch"]').waitFor({ state: "attached" });
  await page.getByLabel("group by").selectOption("feature:model.arch");
  await page.locator(".tr.group", { hasText: "resnet34" }).waitFor();
  const groups = await page.locator(".tr.group").allTextContents();
  check(groups.some((g) => g.startsWith("resnet18")) && groups.some((g) => g.startsWith("resnet34")), `runs are grouped by a feature value (${groups.join(", ")})`);
  await shot(page, "21-feature-columns-grouping");

  console.log("run page: logs, media, lineage");
  await page.goto(`${base}/runs/${target.id}?tab=logs`);
  await page.getByTestId("log-text").getByText("done").waitFor();
  check((await page.getByText("finished: not polling").count()) === 1, "a finished run's log is shown and not polled");
  await page.goto(`${base}/runs/${target.id}?tab=artifacts`);
  await page.locator('[data-artifact="config.yaml"]').click();
  await page.getByLabel("compare artifact with run").selectOption({ label: "4_adam_augment" });
  const sideBySide = page.getByTestId("artifact-side-by-side");
  await sideBySide.getByText("changed lines").waitFor();
  check(
    (await sideBySide.locator(".worse", { hasText: "resnet34" }).count()) === 1 &&
      (await sideBySide.locator(".better", { hasText: "resnet18" }).count()) === 1,
    "a YAML artifact is diffed against another run's by the server, side by side",
  );
  await shot(page, "22a-artifact-diff-yaml");
  await page.goto(`${base}/runs/${target.id}?tab=media`);
  const step = page.getByTestId("media-step");
  await step.getByText("300").waitFor();
  await page.getByLabel("step of media/confusion/step_#.png").fill("0");
  await step.getByText("100").waitFor();
  await page.waitForFunction(() => {
    const img = document.querySelector('[data-testid="run-media"] img');
    return img && img.complete && img.naturalWidth === 100 && img.src.includes("step_0100");
  });
  check(true, "media logged by step are shown with a step slider");
  await shot(page, "22-run-media-by-step");
  await page.goto(`${base}/runs/${target.id}?tab=lineage`);
  const inputs = page.getByTestId("lineage-inputs");
  await inputs.getByText("data/split.csv").waitFor();
  await page.getByTestId("lineage-outputs").getByText("config.yaml").waitFor({ timeout: 10_000 }).catch(() => undefined);
  check((await page.getByTestId("lineage-outputs").getByText("config.yaml").count()) === 1, "the lineage tab lists the run's outputs");
  const provJson = await page.getByRole("link", { name: "PROV-JSON" }).getAttribute("href");
  const provN = await page.getByRole("link", { name: "PROV-N" }).getAttribute("href");
  const pj = await (await fetch(base + provJson)).json();
  const pn = await (await fetch(base + provN)).text();
  check(pj.activity && pj.entity && /^document/m.test(pn), "the PROV-JSON and PROV-N links download the run's provenance");
  await shot(page, "23-run-lineage");
  await inputs.getByRole("link", { name: "1_baseline" }).click();
  await page.waitForURL(`**/runs/${run("1_baseline").id}`);
  check(true, "an input links to the run that produced it");
  await page.goto(`${base}/runs/${target.id}?tab=report`);
  const report = page.getByTestId("run-report");
  await report.getByRole("heading", { name: "Metrics" }).waitFor();
  const reportTables = await report.locator("table").count();
  check(reportTables >= 2 && (await report.getByText("val_loss").count()) > 0, `the report tab renders the run's REPORT.md with its tables (${reportTables})`);
  await shot(page, "23b-run-report");

  console.log("live log tail");
  const live = await api.post("/runs", { project: "demo", experiment: "tuning", name: "live-tail", status: "RUNNING" });
  const lines = (n) => Array.from({ length: n }, (_, i) => `epoch ${i + 1} loss ${(1 / (i + 1)).toFixed(4)}`).join("\n") + "\n";
  await api.putBytes(`/runs/${live.id}/artifacts/logs/stdout.log`, Buffer.from(lines(120)));
  await page.goto(`${base}/runs/${live.id}?tab=logs`);
  await page.getByTestId("log-text").getByText("epoch 120 ").waitFor();
  await page.getByTestId("log-live").waitFor();
  await api.putBytes(`/runs/${live.id}/artifacts/logs/stdout.log`, Buffer.from(lines(150)));
  await page.getByTestId("log-text").getByText("epoch 150 ").waitFor({ timeout: 15_000 });
  // Scrolling to the end follows the render: wait for it (bounded).
  const atEnd = await page
    .waitForFunction(
      () => {
        const el = document.querySelector('[data-testid="log-text"]');
        return el && el.scrollTop + el.clientHeight >= el.scrollHeight - 4;
      },
      undefined,
      { timeout: 10_000 },
    )
    .then(() => true, () => false);
  check(atEnd, "a running run's log is re-read and kept scrolled to its end");
  await shot(page, "24-run-logs-live");
  await api.patch(`/runs/${live.id}`, { status: "FINISHED" });
  await page.getByText("finished: not polling").waitFor({ timeout: 15_000 });
  check(true, "polling stops when the run finishes");
}

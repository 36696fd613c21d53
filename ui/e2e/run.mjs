// End-to-end test of the built UI: the real `runlore` binary (RUNLORE_BIN,
// else target/debug/runlore) on a free loopback port, data seeded through
// the real native API, and the UI driven in real headless Chromium
// (CHROMIUM, else /usr/bin/chromium) with playwright-core. Screenshots go to
// target/ui-screenshots/. Exits non-zero on the first failed check.

import { mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { client, seed, seedLarge, startServer } from "./server.mjs";
import { workbench } from "./workbench.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, "..", "..");
const binary = process.env.RUNLORE_BIN ?? join(repo, "target", "debug", "runlore");
const executablePath = process.env.CHROMIUM ?? "/usr/bin/chromium";
const shots = process.env.RUNLORE_SCREENSHOTS ?? join(repo, "target", "ui-screenshots");
const skipPerf = process.env.RUNLORE_E2E_SKIP_PERF === "1";
const TOTAL_LIMIT_MS = 12 * 60_000;

mkdirSync(shots, { recursive: true });

let server;
let browser;
const watchdog = setTimeout(async () => {
  console.error(`e2e: gave up after ${TOTAL_LIMIT_MS / 60000} minutes`);
  await browser?.close().catch(() => undefined);
  await server?.cleanup().catch(() => undefined);
  process.exit(1);
}, TOTAL_LIMIT_MS);

function check(condition, message) {
  if (!condition) throw new Error(`check failed: ${message}`);
  console.log(`  ok  ${message}`);
}

async function shot(page, name, fullPage = false) {
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage });
  console.log(`  📷  ${name}.png`);
}

async function main() {
  server = await startServer(binary);
  console.log(`e2e: runlore at ${server.url}`);
  const api = client(server.url);
  const t0 = Date.now();
  const runs = await seed(api);
  console.log(`e2e: seeded the demo project in ${Date.now() - t0} ms`);

  browser = await chromium.launch({
    executablePath,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, colorScheme: "light" });
  const page = await context.newPage();
  page.setDefaultTimeout(30_000);
  const consoleErrors = [];
  page.on("pageerror", (e) => consoleErrors.push(String(e)));
  page.on("console", (m) => m.type() === "error" && consoleErrors.push(m.text()));
  const base = server.url;

  console.log("projects");
  await page.goto(base + "/");
  await page.getByRole("link", { name: "vision" }).waitFor();
  await shot(page, "01-projects");
  await page.getByLabel("project name").fill("created-in-ui");
  await page.getByLabel("project description").fill("made by clicking");
  await page.getByRole("button", { name: "Create" }).click();
  await page.waitForURL("**/projects/created-in-ui");
  check((await api.get("/projects/created-in-ui")).description === "made by clicking", "a project is created from the form");

  console.log("settings");
  await page.goto(base + "/projects/vision/settings");
  await page.getByLabel("naming pattern").fill("(?P<id>[a-z]+");
  await page.getByRole("button", { name: "Save" }).click();
  await page.getByRole("alert").waitFor();
  check((await page.getByRole("alert").textContent()).length > 0, "a bad naming pattern shows the server's error");
  await page.getByLabel("naming pattern").fill("(?P<id>[a-z0-9.-]+)");
  await page.getByRole("button", { name: "Save" }).click();
  await page.getByText("Saved.").waitFor();
  check((await api.get("/projects/vision/settings")).naming?.pattern === "(?P<id>[a-z0-9.-]+)", "the naming rule is saved");
  await page.getByLabel("key metric").fill("loss");
  await page.getByRole("button", { name: "Add key metric" }).click();
  await page.getByLabel("aggregation of loss").selectOption("best");
  await shot(page, "02-settings");

  console.log("runs table");
  await page.goto(base + "/projects/vision");
  await page.getByTestId("run-count").getByText("6 runs").waitFor();
  const failedRow = page.locator(`.tr[data-run="${runs.failed.id}"]`);
  // loss is a key metric with "best": the column shows the best finite value, NaN shows on the run page
  await page.getByRole("columnheader", { name: /loss \(best\)/ }).waitFor();
  await failedRow.locator(".nan").waitFor({ state: "detached" });
  check((await failedRow.locator(".nan").count()) === 0, "a key metric column shows the best finite value of a run that ended in NaN");
  await shot(page, "03-runs-table");
  await page.getByLabel("filter").fill("metrics.loss >");
  await page.getByLabel("filter").press("Enter");
  const filterError = page.getByTestId("filter-error");
  await filterError.waitFor();
  check(/invalid filter at character/.test(await filterError.textContent()), "a bad filter shows the server's message inline");
  await shot(page, "04-filter-error");
  await page.getByLabel("filter").fill("metrics.acc > 0.79 AND params.depth = '12'");
  await page.getByLabel("filter").press("Enter");
  await page.getByTestId("run-count").getByText("1 runs matching").waitFor();
  check(new URL(page.url()).searchParams.get("filter")?.includes("metrics.acc"), "the filter is in the URL");
  await page.getByRole("button", { name: "Clear", exact: true }).click();
  await page.getByTestId("run-count").getByText("6 runs").waitFor();
  await page.locator(".th", { hasText: "loss" }).first().click();
  await page.waitForURL(/order=/);
  const firstName = await page.locator(".tr[data-run]").first().getAttribute("data-run");
  check(firstName === runs.failed.id || firstName === runs.aug.id, "sorting by loss (descending) puts the worst run first");
  await page.getByRole("button", { name: "Columns ▾" }).click();
  // feature paths arrive a moment later (one batch request); wait so nothing moves under the click
  await page.getByTestId("column-chooser").locator('[data-kind="feature"] label').first().waitFor();
  // a click, then the header: the URL update behind the checkbox is a transition, so .check() can see the old state
  await page.getByTestId("column-chooser").getByLabel("team").click();
  await page.locator(".th", { hasText: "team" }).waitFor();
  await shot(page, "05-column-chooser");
  await page.getByRole("button", { name: "Columns ▾" }).click();
  check((await page.locator(".th", { hasText: "team" }).count()) === 1, "the column chooser adds a tag column");
  await page.getByLabel("group by").selectOption({ label: "experiment" });
  await page.locator(".tr.group").first().waitFor();
  check((await page.locator(".tr.group").count()) === 2, "grouping by experiment shows two groups");
  await page.getByLabel("baseline base").click();
  await page.locator(`.tr[data-run="${runs.lr.id}"] .better`).first().waitFor();
  check(true, "a run better than the baseline is highlighted");
  for (const [name, run] of [["base", runs.base], ["lr-0.01", runs.lr], ["diverged", runs.failed]]) {
    await page.getByLabel(`select ${name}`).click();
    await page.locator(`.tr.selected[data-run="${run.id}"]`).waitFor();
  }
  await page.getByTestId("chart-loss").locator("canvas").waitFor();
  await page.getByTestId("chart-loss").getByText(/points/).waitFor();
  await shot(page, "06-runs-selected-charts", true);
  const box = await page.getByTestId("chart-loss").locator(".u-over").boundingBox();
  await page.mouse.move(box.x + box.width * 0.1, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.4, box.y + box.height / 2, { steps: 8 });
  await page.mouse.up();
  await page.getByTestId("chart-loss").getByText("(zoomed)").waitFor();
  check(true, "dragging across a chart zooms and refetches the step range");
  await page.getByLabel("x axis").selectOption("relative");
  await page.getByText("log scale").click();
  await page.waitForURL((u) => u.searchParams.get("x") === "relative" && u.searchParams.get("log") === "1");
  await page.getByTestId("chart-loss").locator("canvas").waitFor();
  check(true, "x axis and log scale are chart options kept in the URL");
  await shot(page, "07-chart-zoom-log-relative", true);
  await page.getByRole("tab", { name: "scatter" }).click();
  await page.getByTestId("scatter").locator("canvas").waitFor();
  await page.getByLabel("scatter y").selectOption("metric:loss");
  check(/\d runs with both values/.test(await page.getByTestId("scatter").textContent()), "a scatter plot of params vs metrics is drawn");
  await shot(page, "07a-scatter", true);
  await page.getByRole("tab", { name: "parallel coordinates" }).click();
  await page.getByTestId("parallel").locator("canvas").waitFor();
  await shot(page, "07b-parallel-coordinates", true);
  await page.getByRole("tab", { name: "hidden" }).click();
  const deepLink = page.url();
  check(/sel=/.test(deepLink) && /baseline=/.test(deepLink), "selection and baseline are in the URL");

  console.log("deep link, dark theme");
  const page2 = await context.newPage();
  await page2.goto(deepLink);
  await page2.getByTestId("chart-loss").locator("canvas").waitFor();
  check((await page2.locator(".tr.selected").count()) === 3, "a deep link restores the selection");
  await page2.getByTestId("theme-toggle").click();
  check((await page2.evaluate(() => document.documentElement.dataset.theme)) === "dark", "the theme switches to dark");
  await shot(page2, "08-dark-theme");
  await page2.getByTestId("theme-toggle").click();
  await page2.close();

  console.log("compare");
  await page.getByRole("button", { name: /^Compare 3/ }).click();
  await page.waitForURL(/\/compare\?runs=/);
  await page.getByTestId("feature-diff").waitFor();
  const diffPaths = await page.getByTestId("feature-diff").locator("tbody tr").evaluateAll((trs) => trs.map((t) => t.dataset.path));
  check(diffPaths.includes("/model/lr") && !diffPaths.includes("/model/arch"), "compare shows only differing features by default");
  await page.getByTestId("compare-metrics").waitFor();
  await page.getByTestId("aggregate-loss").locator("td.best").waitFor();
  check(true, "compare shows a key metric's best value over each run's history");
  await page.getByTestId("chart-loss").locator("canvas").waitFor();
  await shot(page, "09-compare", true);

  console.log("run page");
  await page.goto(`${base}/runs/${runs.failed.id}`);
  await page.getByText("RuntimeError: loss is NaN").waitFor();
  check(true, "a failed run shows its error");
  check((await page.getByTestId("latest-metrics").locator(".nan").count()) === 1, "the failed run's NaN loss is shown as NaN");
  await page.goto(`${base}/runs/${runs.lr.id}?tab=features`);
  await page.getByTestId("feature-tree").waitFor();
  check((await page.locator('[data-diff="replace"]').count()) >= 1, "the feature tree highlights changed leaves");
  check((await page.locator('[data-diff="remove"]').count()) === 1, "the feature tree shows the removed leaf");
  await shot(page, "10-run-features");
  await page.goto(`${base}/runs/${runs.base.id}`);
  await page.getByTestId("run-overview").waitFor();
  check((await page.getByTestId("run-command").textContent()).includes("train.py --lr 0.1"), "the run overview shows the command");
  check((await page.getByTestId("run-commit").textContent()).includes("dirty"), "the run overview shows the commit and that the tree was dirty");
  check((await page.getByTestId("run-children").textContent()).includes("lr-0.01"), "the run overview lists the run's children");
  check((await page.locator(".projnav").getByText("vision").count()) === 1, "a run page shows its project's navigation");
  await shot(page, "11-run-overview");
  await page.getByRole("tab", { name: "metrics" }).click();
  await page.getByTestId("chart-acc").locator("canvas").waitFor();
  await shot(page, "12-run-metrics", true);
  await page.getByRole("tab", { name: "params" }).click();
  await page.getByText("depth").first().waitFor();
  await page.getByRole("tab", { name: "artifacts" }).click();
  await page.locator('[data-artifact="config.json"]').click();
  await page.getByTestId("artifact-preview").getByText('"depth": 12').waitFor();
  await page.getByLabel("compare artifact with run").selectOption({ label: "lr-0.01" });
  await page.getByTestId("artifact-side-by-side").getByText("changed lines").waitFor();
  check((await page.getByTestId("artifact-side-by-side").locator(".better").count()) > 0, "an artifact is diffed side by side against another run");
  await shot(page, "13a-artifact-diff");
  await page.getByLabel("compare artifact with run").selectOption("");
  await page.locator('[data-artifact="eval"]').click();
  await page.locator('[data-artifact="eval/confusion.csv"]').click();
  await page.getByTestId("artifact-preview").locator("td", { hasText: "0.85" }).waitFor();
  await page.locator('[data-artifact="eval/plot.png"]').click();
  await page.getByTestId("artifact-preview").locator("img").waitFor();
  check(
    await page.getByTestId("artifact-preview").locator("img").evaluate((img) => img.complete && img.naturalWidth === 4),
    "the artifact preview shows text, a CSV table and an image",
  );
  await shot(page, "13-run-artifacts");

  console.log("graph");
  await page.goto(`${base}/projects/vision/graph`);
  await page.getByTestId("graph").waitFor();
  check((await page.locator(".gnode").count()) === 6, "the graph shows every run");
  check((await page.locator('.gedge[data-kind="ablation_of"]').count()) === 1, "an ablation edge is drawn apart from derived_from");
  await shot(page, "14-graph");
  const drag = async (fromName, toName) => {
    const a = await page.locator(`.gnode[data-name="${fromName}"] rect`).first().boundingBox();
    const b = await page.locator(`.gnode[data-name="${toName}"] rect`).first().boundingBox();
    await page.mouse.move(a.x + a.width / 2, a.y + a.height / 2);
    await page.mouse.down();
    await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2, { steps: 12 });
    await page.mouse.up();
  };
  await drag("diverged", "deeper");
  await page.getByRole("dialog").waitFor();
  await shot(page, "15-graph-reparent-confirm");
  await page.getByRole("button", { name: "Re-parent" }).click();
  await page.getByRole("dialog").waitFor({ state: "detached" });
  const features = await api.get(`/runs/${runs.failed.id}/features`);
  check(features.parents[0]?.run_id === runs.deeper.id, "dragging a node onto another re-parents it through the API");
  await drag("base", "ablation-aug");
  await page.getByRole("button", { name: "Re-parent" }).click();
  await page.getByTestId("graph-error").waitFor();
  check(true, "a re-parenting that would close a cycle shows the server's refusal");
  await page.locator('.gnode[data-name="lr-0.01"]').click();
  await page.waitForURL(`**/runs/${runs.lr.id}`);
  check(true, "clicking a node opens the run");

  console.log("kanban");
  await page.goto(`${base}/projects/vision/kanban`);
  await page.getByTestId("kanban").waitFor();
  await page.locator(`.kcard[data-run="${runs.planned.id}"]`).waitFor();
  await shot(page, "16-kanban");
  await page.dragAndDrop(`.kcard[data-run="${runs.planned.id}"]`, '.kcol[data-status="KILLED"]');
  await page.locator(`.kcol[data-status="KILLED"] .kcard[data-run="${runs.planned.id}"]`).waitFor();
  check((await api.get(`/runs/${runs.planned.id}`)).status === "KILLED", "dragging a planned card to KILLED cancels the run");
  await page.getByLabel("planned run name").fill("try-mixup");
  await page.getByRole("button", { name: "Plan a run" }).click();
  await page.locator('.kcol[data-status="PLANNED"] .kcard', { hasText: "try-mixup" }).waitFor();
  await page.getByLabel("move try-mixup").selectOption("RUNNING");
  await page.locator('.kcol[data-status="RUNNING"] .kcard', { hasText: "try-mixup" }).waitFor();
  check(true, "a planned run is created and started from the board");
  await shot(page, "17-kanban-after");

  await workbench({ page, api, base, binary, check, shot });

  if (!skipPerf) await performance(api, context, base);

  console.log("server unreachable");
  await page.goto(`${base}/projects/vision`);
  await page.getByTestId("run-count").getByText("runs").waitFor();
  await server.stop();
  await page.getByRole("link", { name: "Graph" }).click();
  await page.getByTestId("unreachable").waitFor();
  check(true, "a stopped server is reported clearly");
  await shot(page, "19-unreachable");

  const real = consoleErrors.filter((e) => !/Failed to load resource|ERR_CONNECTION_REFUSED|Failed to fetch|409|400/.test(e));
  check(real.length === 0, `no unexpected errors in the page (${real.join(" | ") || "none"})`);
}

/** 10,000 runs and a 1M-point chart; long tasks are measured and printed, not asserted. */
async function performance(api, context, base) {
  console.log("performance: seeding 10,000 runs and a 1,000,000-point metric");
  const t0 = Date.now();
  const { big } = await seedLarge(api);
  console.log(`  seeded in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const page = await context.newPage();
  page.setDefaultTimeout(60_000);
  await page.addInitScript(() => {
    window.__longTasks = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) window.__longTasks.push({ start: e.startTime, duration: e.duration });
    }).observe({ type: "longtask", buffered: true });
  });
  const report = async (label, since) => {
    const tasks = await page.evaluate((t) => window.__longTasks.filter((x) => x.start >= t), since);
    const total = tasks.reduce((s, t) => s + t.duration, 0);
    const max = tasks.reduce((m, t) => Math.max(m, t.duration), 0);
    console.log(`  perf ${label}: ${tasks.length} long tasks, longest ${max.toFixed(0)} ms, total ${total.toFixed(0)} ms`);
  };
  // a key metric with "best": the table also asks for 10,001 runs' summaries
  await api.patch("/projects/large/settings", { key_metrics: [{ key: "acc", direction: "max", aggregation: "best" }] });
  const tLoad = Date.now();
  await page.goto(`${base}/projects/large`);
  await page.getByTestId("run-count").getByText("10,001 runs").waitFor();
  console.log(`  10,001-run table loaded and rendered in ${Date.now() - tLoad} ms`);
  await report("load of the 10,001-run table", 0);
  check((await page.locator(".tr[data-run]").count()) < 200, "the table keeps only a window of rows in the DOM");
  await page.getByRole("columnheader", { name: /acc \(best\)/ }).waitFor();
  check(true, "best values of a key metric are loaded for 10,001 runs");
  let since = await page.evaluate(() => performance.now());
  const tScroll = Date.now();
  const frames = await page.getByTestId("runs-table").evaluate(async (el) => {
    let frames = 0;
    const end = el.scrollHeight;
    for (let y = 0; y < end; y += 2000) {
      el.scrollTop = y;
      await new Promise((r) => requestAnimationFrame(() => r(null)));
      frames++;
    }
    return frames;
  });
  console.log(`  scrolled top to bottom in ${frames} frames, ${Date.now() - tScroll} ms`);
  await report("scrolling 10,001 rows", since);
  await shot(page, "18a-perf-10k-runs");

  since = await page.evaluate(() => performance.now());
  const tChart = Date.now();
  await page.goto(`${base}/projects/large?filter=${encodeURIComponent("attributes.name = 'million-points'")}&sel=${big.id}&charts=loss`);
  await page.getByTestId("chart-loss").getByText(/of 1,000,000 points/).waitFor();
  console.log(`  chart of a 1,000,000-point metric drawn in ${Date.now() - tChart} ms`);
  await report("1M-point chart (downsampled by the server, binary)", 0);
  const box = await page.getByTestId("chart-loss").locator(".u-over").boundingBox();
  since = await page.evaluate(() => performance.now());
  const tZoom = Date.now();
  await page.mouse.move(box.x + box.width * 0.3, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.32, box.y + box.height / 2, { steps: 4 });
  await page.mouse.up();
  await page.getByTestId("chart-loss").getByText("(zoomed)").waitFor();
  console.log(`  zoom into ~2% of the range refetched and redrawn in ${Date.now() - tZoom} ms`);
  await report("zoom", since);
  await shot(page, "18b-perf-1m-chart-zoomed", true);
  const tGraph = Date.now();
  await page.goto(`${base}/projects/large/graph`);
  await page.getByTestId("graph").waitFor();
  console.log(`  graph of the 10,001-run project (first 1,500 laid out) drawn in ${Date.now() - tGraph} ms`);
  await report("graph of the large project", 0);
  await page.close();
}

main()
  .then(async () => {
    console.log(`e2e: all checks passed; screenshots in ${shots}`);
    await browser?.close();
    await server?.cleanup();
    clearTimeout(watchdog);
  })
  .catch(async (e) => {
    console.error(`e2e: FAILED: ${e.stack ?? e}`);
    try {
      const pages = browser?.contexts().flatMap((c) => c.pages()) ?? [];
      if (pages[0]) await pages[0].screenshot({ path: join(shots, "failure.png") });
    } catch {
      // no screenshot
    }
    await browser?.close().catch(() => undefined);
    await server?.cleanup().catch(() => undefined);
    clearTimeout(watchdog);
    process.exit(1);
  });

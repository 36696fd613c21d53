// Chromium check: a user's artifact never runs script in the app's origin.
//
// Uploads an HTML page, an SVG and an extensionless file declared text/html,
// each with a script that would mark the app's origin (localStorage, the tab
// title) and read /api/v1/projects into a new artifact. Then real headless
// Chromium opens each artifact's URL directly, as a victim clicking a link
// would, and the check asserts the marker never appears. With the UI built
// into the binary it also checks the run page's previews still work through
// safe renderers: the HTML as escaped text, the SVG through <img>.
//
// Run: node ui/e2e/artifact_xss.mjs (RUNLORE_BIN, else target/debug/runlore;
// CHROMIUM, else /usr/bin/chromium). Exits non-zero on the first failure.

import { createServer } from "node:http";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { client, startServer } from "./server.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, "..", "..");
const binary = process.env.RUNLORE_BIN ?? join(repo, "target", "debug", "runlore");
const executablePath = process.env.CHROMIUM ?? "/usr/bin/chromium";
const MARKER = "runlore-xss-marker";
// A script that never ran leaves no trace; give one that did this long to show.
const WATCH_MS = 1500;
const TOTAL_LIMIT_MS = 3 * 60_000;

function check(condition, message) {
  if (!condition) throw new Error(`check failed: ${message}`);
  console.log(`  ok  ${message}`);
}

function payload(runId, where) {
  return `localStorage.setItem("${MARKER}", "${where}"); document.title = "${MARKER}";
fetch("/api/v1/projects").then((r) => r.text()).then((t) =>
  fetch("/api/v1/runs/${runId}/artifacts/stolen-${where}.txt", { method: "PUT", headers: { "content-type": "application/octet-stream" }, body: t }));`;
}

async function upload(base, runId, path, body, contentType) {
  const response = await fetch(`${base}/api/v1/runs/${runId}/artifacts/${path}`, {
    method: "PUT",
    headers: { "content-type": contentType },
    body,
    signal: AbortSignal.timeout(30_000),
  });
  if (response.status !== 201) throw new Error(`upload ${path}: ${response.status} ${await response.text()}`);
}

/** 0.1 s of silence as 8-bit mono PCM WAV. */
function silentWav() {
  const samples = 800;
  const b = Buffer.alloc(44 + samples, 128);
  b.write("RIFF", 0);
  b.writeUInt32LE(36 + samples, 4);
  b.write("WAVEfmt ", 8);
  b.writeUInt32LE(16, 16);
  b.writeUInt16LE(1, 20); // PCM
  b.writeUInt16LE(1, 22); // mono
  b.writeUInt32LE(8000, 24);
  b.writeUInt32LE(8000, 28);
  b.writeUInt16LE(1, 32);
  b.writeUInt16LE(8, 34);
  b.write("data", 36);
  b.writeUInt32LE(samples, 40);
  return b;
}

/** Polls `probe` until it returns true or `ms` pass; whether it ever did. */
async function becomesTrue(probe, ms) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await probe()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

async function main() {
  const server = await startServer(binary);
  let browser;
  const watchdog = setTimeout(() => {
    console.error("artifact_xss: gave up after 3 minutes");
    process.exit(1);
  }, TOTAL_LIMIT_MS);
  try {
    const api = client(server.url);
    const run = await api.post("/runs", { project: "xss", name: "hostile" });
    const files = {
      "report.html": [`<!doctype html><html><body><h1>report</h1><script>${payload(run.id, "html")}</script></body></html>`, "text/html"],
      "plot.svg": [
        `<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><rect width="8" height="8" fill="red"/><script>${payload(run.id, "svg")}</script></svg>`,
        "image/svg+xml",
      ],
      "page": [`<html><body><script>${payload(run.id, "noext")}</script></body></html>`, "text/html"],
    };
    for (const [path, [body, type]] of Object.entries(files)) await upload(server.url, run.id, path, body, type);

    browser = await chromium.launch({ executablePath, headless: true, args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });
    const context = await browser.newContext({ acceptDownloads: true });
    for (const path of Object.keys(files)) {
      const page = await context.newPage();
      let downloaded = false;
      page.on("download", () => (downloaded = true));
      // An attachment makes Chromium download instead of navigating, which
      // playwright reports as a failed navigation.
      await page.goto(`${server.url}/api/v1/runs/${run.id}/artifacts/${path}`).catch(() => undefined);
      const ran = await becomesTrue(async () => (await page.title().catch(() => "")) === MARKER, WATCH_MS);
      check(!ran, `opening ${path} directly does not run its script`);
      check(downloaded, `${path} is handed to the browser as a download, not shown`);
      await page.close();
    }

    // Control: the same page served the way Runlore used to (inline
    // text/html, no CSP, no nosniff) by a throwaway loopback server; the
    // probe must see its script run, or the checks above prove nothing.
    const control = createServer((_, res) => {
      res.writeHead(200, { "content-type": "text/html" });
      res.end(files["report.html"][0]);
    });
    await new Promise((r) => control.listen(0, "127.0.0.1", r));
    const controlPage = await context.newPage();
    await controlPage.goto(`http://127.0.0.1:${control.address().port}/report.html`);
    const controlRan = await becomesTrue(async () => (await controlPage.title().catch(() => "")) === MARKER, 10_000);
    await controlPage.close();
    await new Promise((r) => control.close(r));
    check(controlRan, "control: the probe does see the script run when the page is served inline as text/html");

    // The app's own origin: no marker in its storage, nothing stolen.
    const app = await context.newPage();
    await app.goto(`${server.url}/api/v1/projects`);
    const stored = await app.evaluate((key) => localStorage.getItem(key), MARKER);
    check(stored === null, `the app's origin holds no marker (found ${stored})`);
    const listing = await api.get(`/runs/${run.id}/artifacts?recursive=true`);
    const stolen = listing.files.filter((f) => f.path.startsWith("stolen"));
    check(stolen.length === 0, "no script read /api/v1/projects into an artifact");

    // Inert files opened directly still show: an image, and audio through
    // Chromium's player (which loads the file again under the CSP).
    await upload(server.url, run.id, "tone.wav", silentWav(), "audio/wav");
    const inert = await context.newPage();
    await inert.goto(`${server.url}/api/v1/runs/${run.id}/artifacts/tone.wav`);
    const plays = await becomesTrue(
      () => inert.evaluate(() => (document.querySelector("video,audio")?.readyState ?? 0) > 0),
      10_000,
    );
    check(plays, "an audio artifact opened in a tab loads in the browser's player");
    await inert.close();

    // The previews, when the UI is embedded (`cargo xtask ui` builds it).
    const index = await fetch(`${server.url}/`).then((r) => r.text());
    if (index.includes('id="root"')) {
      await app.goto(`${server.url}/runs/${run.id}`);
      await app.getByRole("tab", { name: "artifacts" }).click();
      await app.locator('[data-artifact="report.html"]').click();
      await app.getByTestId("artifact-preview").locator("pre", { hasText: "<script>" }).waitFor();
      check(true, "the HTML preview shows the page's source as text");
      await app.locator('[data-artifact="plot.svg"]').click();
      const img = app.getByTestId("artifact-preview").locator("img");
      await img.waitFor();
      const shown = await becomesTrue(() => img.evaluate((i) => i.complete && i.naturalWidth === 8), 10_000);
      check(shown, "the SVG preview renders through <img>");
      const after = await app.evaluate((key) => localStorage.getItem(key), MARKER);
      check(after === null && (await app.title()) !== MARKER, "previewing them ran no script either");
    } else {
      console.log("  --  the UI is not embedded in this binary; previews not checked (run `cargo xtask ui` first)");
    }
    console.log("artifact_xss: all checks passed");
  } finally {
    clearTimeout(watchdog);
    await browser?.close().catch(() => undefined);
    await server.cleanup();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

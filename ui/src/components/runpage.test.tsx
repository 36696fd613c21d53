// Gaps 1–6 of issue 8: server key metrics and aggregations, feature columns
// and grouping, live logs, media by step, provenance, settings errors.

import { act, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { MemoryRouter, Route, Routes } from "react-router";
import { aggregatedFromSummaries, summaryValue } from "../aggregate";
import type { ArtifactFile, KeyMetric, Lineage, Run } from "../api/types";
import { flattenFeatures } from "../util";
import { SettingsView } from "../views/Settings";
import { MediaSeries, mediaSeries } from "./Media";
import { ProvenanceTables } from "./Provenance";
import { RunLogs, tail } from "./RunLogs";
import { RunReport } from "./RunReport";
import { buildRows, orderField, parseColumn, RunsTable } from "./RunsTable";

function run(i: number, extra: Partial<Run> = {}): Run {
  return {
    id: String(i).padStart(32, "0"),
    project: "p",
    experiment_id: "1",
    experiment: "e",
    name: `run-${i}`,
    status: "FINISHED",
    lifecycle: "active",
    start_time: 1,
    end_time: 2,
    user: "",
    parent_run_id: null,
    params: {},
    tags: {},
    metrics: [{ key: "val_loss", value: 0.9 - i / 10, step: 9, timestamp: 1 }],
    components: [],
    created_at: 0,
    updated_at: 0,
    ...extra,
  };
}

const best: KeyMetric = { key: "val_loss", direction: "min", aggregation: "best" };
const summary = (i: number, min: number, mean: number) => ({ run_id: run(i).id, key: "val_loss", count: 5, min, max: 2, mean });

function respond(body: unknown, status = 200) {
  return Promise.resolve(new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } }));
}

afterEach(() => vi.restoreAllMocks());
// jsdom lays nothing out: give the table's scroller a viewport so rows render.
beforeAll(() => {
  Object.defineProperty(HTMLElement.prototype, "clientHeight", { configurable: true, get: () => 600 });
  Object.defineProperty(HTMLElement.prototype, "clientWidth", { configurable: true, get: () => 1200 });
});
afterAll(() => {
  delete (HTMLElement.prototype as unknown as Record<string, unknown>).clientHeight;
  delete (HTMLElement.prototype as unknown as Record<string, unknown>).clientWidth;
});

describe("key metric aggregation from server summaries", () => {
  it("takes min or max by direction for best, the mean for average", () => {
    expect(summaryValue(summary(1, 0.1, 0.5), best)).toBe(0.1);
    expect(summaryValue(summary(1, 0.1, 0.5), { ...best, direction: "max" })).toBe(2);
    expect(summaryValue(summary(1, 0.1, 0.5), { ...best, aggregation: "average" })).toBe(0.5);
    expect(summaryValue({ ...summary(1, 0.1, 0.5), count: 0 }, best)).toBeUndefined();
    const m = aggregatedFromSummaries([summary(1, 0.1, 0.5), { ...summary(2, 0.3, 0.6), key: "other" }], [best]);
    expect(m.get(run(1).id)?.get("val_loss")).toBe(0.1);
    expect(m.has(run(2).id)).toBe(false);
  });

  it("shows aggregated values in the table, labelled, and judges the baseline by them", () => {
    const runs = [run(1), run(2)]; // latest: 0.8 and 0.7
    const aggregated = aggregatedFromSummaries([summary(1, 0.1, 0.5), summary(2, 0.3, 0.6)], [best]);
    render(
      <MemoryRouter>
        <RunsTable
          runs={runs}
          columns={[parseColumn("metric:val_loss")]}
          selected={new Set()}
          onToggle={() => undefined}
          keyMetrics={[best]}
          aggregated={aggregated}
          baseline={run(1).id}
          height={300}
        />
      </MemoryRouter>,
    );
    expect(screen.getByText("val_loss (best)")).toBeTruthy();
    const row2 = document.querySelector(`[data-run="${run(2).id}"]`)!;
    const cell = row2.querySelector(".td.num")!;
    expect(cell.textContent).toBe("0.3");
    // 0.3 is worse than the baseline's best 0.1 (the latest values say the opposite)
    expect(cell.className).toContain("worse");
  });
});

describe("feature columns and grouping", () => {
  it("sorts feature columns on the server by their path", () => {
    expect(orderField(parseColumn("feature:model.lr")!)).toBe("features.`model.lr`");
    expect(orderField(parseColumn("metric:loss")!)).toBe("metrics.loss");
  });
  it("flattens trees to dotted paths", () => {
    expect(flattenFeatures({ model: { lr: 0.1, name: "a/b" }, tags: ["x"], empty: {} })).toEqual({
      "model.lr": "0.1",
      "model.name": "a/b",
      "tags.0": "x",
      empty: "{}",
    });
  });
  it("groups rows by a feature value and shows feature cells", () => {
    const features = new Map([
      [run(1).id, { "model.arch": "resnet18" }],
      [run(2).id, { "model.arch": "resnet34" }],
      [run(3).id, { "model.arch": "resnet18" }],
    ]);
    const rows = buildRows([run(1), run(2), run(3), run(4)], "feature:model.arch", { features });
    const groups = rows.filter((r) => r.type === "group").map((r) => (r.type === "group" ? `${r.label}:${r.count}` : ""));
    expect(groups).toEqual(["resnet18:2", "resnet34:1", "(missing):1"]);
    render(
      <MemoryRouter>
        <RunsTable
          runs={[run(1)]}
          columns={[parseColumn("feature:model.arch")]}
          selected={new Set()}
          onToggle={() => undefined}
          keyMetrics={[]}
          features={features}
          height={200}
        />
      </MemoryRouter>,
    );
    expect(screen.getByText("resnet18")).toBeTruthy();
  });
});

describe("media by step", () => {
  const file = (path: string, step: number | null): ArtifactFile => ({
    path,
    step,
    sha256: "0".repeat(64),
    size: 1,
    media_type: "image/png",
    direction: "output",
    created_at: 0,
  });
  it("groups stepped files into series and slides through their steps", () => {
    const series = mediaSeries([
      file("media/conf/step_0200.png", 200),
      file("media/conf/step_0100.png", 100),
      file("config.yaml", null),
      file("media/sample_3.png", 3),
    ]);
    expect(series.map((s) => s.key)).toEqual(["media/conf/step_#.png", "media/sample_#.png"]);
    expect(series[0].files.map((f) => f.step)).toEqual([100, 200]);
    render(<MediaSeries runId="r" series={series[0]} />);
    expect(screen.getByTestId("media-step").textContent).toBe("200");
    fireEvent.change(screen.getByLabelText("step of media/conf/step_#.png"), { target: { value: "0" } });
    expect(screen.getByTestId("media-step").textContent).toBe("100");
    expect(screen.getByRole("img").getAttribute("src")).toContain("step_0100.png");
  });
});

describe("live logs", () => {
  it("keeps only the end of a huge log", () => {
    const t = tail("a\n".repeat(10) + "end", 7);
    expect(t.cut).toBe(true);
    expect(t.text.endsWith("end")).toBe(true);
  });
  it("reads only the end of a long log with a range request", async () => {
    const ranges: (string | null)[] = [];
    vi.spyOn(globalThis, "fetch").mockImplementation((input, init) => {
      const url = String(input);
      if (url.endsWith(".log")) {
        ranges.push(new Headers(init?.headers).get("range"));
        const body = "ch 1 of line 41\nline 42\nline 43\n";
        return Promise.resolve(new Response(body, { status: 206, headers: { "content-range": `bytes 900000-900031/900032` } }));
      }
      return respond(run(1, { status: "FINISHED" }));
    });
    render(<RunLogs runId={run(1).id} />);
    await waitFor(() => expect(screen.getByTestId("log-text").textContent).toContain("line 43"));
    expect(ranges).toEqual(["bytes=-524288", "bytes=-524288"]);
    expect(screen.getByTestId("log-text").textContent?.startsWith("line 42")).toBe(true);
    expect(screen.getByText(/Showing the end of the log/)).toBeTruthy();
  });
  it("polls while the run is RUNNING and stops when it finishes", async () => {
    let reads = 0;
    vi.spyOn(globalThis, "fetch").mockImplementation((input) => {
      const url = String(input);
      if (url.endsWith("stdout.log")) return Promise.resolve(new Response(`line ${reads}\n`));
      if (url.endsWith("stderr.log")) return respond({ error: { code: "not_found", message: "no" } }, 404);
      reads++;
      return respond(run(1, { status: reads < 3 ? "RUNNING" : "FINISHED" }));
    });
    render(<RunLogs runId={run(1).id} intervalMs={500} />);
    await waitFor(() => expect(screen.getByTestId("log-text").textContent).toContain("line 3"), { timeout: 4000 });
    expect(screen.getByText("finished: not polling")).toBeTruthy();
    await act(() => new Promise((r) => setTimeout(r, 700)));
    expect(reads).toBe(3);
    fireEvent.click(screen.getByRole("tab", { name: /stderr/ }));
    expect(screen.getByText(/No logs\/stderr.log artifact/)).toBeTruthy();
  });
});

describe("report", () => {
  it("renders the server's REPORT.md with tables and never raw HTML", async () => {
    const md = [
      "# Run r1 (`abc`)",
      "",
      "| | |",
      "|---|---|",
      "| status | FAILED |",
      '| tags | <img src=x onerror="alert(1)"> |',
      "",
      "## What ran",
      "",
      "```sh",
      "python train.py",
      "```",
      "<script>window.hacked = 1</script>",
    ].join("\n");
    vi.spyOn(globalThis, "fetch").mockImplementation((input) => {
      expect(String(input)).toContain(`/runs/${run(1).id}/report`);
      return Promise.resolve(new Response(md, { headers: { "content-type": "text/markdown" } }));
    });
    render(<RunReport runId={run(1).id} />);
    const box = await screen.findByTestId("run-report");
    await waitFor(() => expect(box.querySelector("table")).toBeTruthy());
    expect(box.querySelector("h2")?.textContent).toBe("What ran");
    expect(box.querySelector("pre code")?.textContent).toContain("python train.py");
    expect(box.textContent).toContain("FAILED");
    expect(box.querySelector("img")).toBeNull();
    expect(box.querySelector("script")).toBeNull();
    expect((window as unknown as { hacked?: number }).hacked).toBeUndefined();
  });
  it("loads no remote image a report names, and keeps escaped text literal", async () => {
    const md = [
      "# Run r1",
      "",
      "| | |",
      "|---|---|",
      "| tags | pic=![pixel](http://evil.example/track.png) |",
      "| note | !\\[kept\\](http://evil.example/escaped.png) &lt;b&gt; |",
      "",
      "![inline](http://evil.example/inline.png) and ![ref][r] and [a link](http://evil.example/page)",
      "",
      "[r]: http://evil.example/ref.png",
    ].join("\n");
    const fetched: string[] = [];
    vi.spyOn(globalThis, "fetch").mockImplementation((input) => {
      fetched.push(String(input));
      return Promise.resolve(new Response(md, { headers: { "content-type": "text/markdown" } }));
    });
    render(<RunReport runId={run(1).id} />);
    const box = await screen.findByTestId("run-report");
    await waitFor(() => expect(box.querySelector("table")).toBeTruthy());
    expect(box.querySelector("img")).toBeNull();
    expect([...box.querySelectorAll("[src]")].map((e) => e.getAttribute("src"))).toEqual([]);
    const shown = screen.getAllByTestId("report-image").map((e) => e.textContent);
    expect(shown).toEqual([
      "[image not loaded: pixel (http://evil.example/track.png)]",
      "[image not loaded: inline (http://evil.example/inline.png)]",
      "[image not loaded: ref (http://evil.example/ref.png)]",
    ]);
    expect(box.textContent).toContain("![kept](http://evil.example/escaped.png) <b>");
    for (const a of box.querySelectorAll("a[href^='http']")) expect(a.getAttribute("rel")).toContain("noreferrer");
    expect(fetched).toEqual([`/api/v1/runs/${run(1).id}/report`]);
  });
  it("shows the server's error when the run is unknown", async () => {
    vi.spyOn(globalThis, "fetch").mockImplementation(() => respond({ error: { code: "not_found", message: "run f00 not found" } }, 404));
    render(<RunReport runId={run(2).id} />);
    expect(await screen.findByText(/run f00 not found/)).toBeTruthy();
  });
});

describe("provenance", () => {
  it("lists inputs with the runs that produced them, and outputs", () => {
    const me = run(2).id;
    const producer = run(1).id;
    const lineage: Lineage = {
      activities: [
        { run_id: producer, name: "prep", project: "p", experiment: "e", status: "FINISHED" },
        { run_id: me, name: "train", project: "p", experiment: "e", status: "FINISHED" },
      ],
      entities: [{ sha256: "a".repeat(64), size: 10, media_type: "text/csv", paths: ["data.csv"] }],
      agents: [],
      used: [{ run_id: me, sha256: "a".repeat(64), path: "inputs/data.csv", time: 0 }],
      generated: [
        { run_id: producer, sha256: "a".repeat(64), path: "data.csv", time: 0 },
        { run_id: me, sha256: "b".repeat(64), path: "model.pt", time: 0 },
      ],
      informed: [{ run_id: me, informant: producer, kind: "derived_from" }],
      associations: [],
    };
    render(
      <MemoryRouter>
        <ProvenanceTables runId={me} lineage={lineage} />
      </MemoryRouter>,
    );
    const inputs = screen.getByTestId("lineage-inputs");
    expect(inputs.textContent).toContain("inputs/data.csv");
    expect(inputs.querySelector("a")?.getAttribute("href")).toBe(`/runs/${producer}`);
    expect(screen.getByTestId("lineage-outputs").textContent).toContain("model.pt");
  });
});

describe("settings: key metrics on the server", () => {
  it("saves through PATCH, only the field changed, and shows the server's error inline", async () => {
    const puts: unknown[] = [];
    vi.spyOn(globalThis, "fetch").mockImplementation((_input, init) => {
      expect(init?.method ?? "GET").not.toBe("PUT");
      if (init?.method === "PATCH") {
        const body = JSON.parse(String(init.body));
        puts.push(body);
        if (body.key_metrics.some((k: KeyMetric) => k.key.includes(" ")))
          return respond({ error: { code: "invalid_argument", message: "invalid metric key 'bad key'" } }, 400);
        return respond({ naming: null, ...body });
      }
      return respond({ naming: null, key_metrics: [best] });
    });
    render(
      <MemoryRouter initialEntries={["/projects/p/settings"]}>
        <Routes>
          <Route path="/projects/:project/settings" element={<SettingsView />} />
        </Routes>
      </MemoryRouter>,
    );
    await screen.findByText("val_loss");
    fireEvent.change(screen.getByLabelText("key metric"), { target: { value: "acc" } });
    fireEvent.click(screen.getByText("Add key metric"));
    await screen.findByText("acc");
    expect(puts[0]).toEqual({ key_metrics: [best, { key: "acc", direction: "max", aggregation: "last" }] });
    fireEvent.change(screen.getByLabelText("key metric"), { target: { value: "bad key" } });
    fireEvent.click(screen.getByText("Add key metric"));
    await waitFor(() => expect(screen.getByTestId("key-metric-error").textContent).toContain("invalid metric key"));
    expect(screen.queryByText("bad key")).toBeNull();
  });
  it("saves the naming rule alone, so the key metrics on the server are left as they are", async () => {
    const patches: unknown[] = [];
    vi.spyOn(globalThis, "fetch").mockImplementation((_input, init) => {
      expect(init?.method ?? "GET").not.toBe("PUT");
      if (init?.method === "PATCH") {
        const body = JSON.parse(String(init.body));
        patches.push(body);
        return respond({ key_metrics: [best], naming: null, ...body });
      }
      return respond({ naming: null, key_metrics: [best] });
    });
    render(
      <MemoryRouter initialEntries={["/projects/p/settings"]}>
        <Routes>
          <Route path="/projects/:project/settings" element={<SettingsView />} />
        </Routes>
      </MemoryRouter>,
    );
    await screen.findByText("val_loss");
    fireEvent.change(screen.getByLabelText("naming pattern"), { target: { value: "(?P<id>\\d+)_.*" } });
    fireEvent.click(screen.getByText("Save"));
    await screen.findByText("Saved.");
    fireEvent.change(screen.getByLabelText("naming pattern"), { target: { value: " " } });
    fireEvent.click(screen.getByText("Save"));
    await waitFor(() => expect(patches).toHaveLength(2));
    expect(patches).toEqual([
      { naming: { pattern: "(?P<id>\\d+)_.*", parent_from: "explicit", enforce: false } },
      { naming: null },
    ]);
    expect(screen.getByText("val_loss")).toBeTruthy();
  });
});

import { fireEvent, render, screen } from "@testing-library/react";
import { MemoryRouter } from "react-router";
import type { Run } from "../api/types";
import { FilterBar } from "../views/Overview";
import { FeatureDiffTable, differingPaths } from "./FeatureDiff";
import { FeatureTree } from "./FeatureTree";
import { buildRows, parseColumn, RunsTable } from "./RunsTable";

function run(i: number, extra: Partial<Run> = {}): Run {
  return {
    id: i.toString(16).padStart(32, "0"),
    project: "p",
    experiment_id: "1",
    experiment: i % 2 ? "odd" : "even",
    name: `run-${i}`,
    status: "FINISHED",
    lifecycle: "active",
    start_time: 1_700_000_000_000 + i,
    end_time: null,
    user: "",
    parent_run_id: null,
    params: { lr: String(i / 10) },
    tags: {},
    metrics: [{ key: "loss", value: 1 / (i + 1), step: 1, timestamp: 1 }],
    components: [],
    created_at: 0,
    updated_at: 0,
    ...extra,
  };
}

describe("FilterBar", () => {
  it("shows the server's filter error inline and applies on Enter", () => {
    const applied: string[] = [];
    render(
      <FilterBar
        value="metrics.loss >"
        onApply={(f) => applied.push(f)}
        error="invalid filter at character 15: expected a value after '>'"
      />,
    );
    const alert = screen.getByTestId("filter-error");
    expect(alert.textContent).toContain("character 15");
    const input = screen.getByLabelText("filter");
    expect(input.getAttribute("aria-invalid")).toBe("true");
    fireEvent.change(input, { target: { value: "metrics.loss > 0.5" } });
    fireEvent.submit(input.closest("form")!);
    expect(applied).toEqual(["metrics.loss > 0.5"]);
  });
  it("shows no error box when the filter is fine", () => {
    render(<FilterBar value="" onApply={() => undefined} />);
    expect(screen.queryByTestId("filter-error")).toBeNull();
  });
});

describe("FeatureTree", () => {
  it("highlights added, changed and removed leaves against the parent", () => {
    const parent = { model: { lr: 0.1, depth: 12, dropout: 0.5 } };
    const full = { model: { lr: 0.01, depth: 12, heads: 8 } };
    const { container } = render(
      <FeatureTree
        full={full}
        parentFull={parent}
        diff={[
          { op: "replace", path: "/model/lr", value: 0.01 },
          { op: "add", path: "/model/heads", value: 8 },
          { op: "remove", path: "/model/dropout" },
        ]}
      />,
    );
    const changed = container.querySelector('[data-path="/model/lr"] [data-diff="replace"]');
    expect(changed?.textContent).toContain("0.01");
    expect(changed?.textContent).toContain("(was 0.1)");
    expect(container.querySelector('[data-path="/model/heads"] .added')).not.toBeNull();
    const removed = container.querySelector('[data-path="/model/dropout"] .removed');
    expect(removed?.textContent).toContain("0.5");
    expect(container.querySelector('[data-path="/model/depth"] [data-diff]')).toBeNull();
  });
});

describe("FeatureDiffTable", () => {
  const runs = [
    { id: "a", name: "A", full: { model: { lr: 0.1, depth: 12 }, seed: 1 } },
    { id: "b", name: "B", full: { model: { lr: 0.01, depth: 12 } } },
  ];
  it("shows only the differing leaves by default (a missing leaf differs)", () => {
    expect([...differingPaths(runs.map((r) => r.full))].sort()).toEqual(["/model/lr", "/seed"]);
    const { container } = render(<FeatureDiffTable runs={runs} showAll={false} />);
    const paths = Array.from(container.querySelectorAll("tbody tr")).map((tr) => tr.getAttribute("data-path"));
    expect(paths).toEqual(["/model/lr", "/seed"]);
    const seed = container.querySelector('tr[data-path="/seed"]')!;
    expect(seed.textContent).toContain("—");
  });
  it("shows every leaf on request", () => {
    const { container } = render(<FeatureDiffTable runs={runs} showAll />);
    expect(container.querySelectorAll("tbody tr").length).toBe(3);
  });
  it("says when the features are identical", () => {
    render(<FeatureDiffTable runs={[runs[1], { ...runs[1], id: "c" }]} showAll={false} />);
    expect(screen.getByTestId("feature-diff-empty").textContent).toContain("identical");
  });
});

describe("RunsTable", () => {
  // jsdom lays nothing out: give the scroller a viewport so the virtualiser renders a window.
  beforeAll(() => {
    Object.defineProperty(HTMLElement.prototype, "clientHeight", { configurable: true, get: () => 600 });
    Object.defineProperty(HTMLElement.prototype, "clientWidth", { configurable: true, get: () => 1200 });
  });
  afterAll(() => {
    delete (HTMLElement.prototype as unknown as Record<string, unknown>).clientHeight;
    delete (HTMLElement.prototype as unknown as Record<string, unknown>).clientWidth;
  });
  const columns = ["attr:status", "metric:loss", "metric:acc", "param:lr"].map(parseColumn);
  it("renders only a window of 10,000 rows, with NaN and missing values shown as such", () => {
    const runs = Array.from({ length: 10_000 }, (_, i) => run(i));
    runs[0] = run(0, { metrics: [{ key: "loss", value: "NaN", step: 1, timestamp: 1 }] });
    const { container } = render(
      <MemoryRouter>
        <RunsTable runs={runs} columns={columns} selected={new Set()} onToggle={() => undefined} keyMetrics={[]} height={600} />
      </MemoryRouter>,
    );
    const rows = container.querySelectorAll(".tr[data-run]");
    expect(rows.length).toBeGreaterThan(5);
    expect(rows.length).toBeLessThan(100);
    const first = container.querySelector(`.tr[data-run="${runs[0].id}"]`)!;
    expect(first.querySelector(".nan")?.textContent).toBe("NaN");
    expect(first.querySelector(".missing")?.getAttribute("title")).toBe("not logged");
  });

  it("marks metrics better or worse than the baseline and toggles selection", () => {
    const runs = [run(1), run(2), run(3)];
    const toggled: string[] = [];
    const { container } = render(
      <MemoryRouter>
        <RunsTable
          runs={runs}
          columns={columns}
          selected={new Set([runs[2].id])}
          onToggle={(id) => toggled.push(id)}
          baseline={runs[1].id}
          keyMetrics={[{ key: "loss", direction: "min", aggregation: "last" }]}
        />
      </MemoryRouter>,
    );
    const cell = (i: number) => container.querySelector(`.tr[data-run="${runs[i].id}"] .num`)!;
    expect(cell(0).className).toContain("worse"); // 1/2 > 1/3
    expect(cell(2).className).toContain("better"); // 1/4 < 1/3
    expect(cell(1).className).not.toMatch(/better|worse/);
    expect(container.querySelector(`.tr[data-run="${runs[2].id}"]`)!.className).toContain("selected");
    fireEvent.click(screen.getByLabelText("select run-1"));
    expect(toggled).toEqual([runs[0].id]);
  });

  it("groups rows under header rows", () => {
    const rows = buildRows([run(1), run(2), run(3)], "attr:experiment");
    expect(rows.map((r) => (r.type === "group" ? `[${r.label} ${r.count}]` : r.run.name))).toEqual([
      "[odd 2]",
      "run-1",
      "run-3",
      "[even 1]",
      "run-2",
    ]);
  });
});

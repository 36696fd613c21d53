import { render, screen, waitFor } from "@testing-library/react";
import { MemoryRouter, Route, Routes } from "react-router";
import type { Graph } from "../api/types";
import { GraphView, layoutGraph, limitGraph, MAX_NODES } from "./Graph";
import { TRANSITIONS } from "./Kanban";
import { UnreachableBanner } from "../App";
import { api } from "../api/client";
import { act } from "react";

describe("graph layout", () => {
  const graph: Graph = {
    nodes: ["a", "b", "c"].map((id) => ({ id, name: id, status: "FINISHED", metrics: {} })),
    edges: [
      { parent: "a", child: "b", kind: "derived_from", position: 0 },
      { parent: "a", child: "c", kind: "derived_from", position: 0 },
    ],
  };
  it("lays parents out above their children", () => {
    const { placed, edges } = layoutGraph(graph);
    expect(placed.get("a")!.y).toBeLessThan(placed.get("b")!.y);
    expect(placed.get("b")!.y).toBe(placed.get("c")!.y);
    expect(edges).toHaveLength(2);
  });
  it("keeps linked runs first when a project is too large to lay out", () => {
    const many: Graph = {
      nodes: [
        ...Array.from({ length: MAX_NODES + 10 }, (_, i) => ({ id: `n${i}`, name: `n${i}`, status: "FINISHED" as const, metrics: {} })),
        ...graph.nodes,
      ],
      edges: graph.edges,
    };
    const limited = limitGraph(many);
    expect(limited.nodes).toHaveLength(MAX_NODES);
    expect(limited.nodes.slice(0, 3).map((n) => n.id)).toEqual(["a", "b", "c"]);
    expect(limited.edges).toHaveLength(2);
  });
});

describe("graph key metric", () => {
  afterEach(() => vi.restoreAllMocks());
  it("judges children on the project's aggregation (best), not the latest value", async () => {
    const graph: Graph = {
      nodes: [
        { id: "p".padStart(32, "0"), name: "parent", status: "FINISHED", metrics: { val_loss: 0.5 } },
        // Latest 0.9 is worse than the parent's; its best, 0.2, is better.
        { id: "c".padStart(32, "0"), name: "child", status: "FINISHED", metrics: { val_loss: 0.9 } },
      ],
      edges: [{ parent: "p".padStart(32, "0"), child: "c".padStart(32, "0"), kind: "derived_from", position: 0 }],
    };
    const summaries = [
      { run_id: "p".padStart(32, "0"), key: "val_loss", count: 3, min: 0.4, max: 0.8, mean: 0.6 },
      { run_id: "c".padStart(32, "0"), key: "val_loss", count: 3, min: 0.2, max: 0.9, mean: 0.5 },
    ];
    const asked: unknown[] = [];
    vi.spyOn(globalThis, "fetch").mockImplementation((input, init) => {
      const url = String(input);
      const body = (v: unknown) => Promise.resolve(new Response(JSON.stringify(v), { headers: { "content-type": "application/json" } }));
      if (url.includes("/settings")) return body({ key_metrics: [{ key: "val_loss", direction: "min", aggregation: "best" }] });
      if (url.includes("/graph")) return body(graph);
      if (url.includes("metric-summaries")) {
        asked.push(JSON.parse(String(init?.body)));
        return body({ items: summaries });
      }
      return Promise.reject(new Error(`unexpected ${url}`));
    });
    const { container } = render(
      <MemoryRouter initialEntries={["/projects/p/graph"]}>
        <Routes>
          <Route path="/projects/:project/graph" element={<GraphView />} />
        </Routes>
      </MemoryRouter>,
    );
    await waitFor(() => expect(container.querySelector('[data-name="child"]')?.textContent).toContain("val_loss 0.2"));
    expect(container.querySelector('[data-name="child"]')?.textContent).toContain("▲");
    expect(container.querySelector('[data-name="parent"]')?.textContent).toContain("val_loss 0.4");
    expect(screen.getByText(/metric: val_loss \(best\)/)).toBeTruthy();
    expect(asked).toHaveLength(1);
  });
});

describe("Kanban transitions", () => {
  it("allow planning moves and finishing running runs only", () => {
    expect(TRANSITIONS.PLANNED).toEqual(["RUNNING", "KILLED"]);
    expect(TRANSITIONS.RUNNING).toContain("FINISHED");
    expect(TRANSITIONS.FINISHED).toEqual([]);
  });
});

describe("server unreachable banner", () => {
  it("appears when a request cannot reach the server and goes when one does", async () => {
    const realFetch = globalThis.fetch;
    render(
      <MemoryRouter>
        <UnreachableBanner />
      </MemoryRouter>,
    );
    expect(screen.queryByTestId("unreachable")).toBeNull();
    globalThis.fetch = () => Promise.reject(new TypeError("Failed to fetch"));
    await act(async () => {
      await api.projects().catch(() => undefined);
    });
    expect(screen.getByTestId("unreachable").textContent).toContain("cannot be reached");
    globalThis.fetch = () => Promise.resolve(new Response(JSON.stringify({ items: [] }), { status: 200 }));
    await act(async () => {
      await api.projects();
    });
    expect(screen.queryByTestId("unreachable")).toBeNull();
    globalThis.fetch = realFetch;
  });
});

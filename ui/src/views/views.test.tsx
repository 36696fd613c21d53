import { render, screen } from "@testing-library/react";
import { MemoryRouter } from "react-router";
import type { Graph } from "../api/types";
import { layoutGraph, limitGraph, MAX_NODES } from "./Graph";
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

import type { Run } from "../api/types";
import { metricMap } from "../util";
import { axisValue, numericAxes } from "./RunPlots";

const run = (params: Record<string, string>, metrics: Record<string, number | "NaN">): Run =>
  ({
    id: "x",
    params,
    metrics: Object.entries(metrics).map(([key, value]) => ({ key, value, step: 0, timestamp: 0 })),
  }) as unknown as Run;

describe("params vs metrics axes", () => {
  const runs = [run({ lr: "0.1", opt: "adam" }, { loss: 1 }), run({ lr: "0.01", opt: "sgd" }, { loss: "NaN", acc: 0.5 })];
  it("offers every metric and only the params whose values are numbers", () => {
    expect(numericAxes(runs).map((a) => a.id)).toEqual(["metric:acc", "metric:loss", "param:lr"]);
  });
  it("reads values, leaving NaN and missing out of the plot", () => {
    const r = runs[1];
    const m = metricMap(r.metrics);
    expect(axisValue(r, m, "param:lr")).toBe(0.01);
    expect(axisValue(r, m, "metric:acc")).toBe(0.5);
    expect(axisValue(r, m, "metric:loss")).toBeUndefined();
    expect(axisValue(runs[0], metricMap(runs[0].metrics), "metric:acc")).toBeUndefined();
  });
});

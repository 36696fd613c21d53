import { fmtNum, leaves, pointerGet } from "./util";
import { num } from "./api/client";
import { smooth } from "./components/MetricChart";

describe("formatting", () => {
  it("shows NaN, infinities and missing values as such", () => {
    expect(fmtNum(undefined)).toBe("—");
    expect(fmtNum(NaN)).toBe("NaN");
    expect(fmtNum(Infinity)).toBe("∞");
    expect(fmtNum(-Infinity)).toBe("−∞");
    expect(fmtNum(0)).toBe("0");
    expect(fmtNum(0.25)).toBe("0.25");
    expect(fmtNum(1e-7)).toBe("1.000e-7");
  });
  it("reads wire numbers", () => {
    expect(num("NaN")).toBeNaN();
    expect(num("Infinity")).toBe(Infinity);
    expect(num("-Infinity")).toBe(-Infinity);
    expect(num(3)).toBe(3);
    expect(num(undefined)).toBeUndefined();
  });
});

describe("JSON pointers", () => {
  it("lists leaves with escaped keys", () => {
    expect(leaves({ a: { "b/c": 1, d: [true] }, e: {} })).toEqual([
      ["/a/b~1c", 1],
      ["/a/d/0", true],
      ["/e", {}],
    ]);
    expect(pointerGet({ a: { "b/c": 1 } }, "/a/b~1c")).toEqual({ found: true, value: 1 });
    expect(pointerGet({ a: 1 }, "/b").found).toBe(false);
  });
});

describe("smoothing", () => {
  it("keeps gaps and averages the rest", () => {
    const out = smooth(new Float64Array([1, NaN, 3]), 0.5);
    expect(out[0]).toBe(1);
    expect(out[1]).toBeNaN();
    expect(out[2]).toBe(2);
  });
});

import { aggregate } from "./aggregate";

describe("key metric aggregation", () => {
  const v = new Float64Array([3, NaN, 1, 2, Infinity]);
  it("takes the best in the metric's direction, skipping NaN and ±∞", () => {
    expect(aggregate(v, "best", "min")).toBe(1);
    expect(aggregate(v, "best", "max")).toBe(3);
  });
  it("averages and takes the last finite value", () => {
    expect(aggregate(v, "average", "min")).toBe(2);
    expect(aggregate(v, "last", "min")).toBe(2);
    expect(aggregate(new Float64Array([NaN]), "average", "min")).toBeUndefined();
  });
});

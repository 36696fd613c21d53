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

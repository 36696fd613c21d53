import { decodeHistory, encodeHistory, POINT_BYTES } from "./binary";

describe("decodeHistory", () => {
  it("decodes little-endian step, timestamp and value triples", () => {
    const buffer = new ArrayBuffer(2 * POINT_BYTES);
    const view = new DataView(buffer);
    view.setBigInt64(0, 7n, true);
    view.setBigInt64(8, 1_795_994_648_180n, true);
    view.setFloat64(16, 0.25, true);
    view.setBigInt64(24, -3n, true);
    view.setBigInt64(32, 2n ** 40n, true);
    view.setFloat64(40, -1.5e300, true);
    const d = decodeHistory(buffer);
    expect(Array.from(d.steps)).toEqual([7, -3]);
    expect(Array.from(d.timestamps)).toEqual([1_795_994_648_180, 2 ** 40]);
    expect(Array.from(d.values)).toEqual([0.25, -1.5e300]);
  });

  it("keeps NaN and ±infinity as themselves", () => {
    const d = decodeHistory(
      encodeHistory([
        { step: 0, timestamp: 1, value: NaN },
        { step: 1, timestamp: 2, value: Infinity },
        { step: 2, timestamp: 3, value: -Infinity },
      ]),
    );
    expect(Number.isNaN(d.values[0])).toBe(true);
    expect(d.values[1]).toBe(Infinity);
    expect(d.values[2]).toBe(-Infinity);
  });

  it("round-trips large steps exactly up to 2^53", () => {
    const points = [{ step: 2 ** 53 - 1, timestamp: -(2 ** 50), value: 1 }];
    const d = decodeHistory(encodeHistory(points));
    expect(d.steps[0]).toBe(2 ** 53 - 1);
    expect(d.timestamps[0]).toBe(-(2 ** 50));
  });

  it("decodes an empty body and refuses a torn one", () => {
    expect(decodeHistory(new ArrayBuffer(0)).steps.length).toBe(0);
    expect(() => decodeHistory(new ArrayBuffer(25))).toThrow(/whole number/);
  });

  it("decodes a million points quickly enough for a chart", () => {
    const n = 1_000_000;
    const buffer = new ArrayBuffer(n * POINT_BYTES);
    const view = new DataView(buffer);
    for (let i = 0; i < n; i++) {
      view.setInt32(i * 24, i, true);
      view.setFloat64(i * 24 + 16, i / n, true);
    }
    const d = decodeHistory(buffer);
    expect(d.steps[n - 1]).toBe(n - 1);
    expect(d.values[n / 2]).toBe(0.5);
  });
});

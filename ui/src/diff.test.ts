import { diffLines } from "./diff";

describe("diffLines", () => {
  it("keeps common lines and marks removed and added ones", () => {
    expect(diffLines(["a", "b", "c"], ["a", "x", "c", "d"])).toEqual([
      { type: "same", text: "a" },
      { type: "del", text: "b" },
      { type: "add", text: "x" },
      { type: "same", text: "c" },
      { type: "add", text: "d" },
    ]);
  });
  it("handles empty sides", () => {
    expect(diffLines([], ["a"])).toEqual([{ type: "add", text: "a" }]);
    expect(diffLines(["a"], [])).toEqual([{ type: "del", text: "a" }]);
  });
});

import { describe, expect, it } from "vitest";
import { accuracyCurves, CSV_COLUMNS, collapsed, failedToLearn, jitter, type StudyRunResult, summaryCsv, summaryMarkdown, summaryRows } from "../src/index.js";

const run = (accs: number[], status: StudyRunResult["status"] = "ok", config = "c", seconds = 1): StudyRunResult => ({
  config,
  seed: 0,
  status,
  message: null,
  seconds,
  epochs: accs.map((testAccuracy, i) => ({ epoch: i + 1, testAccuracy, freeResidual: 0.01 * (i + 1) })),
});

describe("stability metrics (SPEC section 6)", () => {
  it("a collapse is a drop of more than 10 points below the best so far, or a divergence", () => {
    expect(collapsed(run([0.5, 0.8, 0.71]))).toBe(false);
    expect(collapsed(run([0.5, 0.8, 0.69, 0.9]))).toBe(true);
    expect(collapsed(run([0.5], "diverged"))).toBe(true);
    expect(jitter([0.1, 0.5, 0.6, 0.4, 0.45])).toBeCloseTo((0.1 + 0.2 + 0.05) / 3, 12);
    expect(jitter([0.5])).toBeNull();
  });

  it("failed to learn: runs that end within 10 points of chance, which are not collapses", () => {
    const never = run([0.11, 0.1, 0.12]);
    expect(failedToLearn(never)).toBe(true);
    expect(collapsed(never)).toBe(false);
    expect(failedToLearn(run([0.5, 0.9, 0.95]))).toBe(false);
    expect(failedToLearn(run([0.1, 0.1]), 2)).toBe(true);
    expect(failedToLearn(run([0.1], "diverged"))).toBe(false);
    const rows = summaryRows(["c"], 3, [never, run([0.5, 0.9, 0.95]), run([0.9, 0.15, 0.19])]);
    expect(rows[0]).toMatchObject({ failedToLearn: 2, collapses: 1 });
  });
});

describe("summary rows and tables", () => {
  const runs = [run([0.5, 0.7], "ok", "a", 2), run([0.6, 0.9], "ok", "a", 4), run([0.4], "diverged", "b", 1), { ...run([], "crashed", "b"), message: "boom" }];
  const rows = summaryRows(["a", "b"], 2, runs);

  it("aggregate per configuration: mean, sample sd, worst of the final accuracies; counts; time over trained runs", () => {
    expect(rows[0]).toMatchObject({ config: "a", runs: 2, ok: 2, diverged: 0, crashed: 0, accuracyWorst: 0.7, accuracyBest: 0.9, collapses: 0, secondsMean: 3, secondsTotal: 6 });
    expect(rows[0]?.accuracyMean).toBeCloseTo(0.8, 12);
    expect(rows[0]?.accuracySd).toBeCloseTo(Math.abs(0.9 - 0.7) / Math.SQRT2, 12);
    expect(rows[0]?.jitter).toBeCloseTo((0.2 + 0.3) / 2, 12);
    expect(rows[1]).toMatchObject({ config: "b", ok: 0, diverged: 1, crashed: 1, accuracyMean: null, collapses: 1, secondsTotal: 1 });
  });

  it("the curves average the runs that completed each epoch", () => {
    const curves = accuracyCurves(["a", "b"], runs);
    expect(curves.filter((p) => p.config === "a").map((p) => p.runs)).toEqual([2, 2]);
    expect(curves.find((p) => p.config === "a" && p.epoch === 2)?.mean).toBeCloseTo(0.8, 12);
    expect(curves.filter((p) => p.config === "b").map((p) => p.runs)).toEqual([1]);
  });

  it("CSV has the columns in order and empty cells for missing values; Markdown one row per configuration", () => {
    const lines = summaryCsv(rows).trim().split("\n");
    expect(lines[0]).toBe(CSV_COLUMNS.join(","));
    const b = (lines[2] as string).split(",");
    expect(b[CSV_COLUMNS.indexOf("accuracy_mean")]).toBe("");
    expect(b[CSV_COLUMNS.indexOf("crashed")]).toBe("1");
    const md = summaryMarkdown(rows).trim().split("\n");
    expect(md).toHaveLength(4);
    expect(md[2]).toMatch(/^\| a \| 2\/2 \| 80\.00% ± 14\.14 \| 70\.00% \| 0 \| 0 \| 0 \| 0 \|/);
  });
});

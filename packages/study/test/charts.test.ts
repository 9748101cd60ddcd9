import { describe, expect, it } from "vitest";
import { renderSvg, type SeedCurvePoint, type StabilityMapCell, seedCurvesSpec, stabilityMapSpec } from "../src/index.js";

/** The paths of each mark group of one type, in document order (vega's SVG: one group per facet cell and layer). */
function markPaths(svg: string, type: string): string[][] {
  const groups = svg.split(`<g class="mark-${type} role-mark`).slice(1);
  return groups.map((g) => (g.slice(0, g.indexOf("</g>")).match(/<path [^>]*>/g) ?? []).map(String));
}
const texts = (svg: string) => [...svg.matchAll(/<text [^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
const fill = (path: string) => /fill="([^"]+)"/.exec(path)?.[1];

const cells: StabilityMapCell[] = [
  { dist: "constant", dtMean: 0.3, cv: 0, runs: 10, failures: 0, worstAccuracy: 0.9 },
  { dist: "constant", dtMean: 1.2, cv: 0, runs: 10, failures: 10, worstAccuracy: null },
  ...[0.3, 1.2].flatMap((dtMean) => [1 / 6, 1 / 3].map((cv) => ({ dist: "weibull", dtMean, cv, runs: 10, failures: dtMean > 1 ? 3 : 0, worstAccuracy: dtMean > 1 ? 0.25 : 0.93 }))),
];

describe("the stability map", () => {
  it("draws one rect per cell in each of the two rows (failure rate, worst seed), per distribution", async () => {
    const svg = await renderSvg(stabilityMapSpec(cells, { dists: ["constant", "weibull"] }));
    expect(svg.startsWith("<svg")).toBe(true);
    const rects = markPaths(svg, "rect");
    // failure-rate row: constant (2), weibull (4); worst-seed row: the same, constant at dt 1.2 in grey (no run finished)
    expect(rects.flat()).toHaveLength(12);
    expect(rects.flat().filter((p) => fill(p) === "#d9d9d9")).toHaveLength(1);
    const labels = texts(svg);
    for (const l of ["0/10", "10/10", "3/10", "none", "90%", "93%", "25%", "constant", "weibull", "dt mean", "cv (sd / mean)"]) expect(labels).toContain(l);
    // the failure rate's colour follows the rate: 0/10 and 10/10 differ, the two 3/10 cells agree
    const [constant, weibull] = rects.filter((g) => g.length > 0) as [string[], string[]];
    expect(fill(constant[0] as string)).not.toBe(fill(constant[1] as string));
    const weibullFills = weibull.map(fill);
    expect(new Set(weibullFills).size).toBe(2);
  });

  it("refuses cells it cannot draw, naming the cell and the field", () => {
    const one = cells[0] as StabilityMapCell;
    expect(() => stabilityMapSpec([])).toThrow(/cells is empty/);
    expect(() => stabilityMapSpec([{ ...one, failures: 11 }])).toThrow(/cells\[0\] \(constant, dt mean 0.3, cv 0\): failures is 11, expected an integer in \[0, runs = 10\]/);
    expect(() => stabilityMapSpec([{ ...one, dtMean: 0 }])).toThrow(/dtMean is 0, expected a positive number/);
    expect(() => stabilityMapSpec([{ ...one, worstAccuracy: 95 }])).toThrow(/worstAccuracy is 95, expected a fraction/);
    expect(() => stabilityMapSpec([one, one])).toThrow(/cells\[1\] repeats/);
    expect(() => stabilityMapSpec(cells, { dists: ["constant"] })).toThrow(/lacks "weibull"/);
  });
});

describe("per-seed curves", () => {
  it("draws one line per seed in each configuration's panel, the failed runs in their own colour", async () => {
    const points: SeedCurvePoint[] = ["constant", "gamma"].flatMap((config) =>
      [0, 1, 2].flatMap((seed) => [1, 2, 3].map((epoch) => ({ config, seed, epoch, testAccuracy: config === "gamma" && seed === 2 ? 0.9 - 0.3 * epoch : 0.8 + 0.05 * epoch, failed: config === "gamma" && seed === 2 }))),
    );
    const svg = await renderSvg(seedCurvesSpec(points, ["constant", "gamma"]));
    const lines = markPaths(svg, "line");
    // one line group per seed and panel, each one path
    expect(lines.map((g) => g.length)).toEqual([1, 1, 1, 1, 1, 1]);
    const strokes = lines.map((g) => /stroke="([^"]+)"/.exec(g[0] as string)?.[1]);
    expect(strokes.filter((s) => s === "#e45756")).toHaveLength(1);
    expect(strokes.filter((s) => s === "#4c78a8")).toHaveLength(5);
    expect(() => seedCurvesSpec(points, ["constant"])).toThrow(/lacks "gamma"/);
  });
});

import { createRng, type Distribution, sampleLayers, summarize } from "@hts/distributions";
import { CHECK_NUDGES, type GradientCheckReport } from "@hts/ep";
import type { TopLevelSpec } from "vega-lite";

/**
 * Charts of `hts sample --plot`, `hts check-gradient --plot` and `hts study`: vega-lite specifications, compiled to vega
 * and rendered to SVG in Node by a headless vega View (no browser, no canvas).
 */

/**
 * Renders a vega-lite specification to an SVG document. vega and vega-lite are loaded here,
 * on first use, so that commands without charts (`hts train`) do not carry them in memory.
 */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const [{ parse, View }, { compile }] = await Promise.all([import("vega"), import("vega-lite")]);
  const view = new View(parse(compile(spec).spec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Bins of the dt histograms: this many equal bins over [min, max]. */
export const HISTOGRAM_BINS = 50;

/** The clamped dt values of one distribution, binned for {@link dtHistogramSpec}. */
export interface DtHistogram {
  /** The distribution's name, e.g. `lognormal`. */
  readonly name: string;
  readonly min: number;
  readonly max: number;
  /** Number of draws. */
  readonly count: number;
  /** Fraction of the draws clamped to the lower and upper bound. */
  readonly fractionAtMin: number;
  readonly fractionAtMax: number;
  /** Per bin: its edges and the fraction of all draws inside it, split into values strictly inside the bounds and values clamped to a bound. */
  readonly bins: readonly { readonly lo: number; readonly hi: number; readonly inside: number; readonly clamped: number }[];
}

/**
 * Draws `count` clamped dt values from `dist` (one layer of `count` neurons, as `hts train`
 * draws them, with `createRng(seed)`) and bins them into {@link HISTOGRAM_BINS} equal bins
 * over the clamp bounds. A value counts as clamped as `summarize` counts it: at or beyond
 * a bound.
 */
export function drawDtHistogram(dist: Distribution, options: { readonly count: number; readonly seed: number; readonly min: number; readonly max: number }): DtHistogram {
  const [values] = sampleLayers(dist, createRng(options.seed), [options.count]) as [Float32Array];
  return binDt(dist.name, values, options.min, options.max);
}

/**
 * Bins dt values already drawn (`hts sample`) into {@link HISTOGRAM_BINS} equal bins over
 * [min, max]; values outside fall into the end bins.
 */
export function binDt(name: string, values: Float32Array, min: number, max: number): DtHistogram {
  const count = values.length;
  const s = summarize(values, { min, max });
  const width = (max - min) / HISTOGRAM_BINS;
  const inside = new Float64Array(HISTOGRAM_BINS);
  const clamped = new Float64Array(HISTOGRAM_BINS);
  // The float32 bounds a clip stores (summarize counts against the same ones).
  const lo32 = Math.fround(min) < min ? nextUp32(min) : Math.fround(min);
  const hi32 = Math.fround(max) > max ? nextDown32(max) : Math.fround(max);
  for (const v of values) {
    const bin = Math.min(HISTOGRAM_BINS - 1, Math.max(0, Math.floor((v - min) / width)));
    if (v <= lo32 || v >= hi32) clamped[bin] = (clamped[bin] as number) + 1;
    else inside[bin] = (inside[bin] as number) + 1;
  }
  return {
    name,
    min,
    max,
    count,
    fractionAtMin: s.fractionAtMin,
    fractionAtMax: s.fractionAtMax,
    bins: Array.from({ length: HISTOGRAM_BINS }, (_, i) => ({
      lo: min + i * width,
      hi: min + (i + 1) * width,
      inside: (inside[i] as number) / count,
      clamped: (clamped[i] as number) / count,
    })),
  };
}

function nextUp32(x: number): number {
  const f = new Float32Array([x]);
  const u = new Uint32Array(f.buffer);
  u[0] = (u[0] as number) + 1;
  return f[0] as number;
}

function nextDown32(x: number): number {
  const f = new Float32Array([x]);
  const u = new Uint32Array(f.buffer);
  u[0] = (u[0] as number) - 1;
  return f[0] as number;
}

function pct(x: number): string {
  return `${(100 * x).toFixed(x > 0 && x < 0.001 ? 2 : 1)}%`;
}

/** The facet title of one histogram: its name and the mass piled up at each bound. */
export function histogramTitle(h: DtHistogram): string {
  return `${h.name}: ${pct(h.fractionAtMin)} at ${h.min}, ${pct(h.fractionAtMax)} at ${h.max}`;
}

const CLAMPED = "clamped to a bound";
const INSIDE = "inside the bounds";

/**
 * Figure 1 of the paper: one histogram per distribution of the clamped per-neuron dt, as
 * small multiples (4 columns), each with its own y scale. The mass the clip piles up at
 * the bounds is drawn in its own colour, and the facet title gives it in percent.
 */
export function dtHistogramSpec(histograms: readonly DtHistogram[], title?: string): TopLevelSpec {
  const values = histograms.flatMap((h) => {
    const panel = histogramTitle(h);
    return h.bins.flatMap((b) => [
      ...(b.inside > 0 ? [{ panel, lo: b.lo, hi: b.hi, part: INSIDE, fraction: b.inside }] : []),
      ...(b.clamped > 0 ? [{ panel, lo: b.lo, hi: b.hi, part: CLAMPED, fraction: b.clamped }] : []),
    ]);
  });
  const count = histograms[0]?.count ?? 0;
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: title ?? `Clamped per-neuron dt, ${count.toLocaleString("en-US")} draws per distribution`,
    data: { values },
    columns: Math.min(4, histograms.length),
    facet: { field: "panel", type: "nominal", title: null, sort: histograms.map(histogramTitle), header: { labelFontSize: 11 } },
    resolve: { scale: { y: "independent" } },
    spec: {
      width: 220,
      height: 120,
      mark: { type: "bar", stroke: null },
      encoding: {
        x: { field: "lo", type: "quantitative", bin: { binned: true }, title: "dt", scale: { domain: [histograms[0]?.min ?? 0, histograms[0]?.max ?? 1] } },
        x2: { field: "hi" },
        y: { field: "fraction", type: "quantitative", title: "fraction of draws", stack: "zero", axis: { format: ".0%" } },
        color: {
          field: "part",
          type: "nominal",
          title: null,
          scale: { domain: [INSIDE, CLAMPED], range: ["#4c78a8", "#e45756"] },
          legend: { orient: "top" },
        },
        order: { field: "part", sort: "descending" },
      },
    },
  };
}

/** Test accuracy of one configuration after one epoch, over the seeds that reached it. */
export interface AccuracyPoint {
  readonly config: string;
  readonly epoch: number;
  readonly mean: number;
  readonly min: number;
  readonly max: number;
  /** Runs that completed this epoch. */
  readonly runs: number;
}

/**
 * Test accuracy per epoch: one panel per configuration with the mean over seeds (line)
 * and the min-max band; in each panel whose configuration has a scalar baseline
 * (`baselineOf`, e.g. `constant` for `lognormal`), the baseline's mean is drawn dashed.
 */
export function accuracySpec(points: readonly AccuracyPoint[], configs: readonly string[], baselineOf: (config: string) => string | undefined = () => undefined): TopLevelSpec {
  const own = "mean over seeds (band: min to max)";
  const base = "scalar baseline (constant dt), mean";
  let anyBaseline = false;
  const values = configs.flatMap((panel) => {
    const mine = points.filter((p) => p.config === panel).map((p) => ({ panel, series: own, epoch: p.epoch, mean: p.mean, lo: p.min, hi: p.max }));
    const b = baselineOf(panel);
    const theirs = b !== undefined && b !== panel ? points.filter((p) => p.config === b).map((p) => ({ panel, series: base, epoch: p.epoch, mean: p.mean, lo: p.min, hi: p.max })) : [];
    if (theirs.length > 0) anyBaseline = true;
    return [...mine, ...theirs];
  });
  const domain = anyBaseline ? [own, base] : [own];
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: "Test accuracy per epoch",
    data: { values },
    columns: Math.min(4, configs.length),
    facet: { field: "panel", type: "nominal", title: null, sort: [...configs] },
    spec: {
      width: 200,
      height: 140,
      encoding: {
        x: { field: "epoch", type: "quantitative", title: "epoch", axis: { tickMinStep: 1, format: "d" } },
      },
      layer: [
        {
          transform: [{ filter: { field: "series", equal: own } }],
          mark: { type: "area", opacity: 0.25, color: "#4c78a8" },
          encoding: {
            y: { field: "lo", type: "quantitative", title: "test accuracy", axis: { format: ".0%" } },
            y2: { field: "hi" },
          },
        },
        {
          mark: { type: "line", point: { size: 20 } },
          encoding: {
            y: { field: "mean", type: "quantitative", title: "test accuracy" },
            color: { field: "series", type: "nominal", title: null, scale: { domain, range: ["#4c78a8", "#888888"] }, legend: { orient: "top", labelLimit: 400 } },
            strokeDash: { field: "series", type: "nominal", title: null, scale: { domain, range: [[1, 0], [4, 3]] }, legend: { orient: "top", labelLimit: 400 } },
          },
        },
      ],
    },
  };
}

/** The stability figures of one configuration, as in the study's summary table. */
export interface StabilityRow {
  readonly config: string;
  readonly runs: number;
  readonly collapses: number;
  /** Mean jitter in accuracy (fraction), null when no run has enough epochs. */
  readonly jitter: number | null;
  readonly accuracyMean: number | null;
  readonly accuracyWorst: number | null;
  readonly accuracyBest: number | null;
}

/**
 * The stability summary: per configuration, the collapse count (out of the runs), the
 * jitter, and the final test accuracy (mean as a point, worst to best seed as a rule),
 * side by side; the scalar baselines (`isBaseline`) in their own colour.
 */
export function stabilitySpec(rows: readonly StabilityRow[], isBaseline: (config: string) => boolean = () => false): TopLevelSpec {
  const values = rows.map((r) => ({
    config: r.config,
    kind: isBaseline(r.config) ? "scalar baseline" : "per-neuron dt",
    runs: r.runs,
    collapses: r.collapses,
    jitter: r.jitter === null ? null : 100 * r.jitter,
    mean: r.accuracyMean,
    worst: r.accuracyWorst,
    best: r.accuracyBest,
  }));
  const order = rows.map((r) => r.config);
  const y = { field: "config", type: "nominal", title: null, sort: order } as const;
  const color = {
    field: "kind",
    type: "nominal",
    title: null,
    scale: { domain: ["scalar baseline", "per-neuron dt"], range: ["#888888", "#4c78a8"] },
    legend: { orient: "top" },
  } as const;
  const maxRuns = Math.max(1, ...rows.map((r) => r.runs));
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: "Stability per configuration",
    data: { values },
    hconcat: [
      {
        width: 180,
        title: "collapses (runs)",
        mark: "bar",
        encoding: {
          y,
          x: { field: "collapses", type: "quantitative", title: `of ${maxRuns} run(s)`, scale: { domain: [0, maxRuns] }, axis: { tickMinStep: 1, format: "d" } },
          color,
        },
      },
      {
        width: 180,
        title: "jitter (accuracy points)",
        mark: "bar",
        encoding: {
          y: { ...y, axis: null },
          x: { field: "jitter", type: "quantitative", title: "mean |change| per epoch, 2nd half" },
          color,
        },
      },
      {
        width: 180,
        title: "final test accuracy",
        layer: [
          {
            mark: { type: "rule" },
            encoding: {
              y: { ...y, axis: null },
              x: { field: "worst", type: "quantitative", title: "mean (point), worst to best seed (rule)", scale: { zero: false }, axis: { format: ".0%" } },
              x2: { field: "best" },
              color,
            },
          },
          {
            mark: { type: "point", filled: true, size: 50 },
            encoding: { y: { ...y, axis: null }, x: { field: "mean", type: "quantitative" }, color },
          },
        ],
      },
    ],
  };
}

/** The two panels of `--plot`: the GDU curves against k, and the relative error against beta (log-log). */
export function gradientCheckSpec(r: GradientCheckReport): TopLevelSpec {
  const c = r.combination;
  const panels: Extract<TopLevelSpec, { hconcat: unknown }>["hconcat"] = [];
  const g = r.gdu;
  if (g) {
    const values = g.layers.flatMap((l) => [
      ...l.bptt.map((v, k) => ({ layer: l.layer, k, value: v, curve: "BPTT through the last k free steps" })),
      ...l.ep.map((v, k) => ({ layer: l.layer, k, value: v, curve: "EP, first k nudged steps" })),
    ]);
    const order = g.layers.map((l) => l.layer);
    panels.push({
      width: 320,
      height: 240,
      title: `GDU: cumulative updates (${g.nudge}, beta ${g.beta}), projected on g_BPTT(K)`,
      data: { values },
      encoding: {
        x: { field: "k", type: "quantitative", title: "k (nudged steps / free steps backpropagated)", axis: { tickMinStep: 1, format: "d" } },
        y: { field: "value", type: "quantitative", title: "<g(k), g_BPTT(K)> / ||g_BPTT(K)||^2" },
        color: { field: "layer", type: "nominal", title: "tensor", sort: order },
      },
      layer: [
        { transform: [{ filter: { field: "curve", equal: "BPTT through the last k free steps" } }], mark: { type: "line" } },
        { transform: [{ filter: { field: "curve", equal: "EP, first k nudged steps" } }], mark: { type: "point", shape: "circle", size: 40 } },
      ],
    });
  }
  const values = r.ep.flatMap((row) => {
    const all = row.layers.find((l) => l.layer === "all");
    return all && all.relError > 0 && Number.isFinite(all.relError) ? [{ beta: row.beta, nudge: row.nudge, relError: all.relError }] : [];
  });
  panels.push({
    width: 320,
    height: 240,
    title: "EP vs finite differences, all tensors",
    data: { values },
    encoding: {
      x: { field: "beta", type: "quantitative", title: "beta", scale: { type: "log" } },
      y: { field: "relError", type: "quantitative", title: "||g_EP - g_FD|| / ||g_FD||", scale: { type: "log" } },
      color: { field: "nudge", type: "nominal", title: "nudging", scale: { domain: [...CHECK_NUDGES], range: ["#e45756", "#4c78a8"] } },
    },
    layer: [{ mark: { type: "line" } }, { mark: { type: "point", filled: true, size: 40 } }],
  });
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: `Gradient check: ${c.energy} + ${c.activation} + ${c.dynamics} + ${c.cost}, ${r.sizes.join("-")}${c.cost === "ce" ? ` -> ${r.classes}` : ""}`,
    hconcat: panels,
    resolve: { scale: { color: "independent" } },
  };
}

/** One cell of the stability map: a distribution at one dt mean and coefficient of variation. */
export interface StabilityMapCell {
  /** The distribution's name; the scalar baseline is `constant`. */
  readonly dist: string;
  readonly dtMean: number;
  /** Coefficient of variation of the draw, sd / mean before clamping; 0 for the scalar baseline. */
  readonly cv: number;
  /** Runs of the cell (seeds). */
  readonly runs: number;
  /** Runs that failed: collapsed (diverged, or fell more than 10 points below their best) or failed to learn. */
  readonly failures: number;
  /** The worst seed's final test accuracy among the runs that finished training; null when none did. */
  readonly worstAccuracy: number | null;
}

const MAP_CELL = 34;
/** The fill of a map cell without a value. */
const NO_VALUE = "#d9d9d9";

function checkMapCell(c: StabilityMapCell, i: number): void {
  const where = `stabilityMapSpec: cells[${i}] (${c.dist}, dt mean ${c.dtMean}, cv ${c.cv})`;
  if (!(Number.isFinite(c.dtMean) && c.dtMean > 0)) throw new RangeError(`${where}: dtMean is ${c.dtMean}, expected a positive number`);
  if (!(Number.isFinite(c.cv) && c.cv >= 0)) throw new RangeError(`${where}: cv is ${c.cv}, expected a number >= 0`);
  if (!(Number.isInteger(c.runs) && c.runs > 0)) throw new RangeError(`${where}: runs is ${c.runs}, expected a positive integer`);
  if (!(Number.isInteger(c.failures) && c.failures >= 0 && c.failures <= c.runs)) throw new RangeError(`${where}: failures is ${c.failures}, expected an integer in [0, runs = ${c.runs}]`);
  if (c.worstAccuracy !== null && !(c.worstAccuracy >= 0 && c.worstAccuracy <= 1)) throw new RangeError(`${where}: worstAccuracy is ${c.worstAccuracy}, expected a fraction in [0, 1] or null`);
}

/**
 * The stability map: for each distribution (a column of panels, in the order of `dists`, else
 * of first appearance), a heat map over dt mean (x) and coefficient of variation (y) of the
 * failure rate (top row) and of the worst seed's final test accuracy (bottom row), each cell
 * labelled with its value (failures / runs; the accuracy in %, "none" where no run finished).
 * The scalar baseline has the single row cv = 0. Repeated (dist, dtMean, cv) cells are refused.
 */
export function stabilityMapSpec(cells: readonly StabilityMapCell[], options: { readonly dists?: readonly string[]; readonly title?: string } = {}): TopLevelSpec {
  if (cells.length === 0) throw new RangeError("stabilityMapSpec: cells is empty, expected at least one cell");
  const seen = new Set<string>();
  cells.forEach((c, i) => {
    checkMapCell(c, i);
    const key = `${c.dist}|${c.dtMean}|${c.cv}`;
    if (seen.has(key)) throw new RangeError(`stabilityMapSpec: cells[${i}] repeats (${c.dist}, dt mean ${c.dtMean}, cv ${c.cv}), expected one cell per distribution, mean and cv`);
    seen.add(key);
  });
  const dists = options.dists ?? [...new Set(cells.map((c) => c.dist))];
  for (const c of cells) if (!dists.includes(c.dist)) throw new RangeError(`stabilityMapSpec: options.dists (${dists.join(", ")}) lacks "${c.dist}", expected every cell's distribution`);
  const round = (x: number) => Math.round(x * 1000) / 1000;
  const values = cells.map((c) => ({
    dist: c.dist,
    mean: round(c.dtMean),
    cv: round(c.cv),
    rate: c.failures / c.runs,
    worst: c.worstAccuracy,
    rateLabel: `${c.failures}/${c.runs}`,
    worstLabel: c.worstAccuracy === null ? "none" : `${(100 * c.worstAccuracy).toFixed(0)}%`,
  }));
  const nMeans = new Set(values.map((v) => v.mean)).size;
  const nCvs = new Set(values.map((v) => v.cv)).size;
  const x = { field: "mean", type: "ordinal", title: "dt mean", sort: "ascending", axis: { labelAngle: 0 } } as const;
  const y = { field: "cv", type: "ordinal", title: "cv (sd / mean)", sort: "descending" } as const;
  const panel = (title: string, field: "rate" | "worst", label: "rateLabel" | "worstLabel", scale: object, dark: string) => ({
    title,
    facet: { column: { field: "dist", type: "nominal", title: null, sort: [...dists], header: { labelFontSize: 12 } } },
    spec: {
      width: MAP_CELL * nMeans,
      height: MAP_CELL * nCvs,
      encoding: { x, y },
      layer: [
        // the cells without a value (no run finished) in grey, so that the grid stays whole
        { transform: [{ filter: `datum.${field} === null` }], mark: { type: "rect", stroke: "white", fill: NO_VALUE } },
        { transform: [{ filter: `datum.${field} !== null` }], mark: { type: "rect", stroke: "white" }, encoding: { color: { field, type: "quantitative", title: field === "rate" ? "failure rate" : "worst seed", scale, legend: { format: ".0%" } } } },
        { mark: { type: "text", fontSize: 9 }, encoding: { text: { field: label, type: "nominal" }, color: { condition: { test: dark, value: "white" }, value: "black" } } },
      ],
    },
    resolve: { scale: { x: "independent", y: "independent" } },
  });
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: options.title ?? "Stability map",
    data: { values },
    vconcat: [
      panel("failure rate: collapsed or failed to learn (failures / runs)", "rate", "rateLabel", { domain: [0, 1], scheme: "reds" }, "datum.rate > 0.6"),
      panel("worst seed's final test accuracy", "worst", "worstLabel", { domain: [0, 1], scheme: "viridis" }, "datum.worst !== null && datum.worst < 0.5"),
    ],
    resolve: { scale: { color: "independent" } },
  } as TopLevelSpec;
}

/** One run's test accuracy after one epoch, for {@link seedCurvesSpec}. */
export interface SeedCurvePoint {
  readonly config: string;
  readonly seed: number;
  readonly epoch: number;
  readonly testAccuracy: number;
  /** The run collapsed or failed to learn (drawn in red). */
  readonly failed: boolean;
}

/**
 * Per-seed test accuracy curves: one panel per configuration (in the order of `configs`), one
 * line per seed, the failed runs in red, so that a difference in spread between
 * configurations is visible seed by seed.
 */
export function seedCurvesSpec(points: readonly SeedCurvePoint[], configs: readonly string[], title = "Test accuracy per epoch, one line per seed"): TopLevelSpec {
  for (const p of points) if (!configs.includes(p.config)) throw new RangeError(`seedCurvesSpec: configs (${configs.join(", ")}) lacks "${p.config}", expected every point's configuration`);
  const values = points.map((p) => ({ ...p, run: p.failed ? "failed" : "ok" }));
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title,
    data: { values },
    columns: Math.min(5, configs.length),
    facet: { field: "config", type: "nominal", title: null, sort: [...configs] },
    spec: {
      width: 170,
      height: 130,
      mark: { type: "line", strokeWidth: 1, opacity: 0.8 },
      encoding: {
        x: { field: "epoch", type: "quantitative", title: "epoch", axis: { tickMinStep: 1, format: "d" } },
        y: { field: "testAccuracy", type: "quantitative", title: "test accuracy", scale: { zero: false }, axis: { format: ".0%" } },
        detail: { field: "seed", type: "nominal" },
        color: { field: "run", type: "nominal", title: null, scale: { domain: ["ok", "failed"], range: ["#4c78a8", "#e45756"] }, legend: { orient: "top" } },
      },
    },
  };
}

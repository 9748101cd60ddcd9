import type { AccuracyPoint, StabilityRow } from "./charts.js";

/** How a run of a study ended. */
export type RunStatus = "ok" | "diverged" | "crashed";

/** One completed epoch of a run, as `hts train` writes it to metrics.jsonl (the fields used here). */
export interface EpochMetrics {
  readonly epoch: number;
  readonly testAccuracy: number;
  readonly freeResidual: number;
}

/** One run of a study, with its per-epoch metrics, as the summary needs it. */
export interface StudyRunResult {
  readonly config: string;
  readonly seed: number;
  readonly status: RunStatus;
  /** The error message of a diverged or crashed run, else null. */
  readonly message: string | null;
  /** Wall-clock seconds of the run's process. */
  readonly seconds: number;
  /** The completed epochs (a diverged run's last, diverged epoch is not among them). */
  readonly epochs: readonly EpochMetrics[];
}

/** A drop of test accuracy below the run's best so far by more than this is a collapse (SPEC section 6). */
export const COLLAPSE_DROP = 0.1;

/**
 * True when a run collapsed: it diverged, or its test accuracy fell more than
 * {@link COLLAPSE_DROP} below its own best of the earlier epochs.
 */
export function collapsed(run: StudyRunResult): boolean {
  if (run.status === "diverged") return true;
  let best = Number.NEGATIVE_INFINITY;
  for (const e of run.epochs) {
    if (e.testAccuracy < best - COLLAPSE_DROP) return true;
    best = Math.max(best, e.testAccuracy);
  }
  return false;
}

/** A run that ends within this of chance accuracy failed to learn (SPEC section 6). */
export const FAILED_MARGIN = 0.1;

/**
 * True when a run that finished training ends within {@link FAILED_MARGIN} of chance,
 * 1 / `classes`: it never learned (and so never "fell from its best": not a collapse).
 */
export function failedToLearn(run: StudyRunResult, classes = 10): boolean {
  if (run.status !== "ok" || run.epochs.length === 0) return false;
  return (run.epochs[run.epochs.length - 1] as EpochMetrics).testAccuracy < 1 / classes + FAILED_MARGIN;
}

/**
 * Jitter of one run: the mean absolute epoch-to-epoch change of test accuracy over the
 * second half of the epochs, that is the changes into epochs floor(E/2)+1..E (E epochs;
 * at least epoch 2). Null with fewer than 2 epochs.
 */
export function jitter(accuracies: readonly number[]): number | null {
  const n = accuracies.length;
  const first = Math.max(1, Math.floor(n / 2));
  let sum = 0;
  let count = 0;
  for (let i = first; i < n; i++) {
    sum += Math.abs((accuracies[i] as number) - (accuracies[i - 1] as number));
    count++;
  }
  return count === 0 ? null : sum / count;
}

function mean(xs: readonly number[]): number | null {
  return xs.length === 0 ? null : xs.reduce((s, x) => s + x, 0) / xs.length;
}

/** Sample standard deviation (n - 1); null for fewer than 2 values. */
function sd(xs: readonly number[]): number | null {
  if (xs.length < 2) return null;
  const m = mean(xs) as number;
  return Math.sqrt(xs.reduce((s, x) => s + (x - m) ** 2, 0) / (xs.length - 1));
}

/** One row of the summary table: a configuration over its seeds. */
export interface SummaryRow {
  readonly config: string;
  /** Runs in the grid (seeds). */
  readonly runs: number;
  readonly ok: number;
  readonly diverged: number;
  readonly crashed: number;
  /** Final test accuracy over the runs that finished training (status ok): mean, sample sd, worst, best. */
  readonly accuracyMean: number | null;
  readonly accuracySd: number | null;
  readonly accuracyWorst: number | null;
  readonly accuracyBest: number | null;
  /** Runs that collapsed (diverged, or a drop of more than 10 points below their best so far). */
  readonly collapses: number;
  /** Runs that finished but ended within 10 points of chance. */
  readonly failedToLearn: number;
  /** Mean over the ok runs of their jitter; null when none has 2 epochs. */
  readonly jitter: number | null;
  /** Mean of freeResidual over every completed epoch of the ok and diverged runs. */
  readonly freeResidual: number | null;
  /** Wall-clock seconds per run (mean) and in all, over the ok and diverged runs. */
  readonly secondsMean: number | null;
  readonly secondsTotal: number;
}

/** Aggregates the runs of each configuration, in the order of `configs`. */
export function summaryRows(configs: readonly string[], seeds: number, runs: readonly StudyRunResult[]): SummaryRow[] {
  return configs.map((config) => {
    const mine = runs.filter((r) => r.config === config);
    const ok = mine.filter((r) => r.status === "ok");
    const trained = mine.filter((r) => r.status !== "crashed");
    const finals = ok.map((r) => (r.epochs[r.epochs.length - 1] as EpochMetrics).testAccuracy);
    const jitters = ok.map((r) => jitter(r.epochs.map((e) => e.testAccuracy))).filter((j): j is number => j !== null);
    const seconds = trained.map((r) => r.seconds);
    return {
      config,
      runs: seeds,
      ok: ok.length,
      diverged: mine.filter((r) => r.status === "diverged").length,
      crashed: mine.filter((r) => r.status === "crashed").length,
      accuracyMean: mean(finals),
      accuracySd: sd(finals),
      accuracyWorst: finals.length ? Math.min(...finals) : null,
      accuracyBest: finals.length ? Math.max(...finals) : null,
      collapses: trained.filter(collapsed).length,
      failedToLearn: ok.filter((r) => failedToLearn(r)).length,
      jitter: mean(jitters),
      freeResidual: mean(trained.flatMap((r) => r.epochs.map((e) => e.freeResidual))),
      secondsMean: mean(seconds),
      secondsTotal: seconds.reduce((s, x) => s + x, 0),
    };
  });
}

/** Test accuracy per configuration and epoch over the runs (ok or diverged) that completed that epoch. */
export function accuracyCurves(configs: readonly string[], runs: readonly StudyRunResult[]): (AccuracyPoint & { readonly sd: number | null })[] {
  return configs.flatMap((config) => {
    const mine = runs.filter((r) => r.config === config && r.status !== "crashed");
    const last = Math.max(0, ...mine.map((r) => r.epochs.length));
    return Array.from({ length: last }, (_, i) => {
      const acc = mine.flatMap((r) => (r.epochs[i] ? [r.epochs[i].testAccuracy] : []));
      return { config, epoch: i + 1, mean: mean(acc) as number, sd: sd(acc), min: Math.min(...acc), max: Math.max(...acc), runs: acc.length };
    });
  });
}

/** The rows as the stability chart takes them. */
export function stabilityRows(rows: readonly SummaryRow[]): StabilityRow[] {
  return rows.map((r) => ({
    config: r.config,
    runs: r.runs,
    collapses: r.collapses,
    jitter: r.jitter,
    accuracyMean: r.accuracyMean,
    accuracyWorst: r.accuracyWorst,
    accuracyBest: r.accuracyBest,
  }));
}

const pct = (x: number | null, digits = 2): string => (x === null ? "n/a" : `${(100 * x).toFixed(digits)}%`);
const pts = (x: number | null): string => (x === null ? "n/a" : (100 * x).toFixed(2));
const sci = (x: number | null): string => (x === null ? "n/a" : x.toExponential(2));
const secs = (x: number | null): string => (x === null ? "n/a" : x.toFixed(1));

/** The summary table in Markdown: one row per configuration; accuracies in percent, jitter in accuracy points. */
export function summaryMarkdown(rows: readonly SummaryRow[]): string {
  const head = [
    "configuration",
    "runs",
    "final test accuracy, mean ± sd",
    "worst",
    "collapses",
    "failed to learn",
    "diverged",
    "crashed",
    "jitter (points)",
    "free residual",
    "time per run (s)",
  ];
  const lines = [`| ${head.join(" | ")} |`, `| ${head.map((_, i) => (i === 0 ? "---" : "---:")).join(" | ")} |`];
  for (const r of rows) {
    const acc = r.accuracyMean === null ? "n/a" : `${pct(r.accuracyMean)} ± ${r.accuracySd === null ? "n/a" : pts(r.accuracySd)}`;
    lines.push(
      `| ${[r.config, `${r.ok + r.diverged + r.crashed}/${r.runs}`, acc, pct(r.accuracyWorst), r.collapses, r.failedToLearn, r.diverged, r.crashed, pts(r.jitter), sci(r.freeResidual), secs(r.secondsMean)].join(" | ")} |`,
    );
  }
  return `${lines.join("\n")}\n`;
}

/** The CSV columns, in order. Accuracies and jitter are fractions (0..1); empty cells are missing values. */
export const CSV_COLUMNS = [
  "config",
  "runs",
  "ok",
  "diverged",
  "crashed",
  "accuracy_mean",
  "accuracy_sd",
  "accuracy_worst",
  "accuracy_best",
  "collapses",
  "failed_to_learn",
  "jitter",
  "free_residual",
  "seconds_mean",
  "seconds_total",
] as const;

function csvField(v: string | number | null): string {
  if (v === null) return "";
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The summary table as CSV (fields with commas or quotes are quoted, as RFC 4180 says). */
export function summaryCsv(rows: readonly SummaryRow[]): string {
  const lines = [CSV_COLUMNS.join(",")];
  for (const r of rows) {
    lines.push(
      [
        r.config,
        r.runs,
        r.ok,
        r.diverged,
        r.crashed,
        r.accuracyMean,
        r.accuracySd,
        r.accuracyWorst,
        r.accuracyBest,
        r.collapses,
        r.failedToLearn,
        r.jitter,
        r.freeResidual,
        r.secondsMean,
        r.secondsTotal,
      ]
        .map(csvField)
        .join(","),
    );
  }
  return `${lines.join("\n")}\n`;
}

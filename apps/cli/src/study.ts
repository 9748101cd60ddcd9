import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from "node:fs";
import { availableParallelism } from "node:os";
import { basename, join, resolve } from "node:path";
import { formatHelp, type OptionTable, parseCommand, str } from "./args.js";
import { accuracySpec, drawDtHistogram, dtHistogramSpec, renderSvg, stabilitySpec } from "./charts.js";
import { type Io, isNonEmptyDir, readJsonOption, writeFileAtomic } from "./io.js";
import {
  canonicalDefinition,
  PRESET_NAMES,
  PRESETS,
  type PresetName,
  parseDists,
  parsePositiveInt,
  parseSeeds,
  parseSetFlag,
  parseStudyFile,
  parseVaryFlag,
  type StudyConfig,
  type StudyDefinition,
  studyConfigs,
  type TrainOptionKinds,
  trainArgs,
} from "./study-config.js";
import { cliMain, finishedRun, type PlannedRun, type RunRecord, type RunningRun, readRecord, removeStaleTemporaries, runResult, startRun } from "./study-runner.js";
import { accuracyCurves, type RunResult, stabilityRows, summaryCsv, summaryMarkdown, summaryRows } from "./study-summary.js";
import { dtDistribution, trainCommand } from "./train.js";
import { UsageError } from "./usage-error.js";

const STUDY_OPTIONS: OptionTable = {
  preset: {
    type: "string",
    value: "NAME",
    help: "paper (mu 0.3, sd 0.1, clamp [1e-3, 0.5], otherwise the hts train defaults), stress (as paper with --lr 0.6,0.15, three times the default: the scalar baseline near its stability edge) or quick (a tiny grid for CI). [default: paper, unless --study names one]",
  },
  study: { type: "string", value: "FILE.json", help: "Read the study from a JSON file (keys: preset, dists, seeds, epochs, dataset, trainSize, testSize, set, vary, jobs); flags given on the command line win." },
  out: { type: "string", value: "DIR", help: "The study folder; run the same command again to resume it. [default: studies/<preset or study file name>]" },
  dists: { type: "string", value: "LIST", help: "dt distributions to compare, comma-separated, or all; constant is the scalar baseline. [default: the preset's]" },
  seeds: { type: "string", value: "SEEDS", help: "N (seeds 0..N-1), a list such as 0,4,9, or a range such as 10..14. [default: the preset's]" },
  epochs: { type: "string", value: "N", help: "Epochs of every run. [default: the preset's]" },
  dataset: { type: "string", value: "SRC", help: "embedded, mnist or idx:DIR, as for hts train. [default: the preset's]" },
  "train-size": { type: "string", value: "N", help: "Training examples of every run. [default: the preset's]" },
  "test-size": { type: "string", value: "N", help: "Test examples of every run. [default: the preset's]" },
  set: {
    type: "string",
    value: "KEY=VALUE",
    help: "Pass an hts train option to every run, without its dashes: --set lr=0.2,0.1 --set t1=50; a switch alone: --set no-shuffle. Repeatable; wins over the preset.",
  },
  vary: {
    type: "string",
    value: "KEY=V1|V2",
    help: "Sweep an hts train option: every value makes its own configuration of each distribution, e.g. --vary 'lr=0.1,0.05|0.4,0.2'. Repeatable (all combinations).",
  },
  jobs: { type: "string", value: "N", help: `Runs at a time, each in its own process. [default: the number of cores, ${availableParallelism()} here]` },
  reconfigure: {
    type: "boolean",
    help: "Let --out hold a study with another configuration: its finished runs whose hts train arguments are unchanged are kept, every other run folder is deleted.",
  },
  json: { type: "boolean", help: "Print one JSON summary line on stdout at the end (progress goes to stderr)." },
};

const SUMMARY = `Compare dt distributions over seeds: every distribution (times every --vary combination) is
trained with every seed, each run an \`hts train\` in its own process, --jobs at a time. A run's
folder runs/<config>/seed-<s> appears complete or not at all, so a killed study loses no
finished run: run the same command again to continue it. At the end the study folder gets
summary.md, summary.csv and summary.json (per configuration: final test accuracy mean, sd and
worst over seeds, collapses, failed to learn, jitter, free-phase residual, time) and figures/*.svg.`;

const FOOTER = `Exit codes: 0 every run finished (diverged runs count as finished: they are results),
1 some run crashed (recorded; a rerun retries it) or another error, 2 a bad command line or
study file, or --out holds a study with another configuration, 130 interrupted.`;

/** Histograms of the dt distributions: draws per distribution. */
const HISTOGRAM_DRAWS = 100_000;

/** study.json: the configuration a study folder was made with. */
interface StudyRecord {
  readonly format: "hts-study/1";
  readonly definition: StudyDefinition;
  readonly configs: readonly { readonly name: string; readonly folder: string; readonly dist: string; readonly variant: Readonly<Record<string, string>> }[];
  readonly createdAt: string;
}

/** The options `hts train` accepts, read from its help: name to value or switch. */
async function trainOptionKinds(): Promise<TrainOptionKinds> {
  let text = "";
  await trainCommand(["--help"], { out: (s) => (text += s), err: () => {}, isTTY: false });
  const kinds = new Map<string, "value" | "switch">();
  for (const line of text.split("\n")) {
    const m = /^ {2}--([a-z0-9][a-z0-9-]*)( \S+)?(?: {2,}|$)/.exec(line);
    if (m && m[1] !== "help") kinds.set(m[1] as string, m[2] ? "value" : "switch");
  }
  return kinds;
}

/** Pulls every `--set X` / `--set=X` and `--vary X` out of argv (parseArgs takes each option once). */
function extractRepeated(argv: readonly string[], name: string): { values: string[]; rest: string[] } {
  const values: string[] = [];
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === `--${name}`) {
      const v = argv[i + 1];
      if (v === undefined) throw new UsageError(name, `hts study: --${name} needs a value (see hts study --help)`);
      values.push(v);
      i++;
    } else if (a.startsWith(`--${name}=`)) values.push(a.slice(name.length + 3));
    else rest.push(a);
  }
  return { values, rest };
}

interface Resolved {
  readonly definition: StudyDefinition;
  readonly out: string;
  readonly jobs: number;
  readonly reconfigure: boolean;
  readonly json: boolean;
}

/** Preset, then study file, then flags. */
async function resolveStudy(argv: readonly string[], io: Io): Promise<Resolved | null> {
  const sets = extractRepeated(argv, "set");
  const varies = extractRepeated(sets.rest, "vary");
  const a = parseCommand("study", varies.rest, STUDY_OPTIONS);
  if (a.help) {
    io.out(formatHelp("study", SUMMARY, STUDY_OPTIONS, FOOTER));
    return null;
  }
  const kinds = await trainOptionKinds();
  const studyPath = str(a, "study");
  let file: ReturnType<typeof parseStudyFile> = { definition: {} };
  if (studyPath !== undefined) {
    const json = readJsonOption("study", studyPath);
    file = parseStudyFile(json, studyPath, kinds);
  }
  const presetFlag = str(a, "preset");
  if (presetFlag !== undefined && !(PRESET_NAMES as readonly string[]).includes(presetFlag)) {
    throw new UsageError("preset", `--preset: expected one of ${PRESET_NAMES.join(", ")}, got ${JSON.stringify(presetFlag)}`);
  }
  const preset = (presetFlag ?? file.definition.preset ?? "paper") as PresetName;
  const base = PRESETS[preset];
  const flag = (name: string) => ({ where: `--${name}`, option: name });
  const set: Record<string, string | true> = { ...base.set, ...file.definition.set };
  for (const text of sets.values) {
    const [k, v] = parseSetFlag(text, kinds);
    set[k] = v;
  }
  const vary: Record<string, readonly string[]> = { ...base.vary, ...file.definition.vary };
  for (const text of varies.values) {
    const [k, v] = parseVaryFlag(text, kinds);
    vary[k] = v;
  }
  const explicit = new Set([...Object.keys(file.definition.set ?? {}), ...sets.values.map((t) => t.split("=")[0]?.trim().replace(/^--/, ""))]);
  for (const k of Object.keys(vary)) {
    if (explicit.has(k)) throw new UsageError("vary", `--vary ${k}: ${k} is also given with --set (or in the study file's set); give it once`);
    delete set[k]; // a preset's value makes way for the sweep
  }
  const flagOr = <T>(name: string, parse: (v: string) => T, fallback: T): T => {
    const v = str(a, name);
    return v === undefined ? fallback : parse(v);
  };
  const dataset = str(a, "dataset") ?? file.definition.dataset ?? base.dataset;
  if (dataset === "") throw new UsageError("dataset", "--dataset: expected embedded, mnist or idx:DIR, got \"\"");
  const definition: StudyDefinition = canonicalDefinition({
    preset,
    dists: flagOr("dists", (v) => parseDists(v, flag("dists")), file.definition.dists ?? base.dists),
    seeds: flagOr("seeds", (v) => parseSeeds(v, flag("seeds")), file.definition.seeds ?? base.seeds),
    epochs: flagOr("epochs", (v) => parsePositiveInt(v, flag("epochs")), file.definition.epochs ?? base.epochs),
    dataset,
    trainSize: flagOr("train-size", (v): number | null => parsePositiveInt(v, flag("train-size")), file.definition.trainSize === undefined ? base.trainSize : file.definition.trainSize),
    testSize: flagOr("test-size", (v): number | null => parsePositiveInt(v, flag("test-size")), file.definition.testSize === undefined ? base.testSize : file.definition.testSize),
    set,
    vary,
  });
  const jobs = flagOr("jobs", (v) => parsePositiveInt(v, flag("jobs"), 1024), file.jobs ?? availableParallelism());
  const name = presetFlag ?? (studyPath !== undefined ? basename(studyPath).replace(/\.json$/i, "") : preset);
  const out = resolve(str(a, "out") ?? join("studies", name));
  return { definition, out, jobs, reconfigure: a.reconfigure as boolean, json: a.json as boolean };
}

/**
 * Checks every configuration's `hts train` arguments before any run starts, with
 * `hts train --print-config` in this process (which validates the flags and exits), so a
 * bad `--set` or `--vary` value is one line naming the configuration and the flag.
 */
async function checkTrainArgs(def: StudyDefinition, configs: readonly StudyConfig[]): Promise<void> {
  const quiet: Io = { out: () => {}, err: () => {}, isTTY: false };
  for (const c of configs) {
    const args = trainArgs(def, c, def.seeds[0] ?? 0).slice(1);
    try {
      await trainCommand([...args, "--print-config"], quiet);
    } catch (e) {
      const err = e as { code?: string; message?: string };
      if (e instanceof UsageError || err.code === "HTS_INVALID_ARGUMENT") {
        const message = (err.message ?? String(e)).replace(/^hts train: /, "");
        throw new UsageError(e instanceof UsageError ? e.option : "set", `configuration ${JSON.stringify(c.name)}: hts train: ${message}`);
      }
      throw e;
    }
  }
}

/** Checks the dt settings of every configuration with the distribution factories, before any run starts. */
function checkDt(def: StudyDefinition, configs: readonly StudyConfig[]): void {
  if (def.set.config !== undefined) return; // the runs read settings from a file: hts train checks them.
  for (const c of configs) {
    const flags: Record<string, string | true | undefined> = { ...def.set, ...c.variant };
    const numberOf = (name: string, fallback: number): number | null => {
      const v = flags[name];
      if (v === undefined) return fallback;
      const n = typeof v === "string" ? Number(v) : Number.NaN;
      return Number.isFinite(n) ? n : null;
    };
    const dt = { mean: numberOf("dt-mean", 0.3), sd: numberOf("dt-sd", 0.1), min: numberOf("dt-min", 1e-3), max: numberOf("dt-max", 0.5), nu: numberOf("dt-nu", 3) };
    if (Object.values(dt).some((v) => v === null)) continue; // a malformed number: hts train names it.
    const clampMode = flags["dt-clamp"] === "resample" ? "resample" : "clip";
    try {
      dtDistribution({ dist: c.dist, ...(dt as Record<keyof typeof dt, number>), clamp: clampMode, fromInit: false });
    } catch (e) {
      if (e instanceof UsageError) throw new UsageError(e.option, `configuration ${JSON.stringify(c.name)}: ${e.message}`);
      throw e;
    }
  }
}

/** The dt settings of a configuration as numbers (hts train's defaults where not set). */
function dtSettings(def: StudyDefinition, c: StudyConfig) {
  const flags: Record<string, string | true | undefined> = { ...def.set, ...c.variant };
  const n = (name: string, fallback: number) => {
    const v = flags[name];
    return typeof v === "string" && Number.isFinite(Number(v)) ? Number(v) : fallback;
  };
  return {
    dist: c.dist as string,
    mean: n("dt-mean", 0.3),
    sd: n("dt-sd", 0.1),
    min: n("dt-min", 1e-3),
    max: n("dt-max", 0.5),
    nu: n("dt-nu", 3),
    clamp: (flags["dt-clamp"] === "resample" ? "resample" : "clip") as "clip" | "resample",
    fromInit: false,
  };
}

/** Takes study.lock (pid inside); a lock left by a process that no longer runs is taken over. */
function lock(dir: string): () => void {
  const file = join(dir, "study.lock");
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, "wx");
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return () => rmSync(file, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      const pid = Number(readFileSync(file, "utf8").trim());
      let alive = false;
      if (Number.isSafeInteger(pid) && pid > 0 && pid !== process.pid) {
        try {
          process.kill(pid, 0);
          alive = true;
        } catch (err) {
          alive = (err as NodeJS.ErrnoException).code === "EPERM";
        }
      }
      if (alive) throw new Error(`another hts study (process ${pid}) is running in ${dir}; wait for it, or stop it first`);
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

/** `hts study`. */
export async function studyCommand(argv: readonly string[], io: Io): Promise<number> {
  const resolved = await resolveStudy(argv, io);
  if (!resolved) return 0;
  const { definition: def, out: dir, jobs, reconfigure, json } = resolved;
  const configs = studyConfigs(def);
  await checkTrainArgs(def, configs);
  checkDt(def, configs);
  const plan: PlannedRun[] = def.seeds.flatMap((seed) =>
    configs.map((config) => ({ config, seed, folder: join("runs", config.folder, `seed-${seed}`), args: trainArgs(def, config, seed) })),
  );

  // The study folder: new, or one made with the same configuration.
  const recordFile = join(dir, "study.json");
  const record: StudyRecord = {
    format: "hts-study/1",
    definition: def,
    configs: configs.map((c) => ({ name: c.name, folder: c.folder, dist: c.dist, variant: c.variant })),
    createdAt: new Date().toISOString(),
  };
  if (existsSync(recordFile)) {
    let earlier: StudyRecord;
    try {
      earlier = JSON.parse(readFileSync(recordFile, "utf8")) as StudyRecord;
      if (earlier.format !== "hts-study/1") throw new Error("format");
    } catch {
      throw new UsageError("out", `--out: ${recordFile} is not a study record written by hts study; choose another folder`);
    }
    if (JSON.stringify(canonicalDefinition(earlier.definition)) !== JSON.stringify(def)) {
      const finished = countFinished(dir);
      if (finished > 0 && !reconfigure) {
        throw new UsageError(
          "out",
          `--out: ${dir} holds a study with another configuration (${firstDifference(canonicalDefinition(earlier.definition), def)}) and ${finished} finished run(s); rerun it with its own settings to resume, choose another --out, or pass --reconfigure to keep the runs that are unchanged and delete the others`,
        );
      }
    }
  } else if (isNonEmptyDir(dir)) {
    throw new UsageError("out", `--out: ${dir} holds files but no study.json; choose an empty or new folder`);
  }
  mkdirSync(dir, { recursive: true });
  const unlock = lock(dir);
  try {
    return await runStudy(dir, def, configs, plan, record, jobs, reconfigure, json, io);
  } finally {
    unlock();
  }
}

/** Run folders with a run.json under runs/. */
function countFinished(dir: string): number {
  const runs = join(dir, "runs");
  if (!existsSync(runs)) return 0;
  let n = 0;
  for (const c of readdirSync(runs, { withFileTypes: true })) {
    if (!c.isDirectory()) continue;
    for (const r of readdirSync(join(runs, c.name))) if (!r.startsWith(".") && readRecord(join(runs, c.name, r))) n++;
  }
  return n;
}

/** Deletes run folders that are not part of the plan (after --reconfigure). */
function pruneOtherRuns(dir: string, plan: readonly PlannedRun[]): number {
  const runs = join(dir, "runs");
  if (!existsSync(runs)) return 0;
  const keep = new Set(plan.map((p) => p.folder));
  let removed = 0;
  for (const c of readdirSync(runs, { withFileTypes: true })) {
    if (!c.isDirectory()) continue;
    for (const r of readdirSync(join(runs, c.name))) {
      if (!keep.has(join("runs", c.name, r))) {
        rmSync(join(runs, c.name, r), { recursive: true, force: true });
        removed++;
      }
    }
    if (readdirSync(join(runs, c.name)).length === 0) rmSync(join(runs, c.name), { recursive: true, force: true });
  }
  return removed;
}

async function runStudy(
  dir: string,
  def: StudyDefinition,
  configs: readonly StudyConfig[],
  plan: readonly PlannedRun[],
  record: StudyRecord,
  jobs: number,
  reconfigure: boolean,
  json: boolean,
  io: Io,
): Promise<number> {
  const started = performance.now();
  removeStaleTemporaries(dir);
  if (reconfigure) {
    const removed = pruneOtherRuns(dir, plan);
    if (removed > 0) io.err(`hts study: --reconfigure: deleted ${removed} run folder(s) that are not part of this configuration\n`);
  }
  writeFileAtomic(join(dir, "study.json"), `${JSON.stringify(record, null, 2)}\n`);

  const pending = plan.filter((run) => finishedRun(dir, run) === null);
  const skipped = plan.length - pending.length;
  const main = cliMain();
  io.err(
    `hts study: ${configs.length} configuration(s) x ${def.seeds.length} seed(s) = ${plan.length} run(s) in ${dir}` +
      `${skipped > 0 ? `; ${skipped} already finished, ${pending.length} to run` : ""}${pending.length > 0 ? `; ${Math.min(jobs, pending.length)} at a time` : ""}\n`,
  );

  const running = new Set<RunningRun>();
  let usage: string | null = null;
  let interrupted: NodeJS.Signals | null = null;
  const onSignal = (sig: NodeJS.Signals) => {
    interrupted = sig;
    for (const r of running) r.stop("SIGTERM");
  };
  const onInt = () => onSignal("SIGINT");
  const onTerm = () => onSignal("SIGTERM");
  process.on("SIGINT", onInt);
  process.on("SIGTERM", onTerm);
  let finishedNow = 0;
  const queue = [...pending];
  const worker = async () => {
    while (queue.length > 0 && usage === null && interrupted === null) {
      const run = queue.shift() as PlannedRun;
      const r = startRun(dir, run, main);
      running.add(r);
      const outcome = await r.done.finally(() => running.delete(r));
      if (outcome.kind === "usage") usage ??= `${run.folder}: ${outcome.message}`;
      else if (outcome.kind === "finished") {
        finishedNow++;
        io.err(`[${skipped + finishedNow}/${plan.length}] ${describeRun(outcome.record)}\n`);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(jobs, pending.length) }, worker));
  } finally {
    process.off("SIGINT", onInt);
    process.off("SIGTERM", onTerm);
  }
  if (interrupted !== null) {
    io.err(`hts study: interrupted by ${interrupted}; the finished runs are kept: run the same command again to continue\n`);
    return interrupted === "SIGINT" ? 130 : 143;
  }
  // Flags are checked before the first run, so this is rare (e.g. an --init file that vanished).
  if (usage !== null) throw new UsageError("set", `a run was refused by hts train, so the study stopped: ${usage}`);

  const results: RunResult[] = [];
  const runs: (RunRecord & { folder: string })[] = [];
  for (const run of plan) {
    const rec = readRecord(join(dir, run.folder));
    if (!rec || JSON.stringify(rec.args) !== JSON.stringify(run.args)) continue;
    results.push(runResult(dir, run, rec));
    runs.push({ ...rec, folder: run.folder });
  }
  const names = configs.map((c) => c.name);
  const rows = summaryRows(names, def.seeds.length, results);
  const curves = accuracyCurves(names, results);
  writeFileAtomic(join(dir, "summary.md"), `# Study ${basename(dir)}\n\n${summaryMarkdown(rows)}\n${SUMMARY_NOTES}`);
  writeFileAtomic(join(dir, "summary.csv"), summaryCsv(rows));
  writeFileAtomic(
    join(dir, "summary.json"),
    `${JSON.stringify({ format: "hts-study-summary/1", definition: def, rows, curves, runs: runs.map(({ args: _args, format: _format, ...r }) => r) }, null, 2)}\n`,
  );
  await writeFigures(dir, def, configs, rows, curves);

  const crashed = rows.reduce((n, r) => n + r.crashed, 0);
  const seconds = (performance.now() - started) / 1000;
  if (json) {
    io.out(`${JSON.stringify({ status: crashed > 0 ? "crashed" : "ok", out: dir, runs: plan.length, ranNow: finishedNow, skipped, crashed, seconds, rows })}\n`);
  } else {
    io.out(summaryMarkdown(rows));
    io.out(`files in ${dir}: summary.md, summary.csv, summary.json, figures/*.svg, runs/\n`);
  }
  io.err(`hts study: done in ${seconds.toFixed(1)}s${crashed > 0 ? `; ${crashed} run(s) crashed (see summary.json; run the same command again to retry them)` : ""}\n`);
  return crashed > 0 ? 1 : 0;
}

const SUMMARY_NOTES = `Final test accuracy: over the runs that finished training (mean, sample sd in points,
worst seed). Collapses: runs that diverged or whose test accuracy fell more than 10 points
below their own best so far. Failed to learn: runs that finished within 10 points of chance
(they never fell from a best, so they are not collapses). Jitter: mean absolute
epoch-to-epoch change of test accuracy over the second half of the epochs, in points,
averaged over runs. Free residual: mean over epochs and runs of the distance to the free
fixed point at the end of the free phase, independent of dt (max |rho(drive) - s| for the
leaky rule, max |dF/ds| over neurons not held at a bound for the gradient rule). Time: wall
clock per run.
`;

function describeRun(r: RunRecord): string {
  const what = `${r.config} seed ${r.seed}`;
  if (r.status === "ok") return `${what}: ok, test ${(100 * (r.finalTestAccuracy ?? 0)).toFixed(2)}% (${r.seconds.toFixed(1)}s)`;
  return `${what}: ${r.status}: ${r.message ?? ""} (${r.seconds.toFixed(1)}s)`;
}

/** figures/dt-histograms.svg, figures/accuracy.svg, figures/stability.svg. */
async function writeFigures(
  dir: string,
  def: StudyDefinition,
  configs: readonly StudyConfig[],
  rows: ReturnType<typeof summaryRows>,
  curves: ReturnType<typeof accuracyCurves>,
): Promise<void> {
  const figures = join(dir, "figures");
  mkdirSync(figures, { recursive: true });
  // One histogram per distribution, or per configuration when --vary changes the dt settings.
  const dtVaried = Object.keys(def.vary).some((k) => k.startsWith("dt-"));
  const panels = dtVaried ? configs : configs.filter((c, i) => configs.findIndex((o) => o.dist === c.dist) === i);
  const histograms = panels.map((c) => {
    const dt = dtSettings(def, c);
    const h = drawDtHistogram(dtDistribution(dt), { count: HISTOGRAM_DRAWS, seed: 0, min: dt.min, max: dt.max });
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

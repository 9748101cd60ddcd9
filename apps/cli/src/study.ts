import { chmodSync } from "node:fs";
import { availableParallelism } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import {
  canonicalDefinition,
  checkQueueUrl,
  createQueueExecutor,
  formatQueueProgress,
  PRESET_NAMES,
  PRESETS,
  type PresetName,
  parseDists,
  parsePositiveInt,
  parseSeeds,
  parseSetFlag,
  parseStudyFile,
  parseShard,
  parseVaryFlag,
  planStudy,
  redactQueueUrl,
  runStudy,
  type Shard,
  sbatchScript,
  StudyError,
  type StudyDefinition,
  summaryMarkdown,
  writeFileAtomic,
} from "@hts/study/node";
import { formatHelp, type OptionTable, parseCommand, str } from "./args.js";
import { type Io, readJsonOption } from "./io.js";
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
  queue: {
    type: "string",
    value: "URL",
    help: "Put the runs on the BullMQ queue in the Redis at URL (redis://[:password@]HOST:PORT[/DB], rediss:// for TLS) instead of running them here: hts worker --queue URL runs them, on any machine. This process waits, shows the progress and writes the study folder as a local study does; --jobs is unused.",
  },
  shard: {
    type: "string",
    value: "I/N",
    help: "Run share I of N of the grid here (run k of the plan belongs to share k mod N + 1), into the same --out as the other shares, which may run at the same time (a shared file system); no summaries: hts study without --shard writes them once every share is finished.",
  },
  sbatch: { type: "string", value: "FILE", help: "Write a Slurm array job script to FILE whose task I runs --shard I/N of this study (one task per run; edit --array for fewer), and exit." },
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

/** Pulls every `--set X` / `--set=X` and `--vary X` out of argv (parseArgs takes each option once). */
export function extractRepeated(argv: readonly string[], name: string): { values: string[]; rest: string[] } {
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
  readonly queue: string | null;
  readonly shard: Shard | null;
  readonly sbatch: string | null;
  /** The command line without --sbatch and --out (for the sbatch script). */
  readonly argv: readonly string[];
  readonly jobsGiven: boolean;
}

/** Preset, then study file, then flags. */
function resolveStudy(argv: readonly string[], io: Io): Resolved | null {
  const sets = extractRepeated(argv, "set");
  const varies = extractRepeated(sets.rest, "vary");
  const a = parseCommand("study", varies.rest, STUDY_OPTIONS);
  if (a.help) {
    io.out(formatHelp("study", SUMMARY, STUDY_OPTIONS, FOOTER));
    return null;
  }
  const studyPath = str(a, "study");
  let file: ReturnType<typeof parseStudyFile> = { definition: {} };
  if (studyPath !== undefined) {
    const json = readJsonOption("study", studyPath);
    file = parseStudyFile(json, studyPath);
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
    const [k, v] = parseSetFlag(text);
    set[k] = v;
  }
  const vary: Record<string, readonly string[]> = { ...base.vary, ...file.definition.vary };
  for (const text of varies.values) {
    const [k, v] = parseVaryFlag(text);
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
  const queue = str(a, "queue") ?? null;
  if (queue !== null) checkQueueUrl(queue, "--queue");
  const shardText = str(a, "shard");
  const shard = shardText === undefined ? null : parseShard(shardText, "--shard");
  const sbatch = str(a, "sbatch") ?? null;
  if (queue !== null && shard !== null) throw new UsageError("shard", "--shard: not with --queue (the queue shares the runs among its workers by itself)");
  if (sbatch !== null && (queue !== null || shard !== null)) throw new UsageError("sbatch", `--sbatch: not with ${queue !== null ? "--queue" : "--shard"} (the script gives every task its own --shard)`);
  if (sbatch === "") throw new UsageError("sbatch", '--sbatch: expected a file name, got ""');
  const jobsGiven = str(a, "jobs") !== undefined || file.jobs !== undefined;
  return { definition, out, jobs, reconfigure: a.reconfigure as boolean, json: a.json as boolean, queue, shard, sbatch, argv: withoutOptions(argv, ["sbatch", "out"]), jobsGiven };
}

/** argv without the given options and their values (`--name V` or `--name=V`). */
function withoutOptions(argv: readonly string[], names: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    const name = names.find((n) => a === `--${n}` || a.startsWith(`--${n}=`));
    if (name === undefined) out.push(a);
    else if (a === `--${name}`) i++;
  }
  return out;
}

/** `hts study --sbatch FILE`: the Slurm array script. */
function writeSbatch(r: Resolved, io: Io): number {
  const file = resolve(r.sbatch as string);
  const tasks = planStudy(r.definition, { flagPrefix: "hts train: " }).length;
  const main = join(dirname(fileURLToPath(import.meta.url)), "main.js");
  const name = `hts-study-${basename(r.out)}`.replace(/[^A-Za-z0-9._-]+/g, "_");
  const script = sbatchScript({ hts: `node ${main}`, args: [...r.argv, "--out", r.out], tasks, name, jobsFromSlurm: !r.jobsGiven });
  try {
    writeFileAtomic(file, script);
    chmodSync(file, 0o755);
  } catch (e) {
    throw new UsageError("sbatch", `--sbatch: cannot write ${file}: ${(e as Error).message}`);
  }
  io.out(`${file}: a Slurm array job of ${tasks} task(s), task I runs hts study --shard I/${tasks} into ${r.out}\n`);
  io.out(`submit it with: jobid=$(sbatch --parsable ${file}); then summarise with: sbatch --dependency=afterok:$jobid --wrap "node ${main} study ${[...r.argv, "--out", r.out].join(" ")}"\n`);
  return 0;
}

/** `hts study`. */
export async function studyCommand(argv: readonly string[], io: Io): Promise<number> {
  let resolved: Resolved | null;
  try {
    resolved = resolveStudy(argv, io);
  } catch (e) {
    throw usage(e);
  }
  if (!resolved) return 0;
  if (resolved.sbatch !== null) return writeSbatch(resolved, io);
  const { definition: def, out: dir, jobs, reconfigure, json, queue, shard } = resolved;
  const started = performance.now();
  const abort = new AbortController();
  let interrupted: NodeJS.Signals | null = null;
  const onSignal = (sig: NodeJS.Signals) => {
    interrupted = sig;
    abort.abort();
  };
  const onInt = () => onSignal("SIGINT");
  const onTerm = () => onSignal("SIGTERM");
  process.on("SIGINT", onInt);
  process.on("SIGTERM", onTerm);
  let outcome: Awaited<ReturnType<typeof runStudy>>;
  try {
    if (queue !== null) io.err(`hts study: the runs go to queue hts-runs at ${redactQueueUrl(queue)}; start workers with: hts worker --queue URL\n`);
    outcome = await runStudy(def, {
      dir,
      jobs,
      reconfigure,
      ...(shard !== null ? { shard } : {}),
      ...(queue !== null
        ? {
            executor: createQueueExecutor({
              url: queue,
              dir,
              messagePrefix: "hts train: ",
              progressIntervalMs: io.isTTY ? 2000 : 5000,
              onProgress: (p) => io.err(`hts study: queue: ${formatQueueProgress(p)}\n`),
            }),
          }
        : {}),
      signal: abort.signal,
      resolveFrom: import.meta.dirname,
      messagePrefix: "hts train: ",
      onLog: (line, kind) => io.err(kind === "status" ? `hts study: ${line}` : line),
    });
  } catch (e) {
    throw usage(e);
  } finally {
    process.off("SIGINT", onInt);
    process.off("SIGTERM", onTerm);
  }
  if (interrupted !== null) {
    io.err(`hts study: interrupted by ${interrupted}; the finished runs are kept: run the same command again to continue\n`);
    return interrupted === "SIGINT" ? 130 : 143;
  }
  // Settings are checked before the first run, so this is rare (e.g. an --init file that vanished).
  if (outcome.refused !== null) throw new UsageError("set", `a run was refused by hts train, so the study stopped: ${outcome.refused}`);
  const { rows, crashed, ranNow, skipped } = outcome;
  const seconds = (performance.now() - started) / 1000;
  if (shard !== null) {
    const share = outcome.share?.length ?? 0;
    if (json) io.out(`${JSON.stringify({ status: crashed > 0 ? "crashed" : "ok", out: dir, shard: `${shard.index}/${shard.count}`, runs: share, ranNow, skipped, crashed, seconds })}\n`);
    else io.out(`shard ${shard.index}/${shard.count}: ${share} run(s) in ${dir}/runs (${ranNow} run now, ${skipped} already finished, ${crashed} crashed); hts study without --shard writes the summaries once every share is finished\n`);
    io.err(`hts study: shard ${shard.index}/${shard.count} done in ${seconds.toFixed(1)}s\n`);
    return crashed > 0 ? 1 : 0;
  }
  if (json) {
    io.out(`${JSON.stringify({ status: crashed > 0 ? "crashed" : "ok", out: dir, runs: outcome.plan.length, ranNow, skipped, crashed, seconds, rows })}\n`);
  } else {
    io.out(summaryMarkdown(rows));
    io.out(`files in ${dir}: summary.md, summary.csv, summary.json, figures/*.svg, runs/\n`);
  }
  io.err(`hts study: done in ${seconds.toFixed(1)}s${crashed > 0 ? `; ${crashed} run(s) crashed (see summary.json; run the same command again to retry them)` : ""}\n`);
  return crashed > 0 ? 1 : 0;
}

/** A StudyError as a bad command line (the study folder is --out). */
function usage(e: unknown): unknown {
  if (!(e instanceof StudyError)) return e;
  if (e.code === "HTS_STUDY_STATE") return new Error(e.message);
  const option = e.parameter === "dir" ? "out" : e.parameter;
  return new UsageError(option, e.parameter === "dir" ? `--out: ${e.message.replace(/^dir: /, "")}` : e.message);
}

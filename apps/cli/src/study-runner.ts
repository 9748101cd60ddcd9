import { spawn } from "node:child_process";
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { writeFileAtomic } from "./io.js";
import type { StudyConfig } from "./study-config.js";
import type { EpochMetrics, RunResult, RunStatus } from "./study-summary.js";

/** One run of the grid: a configuration and a seed, with its `hts train` arguments. */
export interface PlannedRun {
  readonly config: StudyConfig;
  readonly seed: number;
  /** The run folder, relative to the study folder: runs/<config>/seed-<s>. */
  readonly folder: string;
  /** `hts train` arguments without --out and --json. */
  readonly args: readonly string[];
}

/** run.json, the last file of a run folder: how the run ended. */
export interface RunRecord {
  readonly format: "hts-study-run/1";
  readonly config: string;
  readonly dist: string;
  readonly variant: Readonly<Record<string, string>>;
  readonly seed: number;
  readonly args: readonly string[];
  readonly status: RunStatus;
  /** The divergence message, or for a crash the last line the run wrote on stderr. */
  readonly message: string | null;
  readonly exitCode: number | null;
  readonly signal: string | null;
  /** Wall-clock seconds of the run's process. */
  readonly seconds: number;
  readonly finalTestAccuracy: number | null;
  readonly bestTestAccuracy: number | null;
  readonly finishedAt: string;
}

/** The built CLI entry point that runs are spawned with: dist/main.js beside this module, or the package's dist/ when running from src/. */
export function cliMain(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const candidate of [join(here, "main.js"), resolve(here, "..", "dist", "main.js")]) {
    if (existsSync(candidate)) return candidate;
  }
  throw new Error(`cannot find the built hts command line (main.js) next to ${here} or in ../dist; build @hts/cli first`);
}

/** The record of a finished run (ok or diverged) whose arguments match, else null (to be run again). */
export function finishedRun(studyDir: string, run: PlannedRun): RunRecord | null {
  const record = readRecord(join(studyDir, run.folder));
  if (!record || (record.status !== "ok" && record.status !== "diverged")) return null;
  return JSON.stringify(record.args) === JSON.stringify(run.args) ? record : null;
}

/** Reads run.json of a run folder; null when absent or not a run record. */
export function readRecord(runDir: string): RunRecord | null {
  try {
    const r = JSON.parse(readFileSync(join(runDir, "run.json"), "utf8")) as RunRecord;
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

/** A run as the summary reads it from its folder. */
export function runResult(studyDir: string, run: PlannedRun, record: RunRecord): RunResult {
  return {
    config: run.config.name,
    seed: run.seed,
    status: record.status,
    message: record.message,
    seconds: record.seconds,
    epochs: readEpochs(join(studyDir, run.folder)),
  };
}

/** Temporary run folders are named `.seed-<s>.tmp-<pid>-<random>` next to their final place. */
const TMP = /^\.seed-\d+\.tmp-/;

/** Removes the temporary folders that a killed study left behind under runs/. */
export function removeStaleTemporaries(studyDir: string): number {
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

/** What happened to one run: its record, or a bad command line (exit code 2) that stops the study. */
export type RunOutcome = { readonly kind: "finished"; readonly record: RunRecord } | { readonly kind: "usage"; readonly message: string } | { readonly kind: "cancelled" };

/** A run in progress: its outcome, and a way to stop it. */
export interface RunningRun {
  readonly done: Promise<RunOutcome>;
  readonly stop: (signal: NodeJS.Signals) => void;
}

function fsyncDir(dir: string): void {
  try {
    const fd = openSync(dir, "r");
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Not every file system lets a folder be opened for fsync; the rename is done either way.
  }
}

/**
 * Starts one run: `node <cli main.js> train ... --out <tmp> --json` in its own process,
 * with the run's output going to a temporary folder next to its final place. When the
 * process ends, its stderr goes to train.log and run.json is written (each atomically),
 * then the folder is renamed into place: a run folder is either absent or complete.
 * A run that exits with code 2 (a bad `hts train` command line) leaves nothing.
 */
export function startRun(studyDir: string, run: PlannedRun, main: string): RunningRun {
  const final = join(studyDir, run.folder);
  const parent = dirname(final);
  mkdirSync(parent, { recursive: true });
  const tmp = join(parent, `.seed-${run.seed}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 10)}`);
  mkdirSync(tmp);
  const started = performance.now();
  const child = spawn(process.execPath, [main, ...run.args, "--out", tmp, "--json"], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  let cancelled = false;
  child.stdout.setEncoding("utf8").on("data", (s: string) => {
    stdout += s;
  });
  child.stderr.setEncoding("utf8").on("data", (s: string) => {
    stderr += s;
  });
  const done = new Promise<RunOutcome>((resolveDone, rejectDone) => {
    let spawnError: Error | null = null;
    child.on("error", (e) => {
      spawnError = e;
    });
    child.on("close", (code, signal) => {
      const seconds = (performance.now() - started) / 1000;
      if (cancelled) {
        rmSync(tmp, { recursive: true, force: true });
        resolveDone({ kind: "cancelled" });
        return;
      }
      const lastErr = stderr.trim().split("\n").filter((l) => l.trim() !== "").pop() ?? null;
      if (code === 2) {
        rmSync(tmp, { recursive: true, force: true });
        resolveDone({ kind: "usage", message: lastErr ?? "hts train exited with code 2 (a bad command line)" });
        return;
      }
      let summary: { status?: string; error?: string | null; finalTestAccuracy?: number | null; bestTestAccuracy?: number | null } | null = null;
      try {
        summary = JSON.parse(stdout.trim().split("\n").pop() ?? "");
      } catch {
        summary = null;
      }
      let status: RunStatus;
      let message: string | null;
      if (code === 0 && summary?.status === "ok") {
        status = "ok";
        message = null;
      } else if (code === 3 && summary?.status === "diverged") {
        status = "diverged";
        message = summary.error ?? lastErr;
      } else {
        status = "crashed";
        message =
          (spawnError as Error | null)?.message ??
          (signal ? `killed by ${signal}${lastErr ? ` (last output: ${lastErr})` : ""}` : (lastErr ?? `hts train exited with code ${code} and no message`));
      }
      const best = summary?.bestTestAccuracy;
      const record: RunRecord = {
        format: "hts-study-run/1",
        config: run.config.name,
        dist: run.config.dist,
        variant: run.config.variant,
        seed: run.seed,
        args: run.args,
        status,
        message,
        exitCode: code,
        signal,
        seconds,
        finalTestAccuracy: status === "ok" ? (summary?.finalTestAccuracy ?? null) : null,
        bestTestAccuracy: typeof best === "number" && Number.isFinite(best) ? best : null,
        finishedAt: new Date().toISOString(),
      };
      try {
        writeFileAtomic(join(tmp, "train.log"), stderr);
        writeFileAtomic(join(tmp, "run.json"), `${JSON.stringify(record, null, 2)}\n`);
        // An earlier crashed record (or one with other arguments) makes way for this one.
        rmSync(final, { recursive: true, force: true });
        renameSync(tmp, final);
        fsyncDir(parent);
      } catch (e) {
        rmSync(tmp, { recursive: true, force: true });
        rejectDone(e);
        return;
      }
      resolveDone({ kind: "finished", record });
    });
  });
  return {
    done,
    stop: (sig) => {
      cancelled = true;
      child.kill(sig);
    },
  };
}

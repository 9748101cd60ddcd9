import type { DataSplit } from "@hts/datasets";
import type { DivergedRecord, EpochRecord, NetworkSnapshot, TrainState } from "@hts/ep";
import type { BackendPlatform } from "@hts/kernels";
import { type PreparedRun, prepareRun, type RunLog, type RunResult, runPrepared } from "./compose.js";
import { runBackend } from "./registry.js";
import type { RunSpec } from "./spec.js";

/**
 * One run for an executor: a plain, JSON-serialisable description (it may cross a process,
 * a thread or a queue).
 */
export interface RunTask {
  /** Unique among the tasks of one {@link Executor.execute} call. */
  readonly id: string;
  readonly spec: RunSpec;
  /** For executors that write files: the run's folder, relative to the executor's folder. */
  readonly folder?: string;
  /** JSON fields recorded with the run by executors that write a record (`run.json`). */
  readonly meta?: Readonly<Record<string, unknown>>;
  /** With `spec.init`: take the checkpoint's layer sizes instead of checking `spec.arch` against them. */
  readonly adoptInitArch?: boolean;
}

/**
 * How a task ended: `ok` and `diverged` are results; `invalid` a setting refused before
 * training (`HTS_INVALID_ARGUMENT`, e.g. a batch larger than the data); `crashed` any other
 * error; `cancelled` stopped by the signal.
 */
export type ExecutedStatus = "ok" | "diverged" | "crashed" | "invalid" | "cancelled";

/** The outcome of one task. */
export interface ExecutedRun {
  readonly id: string;
  readonly status: ExecutedStatus;
  /** The divergence or error message, else null. */
  readonly message: string | null;
  /** The error's code (`HTS_...`) for `crashed` and `invalid`, else null. */
  readonly code: string | null;
  /** Wall-clock seconds of the task. */
  readonly seconds: number;
  /** The run's result for `ok` and `diverged`, else null. */
  readonly result: RunResult | null;
}

/** What an executor reports while it works, per task. */
export type ExecutorEvent =
  | { readonly kind: "start" }
  | { readonly kind: "log"; readonly line: string; readonly level: "info" | "error" }
  | { readonly kind: "epoch"; readonly record: EpochRecord | DivergedRecord }
  | { readonly kind: "end"; readonly run: ExecutedRun };

/** Options of {@link Executor.execute}. */
export interface ExecuteOptions {
  /** Stops the work: tasks not started end `cancelled`, running ones stop (in process: at the next epoch boundary). */
  readonly signal?: AbortSignal;
  /** Progress, per task id. */
  readonly onEvent?: (id: string, event: ExecutorEvent) => void;
}

/**
 * Runs tasks and returns their outcomes, in the order of the tasks. The whole contract:
 * tasks in, outcomes out, progress through `onEvent`, cancellation through `signal`; an
 * executor never throws for a task's failure (it is an outcome). Implementations: the
 * sequential in-process executor ({@link createInProcessExecutor}, works in a browser) and
 * the local executor of `@hts/study/node` (`jobs` child processes, run folders on disk).
 */
export interface Executor {
  execute(tasks: readonly RunTask[], options?: ExecuteOptions): Promise<ExecutedRun[]>;
}

/** Where a run's inputs come from. */
export interface RunEnvironment {
  /** The data set a spec names (`spec.dataset`, `trainSize`, `testSize`), before hold-out and transform. */
  readonly loadData: (spec: RunSpec) => Promise<DataSplit>;
  /** The network of a checkpoint (`spec.init`); without it, specs with `init` fail. */
  readonly loadInit?: (path: string) => Promise<NetworkSnapshot>;
  /** What the platform adds to `createBackend` (`NODE_PLATFORM` of `@hts/kernels/node` in Node); none: the root's defaults. */
  readonly platform?: BackendPlatform;
}

/** Hooks of {@link executeTask}. */
export interface TaskHooks {
  readonly onLog?: RunLog;
  readonly onBatch?: (epoch: number, done: number, total: number, seconds: number) => void;
  /** After the run is composed, before the first epoch. */
  readonly onPrepared?: (run: PreparedRun) => void | Promise<void>;
  readonly onEpoch?: (record: EpochRecord | DivergedRecord, run: PreparedRun) => void | Promise<void>;
  readonly signal?: AbortSignal;
  /** Continue from this state instead of starting afresh. */
  readonly resume?: TrainState | null;
}

/**
 * One task from its description to its result: the spec's `imports`, the backend (logged),
 * the data, the `init` network, {@link prepareRun} and {@link runPrepared}. Throws on
 * failure (the executors turn that into an outcome).
 */
export async function executeTask(task: RunTask, env: RunEnvironment, hooks: TaskHooks = {}): Promise<RunResult> {
  const spec = task.spec;
  for (const m of spec.imports ?? []) await import(/* @vite-ignore */ m);
  const log: RunLog = hooks.onLog ?? (() => {});
  const choice = await runBackend(spec.backend, env.platform);
  log(`backend: ${choice.backend.name} (${shortReason(choice.reason)})\n`, "info");
  const data = await env.loadData(spec);
  let init: NetworkSnapshot | null = null;
  if (spec.init !== null && !hooks.resume) {
    if (!env.loadInit) throw new Error(`the run's init checkpoint ${spec.init} cannot be read here (no loadInit in the environment)`);
    init = await env.loadInit(spec.init);
  }
  const prepared = prepareRun({
    spec,
    data,
    backend: choice,
    init,
    adoptInitArch: task.adoptInitArch ?? false,
    resume: hooks.resume ?? null,
    onLog: log,
    ...(hooks.onBatch ? { onBatch: hooks.onBatch } : {}),
  });
  await hooks.onPrepared?.(prepared);
  return runPrepared(prepared, { onLog: log, ...(hooks.onEpoch ? { onEpoch: hooks.onEpoch } : {}), ...(hooks.signal ? { signal: hooks.signal } : {}) });
}

/** The outcome of a task that threw `error` (or was cancelled). */
export function failedRun(id: string, error: unknown, seconds: number, signal?: AbortSignal): ExecutedRun {
  const err = error as { code?: unknown; message?: unknown };
  const code = typeof err?.code === "string" ? err.code : null;
  const message = typeof err?.message === "string" ? err.message : String(error);
  const status: ExecutedStatus = signal?.aborted ? "cancelled" : code === "HTS_INVALID_ARGUMENT" ? "invalid" : "crashed";
  return { id, status, message, code, seconds, result: null };
}

/** The outcome of a task that returned `result`. */
export function completedRun(id: string, result: RunResult, seconds: number): ExecutedRun {
  return { id, status: result.status, message: result.error, code: null, seconds, result };
}

/** Options of {@link createInProcessExecutor}. */
export type InProcessExecutorOptions = RunEnvironment;

/**
 * An executor that runs the tasks one after the other in this thread (a browser page, a
 * test, a script). Cancellation takes effect between epochs.
 */
export function createInProcessExecutor(options: InProcessExecutorOptions): Executor {
  return {
    async execute(tasks, opts = {}) {
      const out: ExecutedRun[] = [];
      const emit = (id: string, e: ExecutorEvent) => opts.onEvent?.(id, e);
      for (const task of tasks) {
        const started = Date.now();
        let run: ExecutedRun;
        if (opts.signal?.aborted) run = { id: task.id, status: "cancelled", message: null, code: null, seconds: 0, result: null };
        else {
          emit(task.id, { kind: "start" });
          try {
            const result = await executeTask(task, options, {
              onLog: (line, level) => emit(task.id, { kind: "log", line, level }),
              onEpoch: (record) => emit(task.id, { kind: "epoch", record }),
              ...(opts.signal ? { signal: opts.signal } : {}),
            });
            run = completedRun(task.id, result, (Date.now() - started) / 1000);
          } catch (e) {
            run = failedRun(task.id, e, (Date.now() - started) / 1000, opts.signal);
          }
        }
        emit(task.id, { kind: "end", run });
        out.push(run);
      }
      return out;
    },
  };
}

/**
 * The reason a backend was chosen, in one short line for a log: the choice itself, and
 * where the rest is (the record's `backendReason` keeps the whole text, which can explain
 * at length why the GPU was skipped).
 */
export function shortReason(reason: string): string {
  if (reason.length <= 80) return reason;
  const cut = reason.indexOf(" (");
  const head = cut > 0 ? reason.slice(0, cut) : reason.slice(0, 80);
  const skipped = /skipped (\w+)/.exec(reason)?.[1];
  return `${head}${skipped ? `; ${skipped} skipped` : ""}: the whole reason is backendReason in config.json`;
}

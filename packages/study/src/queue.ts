/**
 * What the queue executor and the queue worker share: the Redis address, the job's payload
 * and its schema, the job id of a run, and where a run's files wait for the coordinator.
 *
 * @packageDocumentation
 */
import { createHash } from "node:crypto";
import { Redis } from "ioredis";
import { z } from "zod";
import { refuse } from "./errors.js";
import type { RunTask } from "./executor.js";

/** The BullMQ queue that studies put their runs on, unless told otherwise. */
export const DEFAULT_QUEUE_NAME = "hts-runs";

/** @internal The environment variables a worker sets for its processors. */
export const PROCESSOR_ENV = {
  url: "HTS_QUEUE_URL",
  queue: "HTS_QUEUE_NAME",
  worker: "HTS_QUEUE_WORKER",
  allowImports: "HTS_QUEUE_ALLOW_IMPORTS",
  resolveFrom: "HTS_QUEUE_RESOLVE_FROM",
} as const;

/** The format of a job's payload. */
export const QUEUE_JOB_FORMAT = "hts-queue-job/1";

/** A job's payload: one run, and what the coordinator wants back. */
export interface QueueJobData {
  readonly format: typeof QUEUE_JOB_FORMAT;
  /** The run: `id` and `spec` (validated by the worker), `adoptInitArch`. */
  readonly task: Pick<RunTask, "id" | "spec"> & { readonly adoptInitArch?: boolean };
  /** Send model.safetensors and checkpoint.safetensors back, not only config.json, metrics.jsonl and train.log. */
  readonly weights: boolean;
  /** Put before the stop and error lines of the run's log (e.g. `hts train: `). */
  readonly prefix: string;
}

/**
 * The envelope of a job's payload. The spec inside is checked separately with
 * `validateRunSpec` (after the worker has decided about its `imports`).
 */
export const queueJobSchema = z.strictObject({
  format: z.literal(QUEUE_JOB_FORMAT),
  task: z.strictObject({
    id: z.string().min(1).max(500),
    spec: z.record(z.string(), z.unknown()),
    adoptInitArch: z.boolean().optional(),
  }),
  weights: z.boolean(),
  prefix: z.string().max(200),
});

/** What a worker stores under {@link resultKey} for a finished run (the run's files beside it). */
export interface QueueRunMeta {
  readonly status: "ok" | "diverged" | "invalid";
  readonly message: string | null;
  readonly code: string | null;
  /** Wall-clock seconds of the run on the worker. */
  readonly seconds: number;
  readonly finalTestAccuracy: number | null;
  readonly bestTestAccuracy: number | null;
  /** The worker's name. */
  readonly worker: string;
  /** Which try of the job this was (1 for the first). */
  readonly attempt: number;
  /** When the run ended on the worker (ms since the epoch), before its files were sent. */
  readonly endedAt: number;
}

/** The files of a run folder that travel through Redis; the weights only when asked for. */
export const QUEUE_RUN_FILES = ["config.json", "metrics.jsonl", "train.log"] as const;
export const QUEUE_WEIGHT_FILES = ["model.safetensors", "checkpoint.safetensors"] as const;

/** The Redis hash that holds a finished run's files and its {@link QueueRunMeta} (field `meta`). */
export function resultKey(queueName: string, jobId: string): string {
  return `bull:${queueName}:hts-result:${jobId}`;
}

/**
 * The job id of a run: a hash of everything that decides its result (the whole spec, the
 * weights wish and the log prefix), so the same run is one job however often it is added,
 * and a changed setting is another job.
 */
export function runJobId(data: QueueJobData): string {
  const identity = JSON.stringify({ format: data.format, spec: data.task.spec, adoptInitArch: data.task.adoptInitArch ?? false, weights: data.weights, prefix: data.prefix });
  return `run-${createHash("sha256").update(identity).digest("hex").slice(0, 40)}`;
}

/**
 * Checks a Redis address, `redis://[:password@]HOST:PORT[/DB]` or `rediss://` (TLS); a bad
 * one is a `StudyError` whose parameter is `parameter`.
 */
export function checkQueueUrl(url: string, parameter = "queue"): URL {
  const expected = "redis://[:password@]HOST:PORT[/DB] or rediss://... (TLS)";
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    refuse(parameter, url, expected, `expected ${expected}, got ${JSON.stringify(url)}`);
  }
  if (u.protocol !== "redis:" && u.protocol !== "rediss:") refuse(parameter, url, expected, `expected ${expected}, got ${JSON.stringify(url)} (scheme ${u.protocol.replace(/:$/, "")})`);
  if (u.hostname === "") refuse(parameter, url, expected, `expected ${expected}, got ${JSON.stringify(url)} (no host)`);
  if (u.port !== "" && !(Number(u.port) >= 1 && Number(u.port) <= 65535)) refuse(parameter, url, expected, `expected ${expected}, got ${JSON.stringify(url)} (port ${u.port})`);
  const db = u.pathname.replace(/^\//, "");
  if (db !== "" && !/^\d{1,2}$/.test(db)) refuse(parameter, url, expected, `expected ${expected}, got ${JSON.stringify(url)} (database ${JSON.stringify(db)}: expected a number)`);
  return u;
}

/** A connection to the Redis at `url` as BullMQ wants it (no retry limit per command: it waits through a restart). */
export function connectQueue(url: string, parameter = "queue"): Redis {
  checkQueueUrl(url, parameter);
  const redis = new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true });
  // It reconnects by itself (through a Redis restart); BullMQ reports errors to its own listeners.
  redis.on("error", () => {});
  return redis;
}

/** The address for messages: the password replaced by `***`. */
export function redactQueueUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== "") u.password = "***";
    return u.toString();
  } catch {
    return url;
  }
}

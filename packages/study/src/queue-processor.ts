/**
 * The BullMQ sandboxed processor of `hts worker`: one process per concurrent job (reused),
 * so that CPU-bound training never stalls the worker's lock renewals. It checks the job's
 * payload, trains the run in a temporary folder with `trainToFolder`, stores the run's
 * files in Redis for the coordinator and returns a short outcome. A run that crashed
 * throws (BullMQ retries it); a payload that is not a valid run is failed for good
 * (`UnrecoverableError`). The worker passes its settings in the environment.
 *
 * @internal
 * @packageDocumentation
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type SandboxedJob, UnrecoverableError } from "bullmq";
import type { Redis } from "ioredis";
import { failedRun } from "./executor.js";
import { endLine, trainToFolder } from "./node.js";
import { connectQueue, PROCESSOR_ENV, QUEUE_RUN_FILES, QUEUE_WEIGHT_FILES, type QueueJobData, type QueueRunMeta, queueJobSchema, resultKey } from "./queue.js";
import { type RunSpec, validateRunSpec } from "./spec.js";


// A worker that was killed leaves nobody to report to: stop at once.
process.once("disconnect", () => process.exit(1));

let redis: Redis | null = null;

/** Refuses a payload for good: the job fails without retries, with this reason. */
function reject(jobId: string | undefined, why: string): never {
  throw new UnrecoverableError(`job ${jobId ?? "?"}: payload refused: ${why}`);
}

/**
 * Checks a job's payload and returns it: the envelope's schema, the spec's `imports`
 * against the allowed modules (imported here, so that their components can be named),
 * then `validateRunSpec`.
 */
export async function checkJobPayload(jobId: string | undefined, payload: unknown, allowed: readonly string[]): Promise<QueueJobData> {
  const parsed = queueJobSchema.safeParse(payload);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    reject(jobId, `${issue?.path.join(".") || "payload"}: ${issue?.message ?? "not a run"} (expected an ${"hts-queue-job/1"} payload put there by hts study --queue)`);
  }
  const data = parsed.data as unknown as QueueJobData;
  const imports = (data.task.spec as { imports?: unknown }).imports;
  if (imports !== undefined) {
    if (!Array.isArray(imports) || !imports.every((m) => typeof m === "string")) reject(jobId, `task.spec.imports: expected an array of module specifiers, got ${JSON.stringify(imports)}`);
    for (const m of imports as string[]) {
      if (!allowed.includes(m)) reject(jobId, `task.spec.imports: module ${JSON.stringify(m)} is not allowed on this worker (start it with --allow-import ${m} to allow it)`);
    }
    for (const m of imports as string[]) await import(/* @vite-ignore */ m);
  }
  try {
    validateRunSpec(data.task.spec as RunSpec);
  } catch (e) {
    reject(jobId, `task.spec: ${(e as Error).message}`);
  }
  return data;
}

function allowedImports(): string[] {
  const raw = process.env[PROCESSOR_ENV.allowImports];
  if (!raw) return [];
  const list = JSON.parse(raw) as unknown;
  return Array.isArray(list) ? list.filter((m): m is string => typeof m === "string") : [];
}

/** The processor: see the module's description. */
export default async function processRun(job: SandboxedJob): Promise<{ worker: string; status: string; endedAt: number }> {
  const worker = process.env[PROCESSOR_ENV.worker] ?? `pid-${process.pid}`;
  const queueName = process.env[PROCESSOR_ENV.queue] as string;
  const url = process.env[PROCESSOR_ENV.url] as string;
  const data = await checkJobPayload(job.id, job.data, allowedImports());
  redis ??= connectQueue(url);
  const tmp = mkdtempSync(join(tmpdir(), "hts-worker-run-"));
  let log = "";
  const started = Date.now();
  await job.updateProgress({ worker, pid: process.pid, epoch: 0, epochs: data.task.spec.epochs });
  try {
    const resolveFrom = process.env[PROCESSOR_ENV.resolveFrom];
    let meta: QueueRunMeta;
    const files: [string, Buffer][] = [];
    try {
      const result = await trainToFolder({
        task: { id: data.task.id, spec: data.task.spec, ...(data.task.adoptInitArch !== undefined ? { adoptInitArch: data.task.adoptInitArch } : {}) },
        dir: tmp,
        ...(resolveFrom ? { resolveFrom } : {}),
        onLog: (line) => {
          log += line;
        },
        onEpoch: (record) => void job.updateProgress({ worker, pid: process.pid, epoch: record.epoch, epochs: data.task.spec.epochs }),
      });
      const seconds = (Date.now() - started) / 1000;
      log += endLine(result, seconds, null, data.prefix).line;
      const best = result.bestTestAccuracy;
      meta = {
        status: result.status,
        message: result.error,
        code: null,
        seconds,
        finalTestAccuracy: result.status === "ok" ? result.finalTestAccuracy : null,
        bestTestAccuracy: typeof best === "number" && Number.isFinite(best) ? best : null,
        worker,
        attempt: job.attemptsMade + 1,
        endedAt: Date.now(),
      };
      const names = [...QUEUE_RUN_FILES, ...(data.weights ? QUEUE_WEIGHT_FILES : [])].filter((n) => n !== "train.log");
      for (const name of names) {
        try {
          files.push([name, readFileSync(join(tmp, name))]);
        } catch {
          // A run that diverged in its first epoch has no weights.
        }
      }
      files.push(["train.log", Buffer.from(log, "utf8")]);
    } catch (e) {
      const run = failedRun(data.task.id, e, (Date.now() - started) / 1000);
      // A crash is retried (maybe elsewhere); a refused setting is the run's result.
      if (run.status !== "invalid") throw new Error(`${run.code ? `[${run.code}] ` : ""}${run.message ?? "the run failed"}`);
      meta = { status: "invalid", message: run.message, code: run.code, seconds: run.seconds, finalTestAccuracy: null, bestTestAccuracy: null, worker, attempt: job.attemptsMade + 1, endedAt: Date.now() };
    }
    const key = resultKey(queueName, job.id as string);
    const fields: (string | Buffer)[] = ["meta", JSON.stringify(meta)];
    for (const [name, bytes] of files) fields.push(`file:${name}`, bytes);
    await redis.multi().del(key).hset(key, ...fields).exec();
    return { worker, status: meta.status, endedAt: meta.endedAt };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

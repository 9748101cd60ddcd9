import { mkdirSync, renameSync, rmSync } from "node:fs";
import { open } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { Queue, QueueEvents } from "bullmq";
import type { Redis } from "ioredis";
import type { RunResult } from "./compose.js";
import { invalidField } from "./errors.js";
import type { ExecutedRun, ExecuteOptions, Executor, ExecutorEvent, RunTask } from "./executor.js";
import { runRecordJson } from "./local-executor.js";
import { connectQueue, DEFAULT_QUEUE_NAME, QUEUE_JOB_FORMAT, type QueueJobData, type QueueRunMeta, resultKey, runJobId } from "./queue.js";
import { fsyncDir } from "./write-atomic.js";

/** Where a queue study stands, for a progress display. */
export interface QueueProgress {
  readonly total: number;
  readonly done: number;
  readonly running: number;
  readonly failed: number;
  /** Per worker name: runs finished by it in this study, runs it is running now. */
  readonly workers: Readonly<Record<string, { readonly done: number; readonly running: number }>>;
  /** Seconds until the rest is done at the rate so far; null before the first result. */
  readonly etaSeconds: number | null;
}

/** One line for a progress display: `12/40 done, 3 running, 1 failed; ...; ETA 1m20s`. */
export function formatQueueProgress(p: QueueProgress): string {
  const workers = Object.entries(p.workers)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, w]) => `${name} ${w.done}${w.running > 0 ? ` (+${w.running})` : ""}`);
  const eta = p.etaSeconds === null ? "ETA ?" : `ETA ${p.etaSeconds >= 60 ? `${Math.floor(p.etaSeconds / 60)}m${String(Math.round(p.etaSeconds % 60)).padStart(2, "0")}s` : `${Math.round(p.etaSeconds)}s`}`;
  return `${p.done}/${p.total} done, ${p.running} running, ${p.failed} failed; workers: ${workers.length > 0 ? workers.join(", ") : "none seen yet"}; ${eta}`;
}

/** Options of {@link createQueueExecutor}. */
export interface QueueExecutorOptions {
  /** `redis://[:password@]HOST:PORT[/DB]` or `rediss://...` (TLS). */
  readonly url: string;
  /** The folder that tasks' `folder`s are relative to (the study folder); run folders appear there as with the local executor. */
  readonly dir: string;
  /** The BullMQ queue (default {@link DEFAULT_QUEUE_NAME}); workers must serve the same one. */
  readonly queueName?: string;
  /** Bring model.safetensors and checkpoint.safetensors back too (default true, as a local study writes them). */
  readonly weights?: boolean;
  /** Put before the stop and error lines of the runs' logs (e.g. `hts train: `). */
  readonly messagePrefix?: string;
  /** Tries of a run that crashes before it is recorded as crashed (default 3). */
  readonly attempts?: number;
  /** The first retry's delay in ms, doubled for each further one (default 2,000). */
  readonly backoffMs?: number;
  /** Called every `progressIntervalMs` (default 2,000) while runs are out, and once at the end. */
  readonly onProgress?: (progress: QueueProgress) => void;
  readonly progressIntervalMs?: number;
  /**
   * How long a run's files stay in Redis once its folder is written, for a second
   * coordinator waiting on the same job (seconds, default 300; 0: deleted at once).
   */
  readonly keepResultsSeconds?: number;
  /** How often the states of the jobs still out are read back, in case an event was missed (ms, default 3,000). */
  readonly reconcileIntervalMs?: number;
}

function toBuffer(v: Buffer | undefined): Buffer | null {
  return v === undefined ? null : v;
}

/** The RunResult of a run that came back through the queue, from its files. */
function resultFromFiles(meta: QueueRunMeta, files: ReadonlyMap<string, Buffer>): RunResult {
  const config = files.get("config.json");
  const metricsText = files.get("metrics.jsonl")?.toString("utf8") ?? "";
  const metrics = metricsText
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  return {
    status: meta.status === "diverged" ? "diverged" : "ok",
    error: meta.message,
    epochs: metrics.filter((m) => m.nonFinite === false).length,
    finalTestAccuracy: meta.finalTestAccuracy,
    bestTestAccuracy: meta.bestTestAccuracy,
    bestEpoch: null,
    bestValidationAccuracy: null,
    lastValidationAccuracy: null,
    seconds: meta.seconds,
    config: (config ? JSON.parse(config.toString("utf8")) : {}) as RunResult["config"],
    metrics: metrics as unknown as RunResult["metrics"],
  };
}


/** Completed jobs (small: the run's outcome in a line) are kept this long, so that adding a run again adds nothing. */
const KEEP_COMPLETED = { age: 7 * 24 * 3600, count: 1_000_000 };

/** Exit codes a local run's process would have had (run.json keeps them). */
const EXIT_CODES: Readonly<Record<string, number>> = { ok: 0, diverged: 3, crashed: 1 };

/**
 * An executor that puts every task on a BullMQ queue in Redis and collects the results as
 * workers (`hts worker`, {@link createQueueWorker}) finish them, anywhere. Each task is a
 * job whose id is a hash of the run's whole spec ({@link runJobId}): adding it again (a
 * second coordinator, a rerun) adds nothing, a changed setting is a new job. A finished
 * job's files come back through Redis and are written as the local executor writes them:
 * a temporary folder renamed into place, with train.log and run.json (plus `queue`:
 * worker, attempts, when the run ended). A job that failed for good is a `crashed` run
 * folder; one that failed in an earlier coordinator is retried when added again. A collected
 * run's files leave Redis 5 minutes later (its completed job stays a week, so that adding
 * the run again adds nothing; a run whose files are gone is run again). Aborting the signal stops waiting (the jobs
 * stay on the queue for the next coordinator).
 */
export function createQueueExecutor(options: QueueExecutorOptions): Executor {
  const attempts = options.attempts ?? 3;
  if (!Number.isSafeInteger(attempts) || attempts < 1) invalidField("attempts", attempts, "an integer >= 1");
  const backoffMs = options.backoffMs ?? 2000;
  if (!Number.isFinite(backoffMs) || backoffMs < 0) invalidField("backoffMs", backoffMs, "a number of milliseconds >= 0");
  const queueName = options.queueName ?? DEFAULT_QUEUE_NAME;
  const weights = options.weights ?? true;
  const keepResults = options.keepResultsSeconds ?? 300;
  if (!Number.isSafeInteger(keepResults) || keepResults < 0) invalidField("keepResultsSeconds", keepResults, "an integer number of seconds >= 0");
  const prefix = options.messagePrefix ?? "";
  return {
    async execute(tasks, opts: ExecuteOptions = {}) {
      const results = new Array<ExecutedRun>(tasks.length);
      if (tasks.length === 0) return results;
      const connection: Redis = connectQueue(options.url);
      const queue = new Queue(queueName, { connection });
      const eventsConnection = connection.duplicate();
      eventsConnection.on("error", () => {});
      const events = new QueueEvents(queueName, { connection: eventsConnection });
      const emit = (task: RunTask, e: ExecutorEvent) => opts.onEvent?.(task.id, e);
      const byJob = new Map<string, number[]>();
      const jobs = tasks.map((task, i) => {
        const data: QueueJobData = {
          format: QUEUE_JOB_FORMAT,
          task: { id: task.id, spec: task.spec, ...(task.adoptInitArch !== undefined ? { adoptInitArch: task.adoptInitArch } : {}) },
          weights,
          prefix,
        };
        const jobId = runJobId(data);
        byJob.set(jobId, [...(byJob.get(jobId) ?? []), i]);
        return { jobId, data };
      });
      const started = Date.now();
      const handled = new Set<string>();
      const busy = new Map<string, Promise<void>>();
      const running = new Map<string, string>(); // job id -> worker
      const workerDone: Record<string, number> = {};
      const startedTasks = new Set<number>();
      let done = 0;
      let failed = 0;
      let finishedNow = 0;
      let reAdded = new Set<string>();
      let wake: () => void = () => {};
      const progress = (): QueueProgress => {
        const workers: Record<string, { done: number; running: number }> = {};
        for (const [name, n] of Object.entries(workerDone)) workers[name] = { done: n, running: 0 };
        for (const name of running.values()) {
          const w = workers[name] ?? { done: 0, running: 0 };
          workers[name] = { ...w, running: w.running + 1 };
        }
        const elapsed = (Date.now() - started) / 1000;
        const eta = finishedNow > 0 ? ((tasks.length - done) * elapsed) / finishedNow : null;
        return { total: tasks.length, done, running: running.size, failed, workers, etaSeconds: eta };
      };
      const markStarted = (jobId: string, worker: string | null) => {
        if (worker !== null && !handled.has(jobId)) running.set(jobId, worker);
        for (const i of byJob.get(jobId) ?? []) {
          if (startedTasks.has(i)) continue;
          startedTasks.add(i);
          emit(tasks[i] as RunTask, { kind: "start" });
        }
      };
      const finish = (jobId: string, run: (task: RunTask) => ExecutedRun) => {
        handled.add(jobId);
        running.delete(jobId);
        for (const i of byJob.get(jobId) ?? []) {
          const task = tasks[i] as RunTask;
          if (!startedTasks.has(i)) {
            startedTasks.add(i);
            emit(task, { kind: "start" });
          }
          const r = run(task);
          results[i] = r;
          done++;
          if (r.status === "crashed") failed++;
          emit(task, { kind: "end", run: r });
        }
        wake();
      };
      // The files go into a temporary folder (each written and fsynced, all at once), which is
      // renamed into place: the run folder is absent or complete, as with the local executor.
      const writeFolder = async (task: RunTask, files: ReadonlyMap<string, Buffer>, record: Record<string, unknown>) => {
        if (!task.folder) return;
        const finalDir = join(options.dir, task.folder);
        mkdirSync(dirname(finalDir), { recursive: true });
        const tmp = join(dirname(finalDir), `.${basename(finalDir)}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 10)}`);
        mkdirSync(tmp);
        try {
          const all = new Map(files).set("run.json", Buffer.from(`${JSON.stringify(record, null, 2)}\n`, "utf8"));
          await Promise.all(
            [...all].map(async ([name, bytes]) => {
              const fh = await open(join(tmp, name), "w");
              try {
                await fh.writeFile(bytes);
                await fh.sync();
              } finally {
                await fh.close();
              }
            }),
          );
          fsyncDir(tmp);
          rmSync(finalDir, { recursive: true, force: true });
          renameSync(tmp, finalDir);
          fsyncDir(dirname(finalDir));
        } catch (e) {
          rmSync(tmp, { recursive: true, force: true });
          throw e;
        }
      };
      const collect = async (jobId: string, completed: boolean): Promise<void> => {
        if (handled.has(jobId) || !byJob.has(jobId)) return;
        // A completed event: the result is there (one read); otherwise ask the job first.
        let raw = completed ? ((await connection.hgetallBuffer(resultKey(queueName, jobId))) as Record<string, Buffer>) : null;
        const fast = raw !== null && raw.meta !== undefined;
        const job = fast ? null : await queue.getJob(jobId);
        if ((!fast && !job) || handled.has(jobId)) return;
        const state = fast ? "completed" : await (job as NonNullable<typeof job>).getState();
        if (state === "completed") {
          raw ??= (await connection.hgetallBuffer(resultKey(queueName, jobId))) as Record<string, Buffer>;
          const metaBytes = toBuffer(raw.meta);
          if (metaBytes === null) {
            // Collected by another coordinator, or lost: run it again, once.
            if (reAdded.has(jobId)) {
              finish(jobId, (task) => ({ id: task.id, status: "crashed", message: `${prefix}error: the run's result is missing from Redis (job ${jobId})`, code: null, seconds: 0, result: null }));
              return;
            }
            reAdded = new Set([...reAdded, jobId]);
            await job?.remove().catch(() => {});
            const entry = jobs.find((j) => j.jobId === jobId);
            if (entry) await queue.add("run", entry.data, { jobId, attempts, backoff: { type: "exponential", delay: backoffMs }, removeOnComplete: KEEP_COMPLETED, removeOnFail: false });
            return;
          }
          const meta = JSON.parse(metaBytes.toString("utf8")) as QueueRunMeta;
          const files = new Map<string, Buffer>();
          for (const [field, bytes] of Object.entries(raw)) if (field.startsWith("file:")) files.set(field.slice(5), bytes);
          const queueInfo = { worker: meta.worker, attempts: meta.attempt, endedAt: meta.endedAt };
          if (meta.status === "invalid") {
            finish(jobId, (task) => ({ id: task.id, status: "invalid", message: meta.message, code: meta.code, seconds: meta.seconds, result: null }));
          } else {
            const result = resultFromFiles(meta, files);
            const outcomes = new Map<number, ExecutedRun>();
            for (const i of byJob.get(jobId) ?? []) {
              const task = tasks[i] as RunTask;
              const run: ExecutedRun = { id: task.id, status: meta.status, message: meta.message, code: null, seconds: meta.seconds, result };
              await writeFolder(task, files, { ...runRecordJson(task, run, EXIT_CODES[meta.status] ?? null, null, meta.message), queue: queueInfo });
              outcomes.set(i, run);
            }
            workerDone[meta.worker] = (workerDone[meta.worker] ?? 0) + 1;
            finishedNow++;
            finish(jobId, (task) => outcomes.get(tasks.indexOf(task)) as ExecutedRun);
          }
          // Kept a while for another coordinator of the same runs; the job itself stays (completed) as their record.
          if (keepResults > 0) await connection.expire(resultKey(queueName, jobId), keepResults);
          else await connection.del(resultKey(queueName, jobId));
        } else if (state === "failed" && job) {
          const reason = job.failedReason ?? "the run failed";
          const m = /^\[([A-Z0-9_]+)\] ([\s\S]*)$/.exec(reason);
          const message = `${prefix}error${m ? ` [${m[1]}]` : ""}: ${m ? m[2] : reason}`;
          const worker = job.processedBy ?? "?";
          const outcomes = new Map<number, ExecutedRun>();
          for (const i of byJob.get(jobId) ?? []) {
            const task = tasks[i] as RunTask;
            const run: ExecutedRun = { id: task.id, status: "crashed", message, code: m?.[1] ?? null, seconds: 0, result: null };
            const log = `${message}\n(${job.attemptsMade} attempt(s) through queue ${queueName}; the last on worker ${worker})\n`;
            await writeFolder(task, new Map([["train.log", Buffer.from(log, "utf8")]]), { ...runRecordJson(task, run, 1, null, message), queue: { worker, attempts: job.attemptsMade, endedAt: job.finishedOn ?? null } });
            outcomes.set(i, run);
          }
          workerDone[worker] = (workerDone[worker] ?? 0) + 1;
          finishedNow++;
          finish(jobId, (task) => outcomes.get(tasks.indexOf(task)) as ExecutedRun);
          await job.remove().catch(() => {});
        } else if (state === "active") markStarted(jobId, running.get(jobId) ?? job?.processedBy ?? null);
      };
      // One collection per job at a time; errors (Redis gone for a moment) are retried by the reconciler.
      const collectOnce = (jobId: string, completed = false) => {
        if (busy.has(jobId) || handled.has(jobId)) return;
        const p = collect(jobId, completed)
          .catch(() => {})
          .finally(() => busy.delete(jobId));
        busy.set(jobId, p);
      };
      events.on("completed", ({ jobId }) => collectOnce(jobId, true));
      events.on("failed", ({ jobId }) => collectOnce(jobId));
      events.on("progress", ({ jobId, data }) => {
        if (!byJob.has(jobId)) return;
        const worker = typeof (data as { worker?: unknown })?.worker === "string" ? (data as { worker: string }).worker : "?";
        markStarted(jobId, worker);
      });
      events.on("active", ({ jobId }) => {
        if (byJob.has(jobId)) markStarted(jobId, running.get(jobId) ?? "?");
      });
      events.on("error", () => {});
      let progressTimer: NodeJS.Timeout | null = null;
      let reconcileTimer: NodeJS.Timeout | null = null;
      const onAbort = () => wake();
      opts.signal?.addEventListener("abort", onAbort, { once: true });
      try {
        await events.waitUntilReady();
        const unique = [...new Map(jobs.map((j) => [j.jobId, j])).values()];
        for (let k = 0; k < unique.length; k += 500) {
          await queue.addBulk(
            unique.slice(k, k + 500).map((j) => ({
              name: "run",
              data: j.data,
              opts: { jobId: j.jobId, attempts, backoff: { type: "exponential", delay: backoffMs }, removeOnComplete: KEEP_COMPLETED, removeOnFail: false },
            })),
          );
        }
        // Jobs that failed for good in an earlier coordinator are tried again, as a local rerun retries crashed runs.
        for (const j of unique) {
          const state = await queue.getJobState(j.jobId);
          if (state === "failed") {
            const job = await queue.getJob(j.jobId);
            await job?.retry("failed").catch(() => {});
          } else if (state === "completed") collectOnce(j.jobId);
          else if (state === "active") markStarted(j.jobId, null);
        }
        const reconcile = async () => {
          for (const jobId of byJob.keys()) {
            if (handled.has(jobId) || busy.has(jobId) || opts.signal?.aborted) continue;
            const state = await queue.getJobState(jobId).catch(() => "unknown");
            if (state === "completed" || state === "failed") collectOnce(jobId);
            else if (state === "unknown") {
              // Gone (removed by hand, or Redis lost it): put it back.
              const entry = jobs.find((j) => j.jobId === jobId);
              if (entry) await queue.add("run", entry.data, { jobId, attempts, backoff: { type: "exponential", delay: backoffMs }, removeOnComplete: KEEP_COMPLETED, removeOnFail: false }).catch(() => {});
            }
          }
        };
        let reconciling = false;
        reconcileTimer = setInterval(() => {
          if (reconciling) return;
          reconciling = true;
          reconcile().finally(() => {
            reconciling = false;
          });
        }, options.reconcileIntervalMs ?? 3000);
        if (options.onProgress) {
          const report = options.onProgress;
          progressTimer = setInterval(() => report(progress()), options.progressIntervalMs ?? 2000);
        }
        while (handled.size < byJob.size && !opts.signal?.aborted) {
          await new Promise<void>((r) => {
            wake = r;
          });
        }
        await Promise.all(busy.values());
        options.onProgress?.(progress());
      } finally {
        opts.signal?.removeEventListener("abort", onAbort);
        if (progressTimer) clearInterval(progressTimer);
        if (reconcileTimer) clearInterval(reconcileTimer);
        await events.close().catch(() => {});
        await queue.close().catch(() => {});
        eventsConnection.disconnect();
        connection.disconnect();
      }
      for (let i = 0; i < tasks.length; i++) {
        if (results[i] === undefined) {
          const task = tasks[i] as RunTask;
          results[i] = { id: task.id, status: "cancelled", message: null, code: null, seconds: 0, result: null };
        }
      }
      return results;
    },
  };
}

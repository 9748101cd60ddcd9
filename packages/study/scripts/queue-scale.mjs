#!/usr/bin/env node
// The queue at scale: a study of RUNS tiny runs (784-16-10, 100 training and 100 test digits,
// 1 epoch, t1 30 / t2 8 as in the quick preset) through a BullMQ queue on a redis-server of
// its own, with W `hts worker` processes (one run at a time each) on this machine, for every
// W of --workers. Per W: runs per second (from the first enqueue to the last result in the
// study folder), the queue's overhead per run (median and 99th percentile of the time between
// a run's end on a worker and its run folder in place), the coordinator's peak RSS and
// Redis's peak memory (INFO memory), and a check that every run was recorded once.
//
//   node packages/study/scripts/queue-scale.mjs [--runs 1000] [--workers 1,2,4] [--keep-results S] [--json FILE]
//
// --keep-results: how long the coordinator leaves a collected run's files in Redis
// (keepResultsSeconds; default 300 as hts study does, 0: deleted at once).
//
// Needs redis-server on the PATH and a build (npx -y pnpm@12.4.2 build).
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { cpus, loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { createQueueExecutor, DEFAULT_QUEUE_NAME, PRESETS, runStudy } from "../dist/node.js";

const here = dirname(fileURLToPath(import.meta.url));
const CLI = join(here, "..", "..", "..", "apps", "cli", "dist", "main.js");
const { values } = parseArgs({ options: { runs: { type: "string", default: "1000" }, workers: { type: "string", default: "1,2,4" }, "keep-results": { type: "string", default: "300" }, json: { type: "string" } } });
const runs = Number(values.runs);
const workerCounts = values.workers.split(",").map(Number);
const keepResultsSeconds = Number(values["keep-results"]);
if (!Number.isSafeInteger(runs) || runs < 1 || workerCounts.some((w) => !Number.isSafeInteger(w) || w < 1)) {
  console.error(`usage: queue-scale.mjs --runs N --workers 1,2,4 (got --runs ${values.runs} --workers ${values.workers})`);
  process.exit(2);
}

const port = await new Promise((r) => {
  const s = createServer();
  s.listen(0, "127.0.0.1", () => {
    const p = s.address().port;
    s.close(() => r(p));
  });
});
const root = mkdtempSync(join(tmpdir(), "hts-queue-scale-"));
const redisProc = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--dir", root, "--save", "", "--appendonly", "no"], { stdio: ["ignore", "pipe", "inherit"] });
await new Promise((resolveReady, reject) => {
  let out = "";
  redisProc.stdout.setEncoding("utf8").on("data", (s) => {
    out += s;
    if (out.includes("Ready to accept connections")) resolveReady();
  });
  redisProc.once("exit", (code) => reject(new Error(`redis-server exited with ${code}: ${out}`)));
});
const url = `redis://127.0.0.1:${port}`;
const admin = new Redis(url, { maxRetriesPerRequest: null });
const queue = new Queue(DEFAULT_QUEUE_NAME, { connection: admin });

const def = {
  ...PRESETS.quick,
  dists: ["constant"],
  seeds: Array.from({ length: runs }, (_, i) => i),
  epochs: 1,
  trainSize: 100,
  testSize: 100,
  set: { ...PRESETS.quick.set, arch: "784,16,10" },
};

const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
const redisMemory = async () => {
  const info = await admin.info("memory");
  const field = (name) => Number(new RegExp(`^${name}:(\\d+)`, "m").exec(info)?.[1] ?? Number.NaN);
  return { used: field("used_memory"), peak: field("used_memory_peak"), rss: field("used_memory_rss") };
};
const mib = (b) => (b / 2 ** 20).toFixed(1);

const results = [];
for (const w of workerCounts) {
  await queue.obliterate({ force: true });
  await admin.config("RESETSTAT");
  await admin.call("MEMORY", "PURGE").catch(() => {});
  const dir = join(root, `study-w${w}`);
  const workers = Array.from({ length: w }, (_, i) =>
    spawn(process.execPath, [CLI, "worker", "--queue", url, "--name", `w${i + 1}`, "--jobs", "1"], { stdio: ["ignore", "ignore", "pipe"] }),
  );
  const workerLogs = workers.map(() => "");
  workers.forEach((p, i) => p.stderr.setEncoding("utf8").on("data", (s) => (workerLogs[i] += s)));
  const recordedAt = new Map();
  const ends = new Map();
  let rssPeak = process.memoryUsage().rss;
  const sampler = setInterval(() => {
    rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
  }, 200);
  let redisPeak = 0;
  const redisSampler = setInterval(() => {
    redisMemory()
      .then((m) => {
        redisPeak = Math.max(redisPeak, m.rss);
      })
      .catch(() => {});
  }, 1000);
  const loadBefore = loadavg()[0];
  const started = performance.now();
  const outcome = await runStudy(def, {
    dir,
    executor: createQueueExecutor({ url, dir, messagePrefix: "hts train: ", keepResultsSeconds }),
    messagePrefix: "hts train: ",
    onEvent: (id, e) => {
      if (e.kind !== "end") return;
      recordedAt.set(id, Date.now());
      ends.set(id, (ends.get(id) ?? 0) + 1);
    },
  });
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  clearInterval(redisSampler);
  const mem = await redisMemory();
  for (const p of workers) p.kill("SIGINT");
  await Promise.all(workers.map((p) => new Promise((r) => p.once("exit", r))));
  // Every run recorded once: one run folder with run.json per run, one end per run, each run taken once.
  let folders = 0;
  const overhead = [];
  for (const seed of def.seeds) {
    const runDir = join(dir, "runs", "constant", `seed-${seed}`);
    const rec = JSON.parse(readFileSync(join(runDir, "run.json"), "utf8"));
    folders++;
    overhead.push(recordedAt.get(`constant/seed-${seed}`) - rec.queue.endedAt);
  }
  const taken = new Map();
  for (const log of workerLogs) for (const m of log.matchAll(/took (run-[0-9a-f]+)/g)) taken.set(m[1], (taken.get(m[1]) ?? 0) + 1);
  const once = folders === runs && ends.size === runs && [...ends.values()].every((n) => n === 1) && taken.size === runs && [...taken.values()].every((n) => n === 1);
  overhead.sort((a, b) => a - b);
  const strays = readdirSync(join(dir, "runs", "constant")).filter((e) => e.startsWith(".")).length;
  const row = {
    workers: w,
    runs,
    status: outcome.status,
    seconds,
    runsPerSecond: runs / seconds,
    overheadMedianMs: quantile(overhead, 0.5),
    overheadP99Ms: quantile(overhead, 0.99),
    coordinatorRssPeakMiB: Number(mib(rssPeak)),
    redisUsedPeakMiB: Number(mib(mem.peak)),
    redisRssPeakMiB: Number(mib(Math.max(redisPeak, mem.rss))),
    recordedOnce: once && strays === 0,
    // The machine's 1-minute load average before and after (other users' work included).
    load: [Number(loadBefore.toFixed(1)), Number(loadavg()[0].toFixed(1))],
  };
  results.push(row);
  console.error(JSON.stringify(row));
  rmSync(dir, { recursive: true, force: true });
}
await queue.obliterate({ force: true });
await queue.close();
admin.disconnect();
redisProc.kill("SIGTERM");
rmSync(root, { recursive: true, force: true });

console.log(`${runs} runs of 784-16-10, 100 training digits, 1 epoch; results kept ${keepResultsSeconds} s; ${cpus().length} cores (${cpus()[0]?.model ?? "?"}), Node ${process.version}\n`);
console.log("| workers | runs | wall s | runs/s | overhead median ms | overhead p99 ms | coordinator RSS peak MiB | Redis used_memory_peak MiB | Redis RSS peak MiB | every run recorded once | load before, after |");
console.log("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
for (const r of results) {
  console.log(
    `| ${r.workers} | ${r.runs} | ${r.seconds.toFixed(1)} | ${r.runsPerSecond.toFixed(2)} | ${r.overheadMedianMs} | ${r.overheadP99Ms} | ${r.coordinatorRssPeakMiB} | ${r.redisUsedPeakMiB} | ${r.redisRssPeakMiB} | ${r.recordedOnce ? "yes" : "NO"} | ${r.load.join(", ")} |`,
  );
}
if (values.json) writeFileSync(values.json, `${JSON.stringify(results, null, 2)}\n`);
process.exit(results.every((r) => r.recordedOnce && r.status === "ok") ? 0 : 1);

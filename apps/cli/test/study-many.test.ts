/**
 * `hts study` on many machines: `--shard I/N` (every share of a grid as its own process, all
 * at once, in one folder, through the script of `--sbatch`), the summary of a sharded
 * folder, bad `--shard` values; `--queue` with `hts worker` processes on a real
 * redis-server (skipped with the reason without one, failing under CI).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CI, redisMissing, startRedis, type TestRedis } from "../../../packages/study/test/redis-server.js";
import { hts, tempDir } from "./helpers.js";
import { MAIN, requireBuild } from "./study-helpers.js";

beforeAll(requireBuild);

const GRID = ["--dists", "constant,lognormal", "--seeds", "0..2", "--epochs", "1", "--train-size", "100", "--test-size", "100", "--set", "arch=784,16,10", "--set", "t1=15", "--set", "t2=5", "--set", "backend=cpu"];

/** summary.json rows without the time per run. */
function rows(dir: string): unknown[] {
  const summary = JSON.parse(readFileSync(join(dir, "summary.json"), "utf8")) as { rows: Record<string, unknown>[] };
  return summary.rows.map(({ secondsMean: _m, secondsTotal: _t, ...r }) => r);
}

function run(cmd: string, args: readonly string[], env: Record<string, string> = {}): { proc: ChildProcess; done: Promise<{ code: number | null; out: string }> } {
  const proc = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } });
  let out = "";
  proc.stdout?.setEncoding("utf8").on("data", (s: string) => {
    out += s;
  });
  proc.stderr?.setEncoding("utf8").on("data", (s: string) => {
    out += s;
  });
  return { proc, done: new Promise((r) => proc.once("exit", (code) => r({ code, out }))) };
}

describe("hts study --shard and --sbatch", () => {
  it("refuses bad --shard values with a message naming the option", async () => {
    for (const bad of ["0/3", "4/3", "x/y", "1/0", "2", "-1/3"]) {
      const r = await hts("study", "--preset", "quick", "--shard", bad, "--out", join(tempDir(), "s"));
      expect(r.code, bad).toBe(2);
      expect(r.stderr, bad).toContain(`hts study: --shard: expected I/N with integers 1 <= I <= N, e.g. 2/8, got ${JSON.stringify(bad)}`);
    }
    const both = await hts("study", "--preset", "quick", "--shard", "1/2", "--queue", "redis://127.0.0.1:6379");
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/--shard: not with --queue/);
  });

  it("every share of the Slurm array script at once, then one summary: the rows of an unsharded study", async () => {
    const root = tempDir("hts-shards-");
    const sharded = join(root, "sharded");
    const script = join(root, "study.sbatch");
    const w = await hts("study", ...GRID, "--out", sharded, "--sbatch", script);
    expect(w.code, w.stderr).toBe(0);
    const text = readFileSync(script, "utf8");
    expect(statSync(script).mode & 0o111).not.toBe(0);
    expect(text).toMatch(/^#SBATCH --array=1-6$/m);
    expect(text).toContain('--shard "$share/$SLURM_ARRAY_TASK_COUNT"');
    // Six array tasks as Slurm would start them, all at once, into one folder.
    const tasks = Array.from({ length: 6 }, (_, i) => run("bash", [script], { SLURM_ARRAY_TASK_ID: String(i + 1), SLURM_ARRAY_TASK_COUNT: "6", SLURM_ARRAY_TASK_MIN: "1", SLURM_CPUS_PER_TASK: "1", HTS: `${process.execPath} ${MAIN}` }));
    const results = await Promise.all(tasks.map((t) => t.done));
    for (const [i, r] of results.entries()) {
      expect(r.code, r.out).toBe(0);
      expect(r.out).toContain(`shard ${i + 1}/6: 1 run(s)`);
    }
    expect(existsSync(join(sharded, "summary.json"))).toBe(false);
    // Without --shard, a folder whose shares are all finished is only summarised.
    const summary = await hts("study", ...GRID, "--out", sharded, "--json");
    expect(summary.code, summary.stderr).toBe(0);
    expect(JSON.parse(summary.stdout)).toMatchObject({ status: "ok", runs: 6, ranNow: 0, skipped: 6 });
    const whole = join(root, "whole");
    const unsharded = await hts("study", ...GRID, "--out", whole, "--jobs", "2");
    expect(unsharded.code, unsharded.stderr).toBe(0);
    expect(rows(sharded)).toEqual(rows(whole));
    // The split: run k of the plan in share k mod N + 1, each share's runs in its own process.
    const shares = results.map((r) => /\[1\/1\] (\S+ seed \d+)/.exec(r.out)?.[1]);
    expect(shares).toEqual(["constant seed 0", "lognormal seed 0", "constant seed 1", "lognormal seed 1", "constant seed 2", "lognormal seed 2"]);
  }, 240_000);

  it("a share that runs again skips its finished runs; a share cannot --reconfigure", async () => {
    const dir = join(tempDir(), "s");
    const first = await hts("study", ...GRID, "--out", dir, "--shard", "2/3", "--json");
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ shard: "2/3", runs: 2, ranNow: 2, skipped: 0 });
    const again = await hts("study", ...GRID, "--out", dir, "--shard", "2/3", "--json");
    expect(JSON.parse(again.stdout)).toMatchObject({ shard: "2/3", runs: 2, ranNow: 0, skipped: 2 });
    const re = await hts("study", ...GRID, "--out", dir, "--shard", "1/3", "--reconfigure");
    expect(re.code).toBe(2);
    expect(re.stderr).toMatch(/reconfigure: a shard cannot reconfigure the study/);
  }, 120_000);
});

const missing = redisMissing();
if (missing !== null && CI) throw new Error(`hts study --queue tests: ${missing}`);
if (missing !== null) console.warn(`hts study --queue tests: skipped, ${missing}`);

describe.skipIf(missing !== null)("hts study --queue with hts worker", () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.dispose();
  });

  it("two workers run the grid; the coordinator writes the folder of a local study, with progress on stderr", async () => {
    const root = tempDir("hts-queue-cli-");
    const grid = [...GRID, "--seeds", "10,11"];
    const workers = ["w1", "w2"].map((name) => run(process.execPath, [MAIN, "worker", "--queue", redis.url, "--name", name, "--exit-when-idle"]));
    const coordinator = await hts("study", ...grid, "--out", join(root, "q"), "--queue", redis.url, "--json");
    expect(coordinator.code, coordinator.stderr).toBe(0);
    expect(coordinator.stderr).toMatch(/hts study: queue: 4\/4 done, 0 running, 0 failed; workers: .*w[12]/);
    expect(JSON.parse(coordinator.stdout)).toMatchObject({ status: "ok", runs: 4, ranNow: 4 });
    const ended = await Promise.all(workers.map((w) => w.done));
    for (const r of ended) {
      expect(r.code, r.out).toBe(0);
      expect(r.out).toMatch(/hts worker: stopped after \d+ run\(s\)/);
    }
    const local = await hts("study", ...grid, "--out", join(root, "l"), "--jobs", "2");
    expect(local.code, local.stderr).toBe(0);
    expect(rows(join(root, "q"))).toEqual(rows(join(root, "l")));
  }, 120_000);

  it("hts worker refuses a bad --queue and a missing one", async () => {
    expect((await hts("worker")).stderr).toMatch(/hts worker: --queue: required/);
    const bad = await hts("worker", "--queue", "http://127.0.0.1:6379");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/hts worker: --queue: expected redis:\/\/\[:password@\]HOST:PORT\[\/DB\] or rediss:\/\/\.\.\. \(TLS\), got "http:\/\/127.0.0.1:6379" \(scheme http\)/);
    expect((await hts("worker", "--queue", redis.url, "--jobs", "0")).stderr).toMatch(/--jobs: expected an integer in \[1, 1024\], got "0"/);
  });
});

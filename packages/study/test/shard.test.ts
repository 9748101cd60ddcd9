import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { checkQueueUrl, PRESETS, parseShard, planStudy, QUEUE_JOB_FORMAT, type QueueJobData, type RunSpec, runJobId, sbatchScript, shareOf, StudyError } from "../src/node.js";

const refusal = (f: () => unknown): StudyError => {
  try {
    f();
  } catch (e) {
    if (e instanceof StudyError) return e;
    throw e;
  }
  throw new Error("expected a StudyError");
};

describe("parseShard and shareOf", () => {
  it("reads I/N and refuses anything else, naming the parameter", () => {
    expect(parseShard("2/8")).toEqual({ index: 2, count: 8 });
    expect(parseShard(" 1 / 1 ")).toEqual({ index: 1, count: 1 });
    for (const bad of ["0/3", "4/3", "x/y", "1/0", "1", "1/2/3", "-1/2", "1.5/3", ""]) {
      const e = refusal(() => parseShard(bad, "--shard"));
      expect(e.parameter, bad).toBe("--shard");
      expect(e.message, bad).toMatch(new RegExp(`^--shard: expected I/N with integers 1 <= I <= N, e.g. 2/8, got ${JSON.stringify(JSON.stringify(bad)).slice(1, -1)}`));
    }
    expect(refusal(() => parseShard("4/3")).message).toMatch(/I must be between 1 and 3/);
    expect(refusal(() => parseShard("1/0")).message).toMatch(/N must be at least 1/);
  });

  it("splits a plan into N disjoint shares that cover it, run k in share k mod N + 1", () => {
    const plan = planStudy({ ...PRESETS.quick, seeds: [0, 1, 2, 3] });
    for (const count of [1, 2, 5, 12, 20]) {
      const shares = Array.from({ length: count }, (_, i) => shareOf(plan, { index: i + 1, count }));
      expect(shares.flat().map((p) => p.id).sort()).toEqual(plan.map((p) => p.id).sort());
      expect(Math.max(...shares.map((s) => s.length)) - Math.min(...shares.map((s) => s.length))).toBeLessThanOrEqual(1);
    }
    expect(shareOf(plan, { index: 2, count: 5 }).map((p) => plan.indexOf(p))).toEqual([1, 6, 11]);
  });
});

describe("sbatchScript", () => {
  const script = sbatchScript({ hts: "node /opt/hts/main.js", args: ["--preset", "quick", "--set", "lr=0.1,0.05", "--vary", "t1=10|20", "--out", "/shared/it's here"], tasks: 6, name: "hts-study-x", jobsFromSlurm: true });

  it("is an array job of one task per share, quoting the arguments for the shell", () => {
    expect(script).toMatch(/^#!\/bin\/bash\n/);
    expect(script).toMatch(/^#SBATCH --array=1-6$/m);
    expect(script).toMatch(/^#SBATCH --job-name=hts-study-x$/m);
    expect(script).toContain(`exec $HTS study --preset quick --set lr=0.1,0.05 --vary 't1=10|20' --out '/shared/it'\\''s here' --jobs "\${SLURM_CPUS_PER_TASK:-1}" --shard "$share/$SLURM_ARRAY_TASK_COUNT"`);
    expect(spawnSync("bash", ["-n"], { input: script }).status).toBe(0);
  });

  it("gives task I the share I of N, also for an array that starts at 0", () => {
    // Run the script with an HTS that prints its arguments instead of running a study.
    const run = (env: Record<string, string>) => spawnSync("bash", ["-c", script], { encoding: "utf8", env: { ...process.env, HTS: "printf %s\\n", ...env } }).stdout.trim().split("\n");
    const a = run({ SLURM_ARRAY_TASK_ID: "3", SLURM_ARRAY_TASK_COUNT: "6", SLURM_ARRAY_TASK_MIN: "1", SLURM_CPUS_PER_TASK: "4" });
    expect(a.slice(-4)).toEqual(["--jobs", "4", "--shard", "3/6"]);
    expect(a).toContain("/shared/it's here");
    expect(a).toContain("t1=10|20");
    const b = run({ SLURM_ARRAY_TASK_ID: "0", SLURM_ARRAY_TASK_COUNT: "6", SLURM_ARRAY_TASK_MIN: "0" });
    expect(b.slice(-4)).toEqual(["--jobs", "1", "--shard", "1/6"]);
  });
});

describe("queue identities and addresses", () => {
  const plan = planStudy({ ...PRESETS.quick, seeds: [0, 1] });
  const data = (i: number, spec = plan[i]?.spec): QueueJobData => ({ format: QUEUE_JOB_FORMAT, task: { id: plan[i]?.id as string, spec: spec as never }, weights: true, prefix: "hts train: " });

  it("a run's job id depends on its whole spec, not on where it comes from", () => {
    expect(runJobId(data(0))).toBe(runJobId(data(0)));
    expect(runJobId(data(0))).toMatch(/^run-[0-9a-f]{40}$/);
    expect(new Set(plan.map((_, i) => runJobId(data(i)))).size).toBe(plan.length);
    expect(runJobId({ ...data(0), task: { ...data(0).task, id: "elsewhere/seed-0" } })).toBe(runJobId(data(0)));
    expect(runJobId(data(0, { ...(plan[0]?.spec as RunSpec), t1: 31 }))).not.toBe(runJobId(data(0)));
    expect(runJobId({ ...data(0), weights: false })).not.toBe(runJobId(data(0)));
  });

  it("checks Redis addresses, naming the parameter", () => {
    for (const ok of ["redis://127.0.0.1:6379", "redis://:pw@host:6380/2", "rediss://host:6380", "redis://host"]) expect(checkQueueUrl(ok).hostname).not.toBe("");
    for (const [bad, why] of [
      ["http://host:6379", "scheme http"],
      ["redis://host:6379/x", 'database "x"'],
      ["host:6379", "scheme host"],
      ["not a url", ""],
    ] as const) {
      const e = refusal(() => checkQueueUrl(bad, "--queue"));
      expect(e.parameter).toBe("--queue");
      expect(e.message).toContain(`--queue: expected redis://[:password@]HOST:PORT[/DB] or rediss://... (TLS), got ${JSON.stringify(bad)}`);
      expect(e.message).toContain(why);
    }
  });
});

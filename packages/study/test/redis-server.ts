import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** True when CI is set (a missing oracle then fails instead of skipping). */
export const CI = process.env.CI !== undefined && process.env.CI !== "" && process.env.CI !== "false" && process.env.CI !== "0";

/** Why redis-server cannot be used here, or null when it can. */
export function redisMissing(): string | null {
  const r = spawnSync("redis-server", ["--version"], { encoding: "utf8" });
  if (r.error || r.status !== 0) return `redis-server is not installed (apt-get install -y redis-server): ${r.error?.message ?? r.stderr}`;
  return null;
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolvePort(port));
    });
  });
}

/** A redis-server of a test: on a free port of 127.0.0.1, with its own folder. */
export interface TestRedis {
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  /** Stops it: SIGTERM (a clean shutdown) or SIGKILL (a crash). */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same port and folder (with AOF: from its append-only file). */
  start(): Promise<void>;
  /** Stops it and removes its folder. */
  dispose(): Promise<void>;
}

/** Starts redis-server; `aof`: persistence with the append-only file, fsync on every write. */
export async function startRedis(options: { readonly aof?: boolean } = {}): Promise<TestRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "hts-redis-"));
  let proc: ChildProcess | null = null;
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "", "--daemonize", "no", "--protected-mode", "yes"];
  if (options.aof) args.push("--appendonly", "yes", "--appendfsync", "always");
  else args.push("--appendonly", "no");
  const start = () =>
    new Promise<void>((resolveStart, reject) => {
      const p = spawn("redis-server", args, { stdio: ["ignore", "pipe", "pipe"] });
      proc = p;
      let out = "";
      const timer = setTimeout(() => reject(new Error(`redis-server did not start on port ${port}: ${out}`)), 20_000);
      p.stdout?.setEncoding("utf8").on("data", (s: string) => {
        out += s;
        if (/Ready to accept connections/.test(out)) {
          clearTimeout(timer);
          resolveStart();
        }
      });
      p.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited with ${code}: ${out}`));
      });
    });
  const stop = (signal: NodeJS.Signals = "SIGTERM") =>
    new Promise<void>((resolveStop) => {
      const p = proc as ChildProcess | null;
      if (!p || p.exitCode !== null || p.signalCode !== null) return resolveStop();
      p.once("exit", () => resolveStop());
      p.kill(signal);
    });
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    stop,
    start,
    dispose: async () => {
      await stop("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

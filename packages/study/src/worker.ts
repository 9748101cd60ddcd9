/**
 * The child process of the local executor: receives one task, runs it with
 * `trainToFolder`, reports log lines, epochs and the outcome over IPC, and exits with 0
 * (ok), 3 (diverged), 2 (a setting refused) or 1 (crashed).
 *
 * @internal
 * @packageDocumentation
 */
import { completedRun, failedRun, type RunTask } from "./executor.js";
import { endLine, trainToFolder } from "./node.js";

/** @internal The message the local executor sends. */
export interface WorkerRequest {
  readonly task: RunTask;
  readonly out: string | null;
  readonly resolveFrom?: string;
  readonly prefix: string;
}

const send = (msg: unknown): Promise<void> =>
  new Promise((resolveSend) => {
    if (!process.send) return resolveSend();
    process.send(msg, undefined, {}, () => resolveSend());
  });

// A study that was killed leaves nobody to report to: stop at once.
process.once("disconnect", () => process.exit(1));

process.once("message", async (msg: WorkerRequest) => {
  const started = Date.now();
  const log = (line: string, level: "info" | "error") => void send({ type: "log", line, level });
  let code = 1;
  try {
    const result = await trainToFolder({
      task: msg.task,
      dir: msg.out,
      ...(msg.resolveFrom !== undefined ? { resolveFrom: msg.resolveFrom } : {}),
      onLog: log,
      onEpoch: (record) => void send({ type: "epoch", record }),
    });
    const seconds = (Date.now() - started) / 1000;
    const end = endLine(result, seconds, msg.out, msg.prefix);
    log(end.line, end.level);
    await send({ type: "done", run: completedRun(msg.task.id, result, seconds) });
    code = result.status === "ok" ? 0 : 3;
  } catch (e) {
    const run = failedRun(msg.task.id, e, (Date.now() - started) / 1000);
    if (process.env.HTS_DEBUG) process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
    await send({ type: "done", run });
    code = run.status === "invalid" ? 2 : 1;
  }
  process.exit(code);
});

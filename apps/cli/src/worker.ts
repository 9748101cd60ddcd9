import { checkQueueUrl, createQueueWorker, StudyError } from "@hts/study/node";
import { formatHelp, int, type OptionTable, parseCommand, str } from "./args.js";
import type { Io } from "./io.js";
import { extractRepeated } from "./study.js";
import { UsageError } from "./usage-error.js";

const WORKER_OPTIONS: OptionTable = {
  queue: { type: "string", value: "URL", help: "The Redis of the study's queue: redis://[:password@]HOST:PORT[/DB], or rediss://... for TLS. Required." },
  jobs: { type: "string", value: "N", help: "Runs at a time, each in its own process.", default: "1" },
  name: { type: "string", value: "NAME", help: "This worker's name in the coordinator's progress and in each run's run.json. [default: <hostname>-<pid>]" },
  "allow-import": {
    type: "string",
    value: "MODULE",
    help: "Let runs import MODULE (a spec's imports: a package or file that registers a distribution, energy or backend); a run naming any other module is refused. Repeatable.",
  },
  "exit-when-idle": { type: "boolean", help: "Stop once the queue has no waiting, delayed or running job (for batch jobs); otherwise wait for more." },
};

const SUMMARY = `Run the training runs of hts study --queue, from any machine that reaches the Redis: --jobs
at a time, each in its own process. Every job is checked against the run schema before it
runs (no commands or code come from the queue: a run's imports only with --allow-import;
data sets such as idx:DIR are read from this machine's files), and the run's files
(config.json, metrics.jsonl, train.log, the weights) go back through Redis to the
coordinator. A run that crashes is retried (3 tries in all, with backoff), maybe elsewhere;
a worker that dies leaves its runs to the others (they go back on the queue within about a minute).
Ctrl-C stops taking runs and lets the running ones finish; a second Ctrl-C puts them back
on the queue at once.`;

const FOOTER = "Exit codes: 0 stopped (idle with --exit-when-idle, or after Ctrl-C), 1 an error, 2 a bad command line, 130 stopped by a second Ctrl-C.\n";

/** `hts worker`. */
export async function workerCommand(argv: readonly string[], io: Io): Promise<number> {
  const allow = extractRepeated(argv, "allow-import");
  const a = parseCommand("worker", allow.rest, WORKER_OPTIONS);
  if (a.help) {
    io.out(formatHelp("worker", SUMMARY, WORKER_OPTIONS, FOOTER));
    return 0;
  }
  const url = str(a, "queue");
  if (url === undefined) throw new UsageError("queue", "--queue: required: the Redis of the study's queue, e.g. --queue redis://HOST:6379 (see hts worker --help)");
  try {
    checkQueueUrl(url, "--queue");
  } catch (e) {
    if (e instanceof StudyError) throw new UsageError("queue", `--queue: ${e.message.replace(/^--queue: /, "")}`);
    throw e;
  }
  const jobs = int(a, "jobs", 1, 1024) ?? 1;
  for (const m of allow.values) if (m.trim() === "") throw new UsageError("allow-import", '--allow-import: expected a module specifier, got ""');
  const name = str(a, "name");
  // Signals are handled from the start: a run may be taken before the worker is returned.
  let worker: Awaited<ReturnType<typeof createQueueWorker>> | null = null;
  let signals = 0;
  let handled = 0;
  let abandoned = false;
  const act = () => {
    if (!worker) return;
    while (handled < signals) {
      handled++;
      if (handled === 1) {
        io.err(`hts worker: stopping: no new runs; ${worker.running()} running run(s) finish first (Ctrl-C again to put them back on the queue)\n`);
        void worker.drain();
      } else if (!abandoned) {
        abandoned = true;
        io.err(`hts worker: putting ${worker.running()} running run(s) back on the queue\n`);
        void worker.abandon();
      }
    }
  };
  const onSignal = () => {
    signals++;
    act();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    worker = await createQueueWorker({
      url,
      jobs,
      ...(name !== undefined ? { name } : {}),
      allowImports: allow.values,
      exitWhenIdle: a["exit-when-idle"] as boolean,
      resolveFrom: import.meta.dirname,
      onLog: (line) => io.err(`hts worker: ${line}`),
    });
    act();
    await worker.stopped;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
  io.err(`hts worker: stopped after ${worker.finished()} run(s)\n`);
  return abandoned ? 130 : 0;
}

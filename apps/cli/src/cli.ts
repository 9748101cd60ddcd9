import { checkGradientCommand } from "./check-gradient.js";
import { evalCommand } from "./eval.js";
import type { Io } from "./io.js";
import { sampleCommand } from "./sample.js";
import { studyCommand } from "./study.js";
import { trainCommand } from "./train.js";
import { UsageError } from "./usage-error.js";
import { workerCommand } from "./worker.js";

const COMMANDS: Readonly<Record<string, (argv: readonly string[], io: Io) => Promise<number>>> = {
  train: trainCommand,
  eval: evalCommand,
  sample: sampleCommand,
  study: studyCommand,
  "check-gradient": checkGradientCommand,
  worker: workerCommand,
};

const HELP = `Usage: hts <command> [options]

Equilibrium Propagation with heterogeneous per-neuron time steps (HTS).

Commands:
  train    Train a layered Hopfield network on MNIST digits with EP (free + nudged phase).
  eval     Evaluate a saved checkpoint: free-phase predictions on a test set.
  sample   Draw per-neuron dt vectors from a distribution and summarise them.
  study    Compare dt distributions over seeds: a grid of training runs, tables and charts.
  check-gradient  Check the EP estimate against finite differences and BPTT (float64, small network).
  worker   Run the training runs of hts study --queue (Redis), on any machine.

Run hts <command> --help for the options of a command.
Exit codes: 0 success, 1 error, 2 bad command line, 3 training diverged.
`;

/**
 * Runs the `hts` command line with `argv` (without the node and script paths). Returns the
 * exit code; bad flags are one line on stderr with exit code 2, runtime errors one line
 * with exit code 1, never a stack trace (set HTS_DEBUG=1 to see it).
 */
export async function runCli(argv: readonly string[], io: Io): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === "--help" || command === "-h" || command === "help") {
    (command === undefined ? io.err : io.out)(HELP);
    return command === undefined ? 2 : 0;
  }
  const run = COMMANDS[command];
  if (!run) {
    io.err(`hts: unknown command ${JSON.stringify(command)}: expected one of ${Object.keys(COMMANDS).join(", ")} (see hts --help)\n`);
    return 2;
  }
  try {
    return await run(rest, io);
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`${e.message.startsWith("hts ") ? "" : `hts ${command}: `}${e.message}\n`);
      return 2;
    }
    const err = e as { code?: string; message?: string; stack?: string };
    if (process.env.HTS_DEBUG) io.err(`${err.stack ?? String(e)}\n`);
    const code = typeof err.code === "string" && err.code.startsWith("HTS_") ? ` [${err.code}]` : "";
    io.err(`hts ${command}: error${code}: ${err.message ?? String(e)}\n`);
    return err.code === "HTS_INVALID_ARGUMENT" ? 2 : 1;
  }
}

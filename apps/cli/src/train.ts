import { resolve } from "node:path";
import type { TrainState } from "@hts/ep";
import { checkRunConfig, endLine, flagsOfRunConfig, RUN_FLAGS, type RunFlags, type RunSpec, readRunFolder, runSpecFromFlags, StudyError, trainToFolder } from "@hts/study/node";
import { formatHelp, type HelpGroups, int, type OptionTable, type ParsedArgs, parseCommand, str } from "./args.js";
import { type Io, isNonEmptyDir, readJsonOption } from "./io.js";
import { DATA_OPTIONS, DT_OPTIONS, MODEL_OPTIONS } from "./options.js";
import { createProgress } from "./progress.js";
import { asUsage, UsageError } from "./usage-error.js";

const TRAIN_OPTIONS: OptionTable = {
  ...DATA_OPTIONS,
  "val-size": {
    type: "string",
    value: "N",
    default: "0",
    help: "Hold out N training examples (seeded) as a validation set: evaluated every epoch, the best epoch is marked in metrics.jsonl, and the test split is evaluated once, after the last epoch (0: no validation set; the test split every epoch).",
  },
  input: {
    type: "string",
    value: "MODE",
    default: "standardize",
    help: "How pixels reach the network: raw (as loaded, in [0, 1]), standardize (mean 0 and sd --input-sd, from one mean and sd over all training pixels: an inverted image is the negated original) or standardize-feature (per pixel). Fitted on the examples trained on; recorded with the model.",
  },
  "input-sd": {
    type: "string",
    value: "X",
    default: "0.35",
    help: "The standard deviation of the standardized pixels (raw MNIST pixels have 0.31; at 1 the mean squared norm of a 784-pixel input is 8 times raw MNIST's and output units die).",
  },
  arch: { type: "string", value: "SIZES", default: "784,500,10", help: "Layer sizes, input first: n_0,n_1,...,n_L (with --cost ce the last entry is the read-out's classes)." },
  epochs: { type: "string", value: "N", default: "5", help: "Passes over the training set." },
  batch: { type: "string", value: "N", default: "20", help: "Minibatch size B (the EP update is averaged over it)." },
  t2: { type: "string", value: "N", default: "20", help: "Nudged-phase steps T2 (from the free fixed point)." },
  beta: { type: "string", value: "X", default: "0.5", help: "Nudging strength beta > 0 (F = E + beta C)." },
  nudge: {
    type: "string",
    value: "KIND",
    default: "symmetric",
    help: "one-sided (+beta), random-sign (sign of beta drawn per minibatch) or symmetric (a third phase at -beta; the update uses +beta and -beta).",
  },
  persistent: {
    type: "boolean",
    help: "Persistent states: each training example starts its free phase from its own last free state (saved with --resume checkpoints) instead of s = 0.",
  },
  optimizer: { type: "string", value: "NAME", default: "sgd", help: "sgd, momentum or adam, applied to the EP gradient estimate." },
  lr: { type: "string", value: "RATES", default: "0.2,0.05", help: "Learning rates, one per weight layer W_1..W_L (with --cost ce the last one is the read-out's)." },
  "lr-decay": {
    type: "string",
    value: "X",
    default: "0.8",
    help: "Multiply every learning rate by X after each epoch (1: constant rates).",
  },
  momentum: { type: "string", value: "X", default: "0.9", help: "Momentum coefficient (optimizer momentum)." },
  "weight-decay": { type: "string", value: "X", default: "0", help: "L2 weight decay on the weights (not the biases)." },
  ...MODEL_OPTIONS,
  ...DT_OPTIONS,
  seed: {
    type: "string",
    value: "N",
    default: "0",
    help: "Seed of the run: weights, dt, minibatch order, nudge signs and the validation split come from independent streams of it.",
  },
  "no-shuffle": { type: "boolean", help: "Minibatches in file order (default: a new seeded permutation every epoch)." },
  init: { type: "string", value: "FILE", help: "Start from a safetensors checkpoint; its dt is used and wins over --dt-*." },
  out: { type: "string", value: "DIR", help: "Write config.json, metrics.jsonl (one line per epoch) and model.safetensors here." },
  overwrite: { type: "boolean", help: "Allow --out to replace the files of an earlier run in DIR." },
  config: {
    type: "string",
    value: "FILE",
    help: "Read settings from a JSON file (the fields of config.json, as --print-config shows them); flags given on the command line win.",
  },
  "print-config": { type: "boolean", help: "Print the effective configuration as JSON and exit." },
  resume: {
    type: "string",
    value: "DIR",
    help: "Continue an interrupted run from DIR/checkpoint.safetensors (written after every epoch) with DIR's configuration; only --epochs, --backend and --json may be given with it. Same seed, same final weights as an uninterrupted run.",
  },
};

/** `hts train --help` in reading order. */
const TRAIN_HELP_GROUPS: HelpGroups = [
  ["Data", ["dataset", "train-size", "test-size", "val-size", "input", "input-sd"]],
  ["Network", ["arch", "energy", "activation", "cost", "init", "dt-dist", "dt-mean", "dt-sd", "dt-min", "dt-max", "dt-clamp", "dt-nu"]],
  ["Dynamics", ["dynamics", "order", "t1", "t2", "beta", "nudge", "tolerance", "persistent"]],
  ["Training", ["epochs", "batch", "optimizer", "lr", "lr-decay", "momentum", "weight-decay", "seed", "no-shuffle", "eval-batch", "backend"]],
  ["Output", ["out", "overwrite", "config", "print-config", "resume", "json"]],
];

const SUMMARY = `Train a layered Hopfield network with Equilibrium Propagation and per-neuron time steps.
Per minibatch: a free phase of T1 steps relaxes the state to an energy minimum (the
prediction is the argmax of the output); a nudged phase of T2 steps pulls the output toward
the target with strength beta; the weights move by the difference of the two states' local
gradients, divided by beta. Each neuron i of layers 1..L has its own time step dt_i, drawn
once from --dt-dist and clamped to [--dt-min, --dt-max].`;

/** The run settings of parsed `hts train` flags. */
function flagsOf(a: ParsedArgs): RunFlags {
  return Object.fromEntries(Object.keys(RUN_FLAGS).map((k) => [k, a[k]]));
}

/** The RunSpec of parsed `hts train` flags (bad values are UsageErrors naming the flag). */
export function specOfArgs(a: ParsedArgs): RunSpec {
  try {
    return runSpecFromFlags(flagsOf(a));
  } catch (e) {
    throw asUsage(e);
  }
}

/** `hts train`. */
export async function trainCommand(argvIn: readonly string[], io: Io): Promise<number> {
  let argv = argvIn;
  let a = parseCommand("train", argv, TRAIN_OPTIONS);
  if (a.help) {
    io.out(formatHelp("train", SUMMARY, TRAIN_OPTIONS, "", TRAIN_HELP_GROUPS));
    return 0;
  }
  const configFile = str(a, "config");
  if (configFile) {
    // The file's settings become flags placed first: flags on the command line win.
    let fromFile: string[];
    try {
      fromFile = flagsOfRunConfig(checkRunConfig(readJsonOption("config", configFile), configFile));
    } catch (e) {
      if (e instanceof StudyError) throw new UsageError("config", `--config: ${e.message}`);
      throw e;
    }
    argv = [...fromFile, ...argvIn];
    a = parseCommand("train", argv, TRAIN_OPTIONS);
  }
  if (a["print-config"]) {
    io.out(`${JSON.stringify(specOfArgs(a), null, 2)}\n`);
    return 0;
  }
  const given = (name: string) => argv.some((v) => v === `--${name}` || v.startsWith(`--${name}=`));
  const resumeDir = str(a, "resume");
  let resume: TrainState | null = null;
  let spec: RunSpec;
  if (resumeDir) {
    for (const v of argv) {
      const name = v.startsWith("--") ? (v.slice(2).split("=")[0] as string) : null;
      if (name && !["resume", "epochs", "backend", "json"].includes(name)) {
        throw new UsageError(name, `--resume: --${name} cannot be combined with --resume (the run continues with the configuration in ${resumeDir}); only --epochs, --backend and --json can`);
      }
    }
    let folder: ReturnType<typeof readRunFolder>;
    try {
      folder = readRunFolder(resumeDir);
    } catch (e) {
      throw asUsage(e, { dir: "resume" });
    }
    resume = folder.state;
    spec = { ...folder.spec, epochs: given("epochs") ? (int(a, "epochs", 1) as number) : folder.spec.epochs, backend: given("backend") ? (str(a, "backend") as string) : folder.spec.backend };
  } else spec = specOfArgs(a);
  const json = a.json as boolean;
  const say = json ? io.err : io.out;
  const outDir = resumeDir ?? str(a, "out");
  if (!resume && outDir && isNonEmptyDir(outDir) && !(a.overwrite as boolean)) {
    throw new UsageError("out", `--out: ${outDir} already holds files; choose another folder or pass --overwrite, or continue it with --resume`);
  }
  const files = outDir ? resolve(outDir) : null;
  const started = Date.now();
  const progress = createProgress(io.err, io.isTTY && !json);
  const print = (line: string, level: "info" | "error") => {
    progress.done();
    (level === "error" ? io.err : say)(line);
  };
  let result: Awaited<ReturnType<typeof trainToFolder>>;
  try {
    result = await trainToFolder({
      task: { id: "train", spec, adoptInitArch: !given("arch") },
      dir: files,
      resume,
      resolveFrom: import.meta.dirname,
      onLog: print,
      onBatch: (epoch, done, total, secs) => progress.update(`epoch ${epoch}/${spec.epochs}  minibatch ${done}/${total}  ${((done * spec.batch) / secs).toFixed(0)} samples/s`),
      onPrepared: (run) => {
        if (resume) say(`resuming ${resumeDir} after epoch ${resume.session.epochsDone} of ${run.spec.epochs}\n`);
      },
    });
  } catch (e) {
    throw asUsage(e);
  } finally {
    progress.done();
  }
  const seconds = (Date.now() - started) / 1000;
  const { metrics: _metrics, seconds: _seconds, config, ...rest } = result;
  const end = endLine(result, seconds, files, "hts train: ");
  print(end.line, end.level);
  if (json) io.out(`${JSON.stringify({ ...rest, seconds, out: files, config })}\n`);
  return result.status === "ok" ? 0 : 3;
}

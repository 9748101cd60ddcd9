import { existsSync, mkdirSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { applyInputTransform, type DataSplit, type Dataset, fitInputTransform, holdOut, INPUT_MODES, type InputMode, type InputTransform, loadDataset } from "@hts/datasets/node";
import { clamp, createDistribution, createRng, type Distribution, type RngState, restoreRng } from "@hts/distributions";
import { createCost, createEnergy } from "@hts/energy";
import {
  checkCombination,
  checkpointTensors,
  createNetwork,
  createSession,
  createTrainer,
  DYNAMICS,
  loadCheckpoint,
  type Network,
  networkFromSnapshot,
  NUDGES,
  OPTIMIZERS,
  ORDERS,
  type OptimizerState,
  readSafetensorsFile,
  type SafetensorsTensor,
  type SessionState,
  saveCheckpoint,
  snapshotFromTensors,
  snapshotNetwork,
  writeSafetensorsFile,
} from "@hts/ep/node";
import { type BackendPreference, createBackend } from "@hts/kernels/node";
import { choice, formatHelp, type HelpGroups, int, num, numList, type OptionTable, parseCommand, str } from "./args.js";
import { type Io, isNonEmptyDir, writeFileAtomic } from "./io.js";
import { DATA_OPTIONS, DT_OPTIONS, MODEL_OPTIONS } from "./options.js";
import { configFileToArgv, readRunConfigFile } from "./run-config-file.js";
import { createProgress } from "./progress.js";
import { UsageError } from "./usage-error.js";

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

/** The effective configuration of a run, as recorded in config.json and the checkpoint. */
export interface RunConfig {
  dataset: string;
  trainSize: number | null;
  testSize: number | null;
  valSize: number;
  input: InputMode;
  inputSd: number;
  arch: number[];
  epochs: number;
  batch: number;
  evalBatch: number;
  t1: number;
  t2: number;
  beta: number;
  nudge: (typeof NUDGES)[number];
  dynamics: (typeof DYNAMICS)[number];
  order: (typeof ORDERS)[number];
  persistent: boolean;
  energy: string;
  activation: "hard-sigmoid" | "sigmoid" | "tanh";
  cost: string;
  tolerance: number;
  optimizer: (typeof OPTIMIZERS)[number];
  lr: number[];
  lrDecay: number;
  momentum: number;
  weightDecay: number;
  dt: { dist: string; mean: number; sd: number; min: number; max: number; clamp: "clip" | "resample"; nu: number; fromInit: boolean };
  seed: number;
  shuffle: boolean;
  init: string | null;
  backend: BackendPreference;
}

function buildConfig(a: ReturnType<typeof parseCommand>): RunConfig {
  const arch = numList(a, "arch", (n) => Number.isInteger(n) && n >= 1, "positive integers (layer sizes)") as number[];
  if (arch.length < 2) throw new UsageError("arch", `--arch: expected at least two layer sizes (input and output), got ${JSON.stringify(str(a, "arch"))}`);
  if ((arch[arch.length - 1] as number) < 2) throw new UsageError("arch", `--arch: the output layer needs at least 2 neurons (one per class), got ${arch[arch.length - 1]}`);
  if (str(a, "cost") === "ce" && arch.length < 3) {
    throw new UsageError("arch", `--arch: with --cost ce the last entry is the read-out's classes, so at least one relaxed layer is needed (e.g. 784,500,10), got ${str(a, "arch")}`);
  }
  const lr = numList(a, "lr", (n) => n >= 0, "numbers >= 0") as number[];
  if (str(a, "init") === undefined && lr.length !== arch.length - 1) {
    throw new UsageError("lr", `--lr: expected ${arch.length - 1} rate(s), one per weight layer of --arch ${arch.join(",")}, got ${lr.length} (${str(a, "lr")})`);
  }
  const dtMin = num(a, "dt-min", 0, true) as number;
  const dtMax = num(a, "dt-max", 0, true) as number;
  if (dtMax <= dtMin) throw new UsageError("dt-max", `--dt-max: expected a number > --dt-min (${dtMin}), got ${dtMax}`);
  return {
    dataset: str(a, "dataset") as string,
    trainSize: int(a, "train-size", 1) ?? null,
    testSize: int(a, "test-size", 1) ?? null,
    valSize: int(a, "val-size", 0) as number,
    input: choice(a, "input", INPUT_MODES),
    inputSd: num(a, "input-sd", 0, true) as number,
    arch,
    epochs: int(a, "epochs", 1) as number,
    batch: int(a, "batch", 1) as number,
    evalBatch: int(a, "eval-batch", 1) as number,
    t1: int(a, "t1", 1) as number,
    t2: int(a, "t2", 1) as number,
    beta: num(a, "beta", 0, true) as number,
    nudge: choice(a, "nudge", NUDGES),
    dynamics: choice(a, "dynamics", DYNAMICS),
    order: choice(a, "order", ORDERS),
    persistent: a.persistent as boolean,
    energy: choice(a, "energy", ["hopfield", "primitive"]),
    activation: choice(a, "activation", ["hard-sigmoid", "sigmoid", "tanh"]),
    cost: choice(a, "cost", ["mse", "ce"]),
    tolerance: num(a, "tolerance", 0) as number,
    optimizer: choice(a, "optimizer", OPTIMIZERS),
    lr,
    lrDecay: num(a, "lr-decay", 0, true, 1) as number,
    momentum: num(a, "momentum", 0, false, 0.999999) as number,
    weightDecay: num(a, "weight-decay", 0) as number,
    dt: {
      dist: str(a, "dt-dist") as string,
      mean: num(a, "dt-mean", 0, true) as number,
      sd: num(a, "dt-sd", 0) as number,
      min: dtMin,
      max: dtMax,
      clamp: choice(a, "dt-clamp", ["clip", "resample"]),
      nu: num(a, "dt-nu", 0, true) as number,
      fromInit: false,
    },
    seed: int(a, "seed", 0, 0xffffffff) as number,
    shuffle: !(a["no-shuffle"] as boolean),
    init: str(a, "init") ?? null,
    backend: choice(a, "backend", ["auto", "gpu", "wasm", "cpu", "reference"]),
  };
}

/** The dt distribution a configuration describes (validated by its factory). */
export function dtDistribution(dt: RunConfig["dt"]): Distribution {
  try {
    const base = createDistribution(dt.dist, dt.dist === "student-t" ? { mean: dt.mean, sd: dt.sd, nu: dt.nu } : { mean: dt.mean, sd: dt.sd });
    return clamp(base, { min: dt.min, max: dt.max, mode: dt.clamp });
  } catch (e) {
    const err = e as { parameter?: string; message: string };
    const flags: Record<string, string> = { name: "dt-dist", dist: "dt-dist", mean: "dt-mean", sd: "dt-sd", nu: "dt-nu", min: "dt-min", max: "dt-max", mode: "dt-clamp" };
    const flag = flags[err.parameter ?? "name"] ?? "dt-dist";
    throw new UsageError(flag, `--${flag}: ${err.message}`);
  }
}

function fmtPct(x: number): string {
  return Number.isFinite(x) ? `${(100 * x).toFixed(2)}%` : "n/a";
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
    argv = [...configFileToArgv(readRunConfigFile(configFile)), ...argvIn];
    a = parseCommand("train", argv, TRAIN_OPTIONS);
  }
  if (a["print-config"]) {
    const cfg = buildConfig(a);
    if (cfg.lr.length !== cfg.arch.length - 1 && !cfg.init) throw new UsageError("lr", `--lr: expected ${cfg.arch.length - 1} rate(s)`);
    io.out(`${JSON.stringify(cfg, null, 2)}\n`);
    return 0;
  }
  const resumeDir = str(a, "resume");
  const resumed = resumeDir ? await readResume(resumeDir, argv, a) : null;
  const cfg = resumed ? resumed.config : buildConfig(a);
  const json = a.json as boolean;
  const say = json ? io.err : io.out;
  const outDir = resumeDir ?? str(a, "out");
  if (!resumed && outDir && isNonEmptyDir(outDir) && !(a.overwrite as boolean)) {
    throw new UsageError("out", `--out: ${outDir} already holds files; choose another folder or pass --overwrite, or continue it with --resume`);
  }
  const dist = cfg.init ? null : dtDistribution(cfg.dt);

  const started = Date.now();
  const choiceOfBackend = await createBackend({ prefer: cfg.backend });
  const backend = choiceOfBackend.backend;
  say(`backend: ${backend.name} (${choiceOfBackend.reason})\n`);

  const loaded: DataSplit = await loadDataset(cfg.dataset, {
    trainSize: cfg.trainSize ?? undefined,
    testSize: cfg.testSize ?? undefined,
    resolveFrom: import.meta.dirname,
  });
  // The validation split: a seeded hold-out from the training split, from its own stream
  // of --seed (the fifth, after weights, dt, order and nudge signs).
  let trainSet: Dataset = loaded.train;
  let valSet: Dataset | null = null;
  if (cfg.valSize > 0) {
    if (cfg.valSize >= loaded.train.count) {
      throw new UsageError("val-size", `--val-size: ${cfg.valSize} leaves no training examples (the training split has ${loaded.train.count})`);
    }
    const valSeed = createRng(cfg.seed).jump().jump().jump().jump().int(0, 0xffffffff);
    ({ train: trainSet, validation: valSet } = holdOut(loaded.train, cfg.valSize, valSeed));
  }
  // The input transform is fitted on the examples trained on, never on validation or test.
  const inputTransform: InputTransform = resumed ? (resumed.record.inputTransform as InputTransform) : fitInputTransform(trainSet, cfg.input, { sd: cfg.inputSd });
  const data = {
    train: applyInputTransform(trainSet, inputTransform),
    validation: valSet ? applyInputTransform(valSet, inputTransform) : null,
    test: applyInputTransform(loaded.test, inputTransform),
    source: loaded.source,
  };
  if (data.train.count < cfg.batch) {
    throw new UsageError("batch", `--batch: ${cfg.batch} is more than the ${data.train.count} training examples`);
  }
  say(`data: ${data.source}: ${data.train.count} train, ${data.validation ? `${data.validation.count} validation, ` : ""}${data.test.count} test; input ${cfg.input}\n`);

  const readoutCost = createCost(cfg.cost).readout;
  const base = createRng(cfg.seed);
  const dtRng = base.jump();
  // On --resume the session restores the order generator from the saved state.
  const orderRng = dtRng.jump();
  const nudgeRng = resumed ? restoreRng(resumed.state.nudgeRng) : dtRng.jump().jump();
  let network: Network;
  if (resumed) {
    network = networkFromSnapshot(backend, resumed.snapshot);
  } else if (cfg.init) {
    const ck = await loadCheckpoint(cfg.init);
    const ckArch = ck.snapshot.readout ? [...ck.snapshot.sizes, ck.snapshot.readout.classes] : [...ck.snapshot.sizes];
    const archGiven = argv.some((v) => v === "--arch" || v.startsWith("--arch="));
    if (!archGiven) cfg.arch = ckArch;
    if (ckArch.join(",") !== cfg.arch.join(",")) {
      throw new UsageError("init", `--init: ${cfg.init} has layer sizes ${ckArch.join(",")} but --arch is ${cfg.arch.join(",")}`);
    }
    if (Boolean(ck.snapshot.readout) !== readoutCost) {
      throw new UsageError("init", `--init: ${cfg.init} ${ck.snapshot.readout ? "has a read-out (Wout), which only --cost ce uses" : "has no read-out (Wout), which --cost ce needs"}`);
    }
    network = networkFromSnapshot(backend, ck.snapshot);
    cfg.dt.fromInit = true;
  } else {
    const relaxed = readoutCost ? cfg.arch.slice(0, -1) : cfg.arch;
    network = createNetwork({
      backend,
      sizes: relaxed,
      dt: dist as Distribution,
      weightRng: base,
      dtRng,
      ...(readoutCost ? { readoutClasses: cfg.arch[cfg.arch.length - 1] as number } : {}),
    });
  }
  if (cfg.lr.length !== cfg.arch.length - 1) {
    throw new UsageError(
      "lr",
      `--lr: expected ${cfg.arch.length - 1} rate(s), one per weight layer of --arch ${cfg.arch.join(",")}, got ${cfg.lr.length} (${cfg.lr.join(",")})`,
    );
  }
  if (data.train.dim !== cfg.arch[0]) {
    throw new UsageError("arch", `--arch: the input layer has ${cfg.arch[0]} neurons but ${cfg.dataset} examples have ${data.train.dim} pixels`);
  }
  const energy = createEnergy(cfg.energy, cfg.activation);
  const cost = createCost(cfg.cost);
  try {
    checkCombination(energy, cost, cfg.dynamics, network);
  } catch (e) {
    throw new UsageError("dynamics", `--energy ${cfg.energy} --activation ${cfg.activation} --dynamics ${cfg.dynamics}: ${(e as Error).message}`);
  }
  const trainer = createTrainer({
    network,
    energy,
    cost,
    nudgeRng,
    minibatches: resumed?.state.minibatches ?? 0,
    config: {
      t1: cfg.t1,
      t2: cfg.t2,
      beta: cfg.beta,
      nudge: cfg.nudge,
      dynamics: cfg.dynamics,
      order: cfg.order,
      persistent: cfg.persistent,
      batch: cfg.batch,
      tolerance: cfg.tolerance,
      optimizer: { name: cfg.optimizer, lr: cfg.lr, momentum: cfg.momentum, weightDecay: cfg.weightDecay },
    },
  });

  const allDt = network.dt.flatMap((m) => Array.from(backend.read(m)));
  const dtMean = allDt.reduce((s, v) => s + v, 0) / allDt.length;
  say(
    `network: ${cfg.arch.join("-")}, dt ${cfg.init ? "from checkpoint" : dist?.name}: mean ${dtMean.toFixed(4)}, min ${Math.min(...allDt).toFixed(4)}, max ${Math.max(...allDt).toFixed(4)}\n`,
  );

  const record = {
    ...cfg,
    backendUsed: backend.name,
    backendReason: choiceOfBackend.reason,
    dataSource: data.source,
    trainExamples: data.train.count,
    validationExamples: data.validation?.count ?? 0,
    testExamples: data.test.count,
    inputTransform,
    dtDistribution: dist ? dist.toJSON() : resumed ? resumed.record.dtDistribution : null,
  };
  if (resumed) say(`resuming ${resumeDir} after epoch ${resumed.state.epochsDone} of ${cfg.epochs}\n`);
  const files = outDir ? resolve(outDir) : null;
  if (files && !resumed) {
    mkdirSync(files, { recursive: true });
    // --overwrite replaces the earlier run whole: no old checkpoint next to a new config.
    for (const name of RUN_FILES) rmSync(join(files, name), { force: true });
    writeFileAtomic(join(files, "config.json"), `${JSON.stringify(record, null, 2)}\n`);
    writeFileAtomic(join(files, "metrics.jsonl"), "");
  }

  const progress = createProgress(io.err, io.isTTY && !json);
  const session = createSession({
    trainer,
    data,
    epochs: cfg.epochs,
    orderRng,
    nudgeRng,
    lrDecay: cfg.lrDecay,
    shuffle: cfg.shuffle,
    evalBatch: cfg.evalBatch,
    ...(resumed ? { resume: resumed.session } : {}),
    onBatch: (epoch, done, total, secs) =>
      progress.update(`epoch ${epoch}/${cfg.epochs}  minibatch ${done}/${total}  ${((done * cfg.batch) / secs).toFixed(0)} samples/s`),
  });
  const metrics = session.metrics as unknown as readonly Record<string, unknown>[];
  let status = "ok";
  let failure: string | null = null;
  const writeMetrics = () => {
    if (files) writeFileAtomic(join(files, "metrics.jsonl"), `${metrics.map((m) => JSON.stringify(m)).join("\n")}\n`);
  };
  for (;;) {
    let outcome: ReturnType<typeof session.next>;
    try {
      outcome = session.next();
    } finally {
      progress.done();
    }
    if (outcome.status === "done") break;
    if (outcome.status === "diverged") {
      status = "diverged";
      failure = outcome.record.error;
      writeMetrics();
      break;
    }
    const line = outcome.record;
    const heldText = data.validation
      ? `validation ${fmtPct(line.validationAccuracy as number)}${line.testAccuracy !== null ? `  test ${fmtPct(line.testAccuracy)}` : ""}`
      : `test ${fmtPct(line.testAccuracy as number)}`;
    say(
      `epoch ${line.epoch}/${cfg.epochs}  train ${fmtPct(line.trainAccuracy)} (free phase, running)  ${heldText}  cost ${line.trainCost.toFixed(4)}  residual ${line.freeResidual.toExponential(2)}  ${line.trainSeconds.toFixed(1)}s (${line.samplesPerSecond.toFixed(0)} samples/s) + eval ${line.evalSeconds.toFixed(1)}s\n`,
    );
    if (files) {
      writeMetrics();
      // One read-back of the weights serves both files.
      const snap = snapshotNetwork(network);
      await saveCheckpoint(join(files, "model.safetensors"), snap, { ...record, epochsDone: line.epoch, minibatches: trainer.minibatches });
      // Everything --resume needs, in one file written atomically: a kill at any moment
      // leaves either the previous epoch's checkpoint or this one.
      const st = session.state();
      const tensors: Record<string, SafetensorsTensor> = { ...checkpointTensors(snap) };
      for (const [k, v] of Object.entries(st.optimizer.tensors)) tensors[`optimizer.${k}`] = { dtype: "F32", shape: [v.length], data: v };
      if (st.persistent) tensors["persistent.states"] = { dtype: "F32", shape: [st.persistent.length], data: st.persistent };
      const state: ResumeState = {
        epochsDone: st.epochsDone,
        minibatches: st.minibatches,
        orderRng: st.orderRng,
        nudgeRng: st.nudgeRng as RngState,
        optimizer: { name: st.optimizer.name, step: st.optimizer.step, lr: [...st.optimizer.lr] },
        metrics: st.metrics as unknown as Record<string, unknown>[],
      };
      await writeSafetensorsFile(join(files, "checkpoint.safetensors"), tensors, { format: "hts-ep-train-state/1", config: JSON.stringify(record), state: JSON.stringify(state) });
    }
  }
  const seconds = (Date.now() - started) / 1000;
  const last = metrics[metrics.length - 1] as { testAccuracy?: number | null; validationAccuracy?: number } | undefined;
  const best = metrics.find((m) => m.best === true);
  const summary = {
    status,
    error: failure,
    epochs: metrics.filter((m) => m.nonFinite === false).length,
    finalTestAccuracy: status === "ok" ? (last?.testAccuracy ?? null) : null,
    bestTestAccuracy: Math.max(...metrics.map((m) => (typeof m.testAccuracy === "number" ? m.testAccuracy : Number.NEGATIVE_INFINITY))),
    bestEpoch: best ? (best.epoch as number) : null,
    bestValidationAccuracy: best ? (best.validationAccuracy as number) : null,
    lastValidationAccuracy: typeof last?.validationAccuracy === "number" ? last.validationAccuracy : null,
    seconds,
    out: files,
    config: record,
  };
  if (status !== "ok") io.err(`hts train: stopped: ${failure}\n`);
  else say(`done in ${seconds.toFixed(1)}s: test accuracy ${fmtPct(summary.finalTestAccuracy as number)}${files ? `, files in ${files}` : ""}\n`);
  if (json) io.out(`${JSON.stringify(summary)}\n`);
  return status === "ok" ? 0 : 3;
}

const RUN_FILES = ["config.json", "metrics.jsonl", "model.safetensors", "checkpoint.safetensors"];

/** The training state saved after every epoch for --resume. */
interface ResumeState {
  epochsDone: number;
  minibatches: number;
  orderRng: RngState;
  nudgeRng: RngState;
  optimizer: { name: OptimizerState["name"]; step: number; lr: number[] };
  metrics: Record<string, unknown>[];
}

/** Reads DIR/checkpoint.safetensors for --resume; flags other than --epochs, --backend, --json are refused. */
async function readResume(dir: string, argv: readonly string[], a: ReturnType<typeof parseCommand>) {
  const allowed = new Set(["resume", "epochs", "backend", "json"]);
  for (const v of argv) {
    const name = v.startsWith("--") ? (v.slice(2).split("=")[0] as string) : null;
    if (name && !allowed.has(name)) {
      throw new UsageError(name, `--resume: --${name} cannot be combined with --resume (the run continues with the configuration in ${dir}); only --epochs, --backend and --json can`);
    }
  }
  const file = join(dir, "checkpoint.safetensors");
  if (!existsSync(file)) {
    throw new UsageError("resume", `--resume: ${file} does not exist (a run writes it after its first epoch; nothing to resume)`);
  }
  const { tensors, metadata } = await readSafetensorsFile(file);
  if (metadata.format !== "hts-ep-train-state/1" || !metadata.config || !metadata.state) {
    throw new UsageError("resume", `--resume: ${file} is not a training checkpoint written by hts train`);
  }
  const record = JSON.parse(metadata.config) as RunConfig & { dtDistribution: unknown; inputTransform?: unknown };
  if (record.inputTransform === undefined) record.inputTransform = { mode: "raw", mean: [], sd: [], scale: 1 };
  record.valSize ??= 0;
  record.input ??= "raw";
  record.inputSd ??= 1;
  record.order ??= "sync";
  record.persistent ??= false;
  const state = JSON.parse(metadata.state) as ResumeState;
  const config: RunConfig = { ...record };
  const epochs = int(a, "epochs", 1);
  if (argv.some((v) => v === "--epochs" || v.startsWith("--epochs="))) config.epochs = epochs as number;
  if (argv.some((v) => v === "--backend" || v.startsWith("--backend="))) config.backend = a.backend as BackendPreference;
  if (config.epochs < state.epochsDone) {
    throw new UsageError("epochs", `--epochs: ${dir} has already trained ${state.epochsDone} epochs; --epochs ${config.epochs} is fewer`);
  }
  const optTensors: Record<string, Float32Array> = {};
  const net = new Map<string, SafetensorsTensor>();
  let persistent: Float32Array | null = null;
  for (const [name, t] of tensors) {
    if (name.startsWith("optimizer.")) optTensors[name.slice("optimizer.".length)] = t.data as Float32Array;
    else if (name === "persistent.states") persistent = t.data as Float32Array;
    else net.set(name, t);
  }
  const snapshot = snapshotFromTensors(net, file);
  const optimizer: OptimizerState = { ...state.optimizer, tensors: optTensors };
  const session: SessionState = {
    epochsDone: state.epochsDone,
    minibatches: state.minibatches,
    orderRng: state.orderRng,
    nudgeRng: state.nudgeRng,
    optimizer,
    persistent,
    metrics: state.metrics as unknown as SessionState["metrics"],
  };
  return { config, record, state, snapshot, session };
}

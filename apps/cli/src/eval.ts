import { applyInputTransform, checkInputTransform, loadDataset } from "@hts/datasets/node";
import { createCost, createEnergy } from "@hts/energy";
import { createTrainer, DYNAMICS, loadCheckpoint, networkFromSnapshot, ORDERS } from "@hts/ep/node";
import { createBackend } from "@hts/kernels/node";
import { choice, formatHelp, int, num, type OptionTable, type ParsedArgs, parseCommand, str } from "./args.js";
import type { Io } from "./io.js";
import { DATA_OPTIONS, MODEL_OPTIONS } from "./options.js";
import { UsageError } from "./usage-error.js";

const EVAL_OPTIONS: OptionTable = {
  model: { type: "string", value: "FILE", help: "A safetensors checkpoint written by hts train (required)." },
  ...DATA_OPTIONS,
  ...MODEL_OPTIONS,
};

const SUMMARY = `Evaluate a trained network: relax the free phase (T1 steps, beta = 0) on each test
example and compare the argmax of the output layer (or of the read-out's logits) with the
label. The dynamics, order, energy, activation, T1 and cost default to those recorded in
the checkpoint; flags override them. The input transform recorded with the model is
applied to the examples.`;

/** A flag's value: the one given on the command line, else the checkpoint's, else the default. */
function pick(argv: readonly string[], a: ParsedArgs, name: string, recorded: unknown): ParsedArgs {
  const given = argv.some((v) => v === `--${name}` || v.startsWith(`--${name}=`));
  if (given || recorded === undefined || recorded === null) return a;
  return { ...a, [name]: String(recorded) };
}

/** `hts eval`. */
export async function evalCommand(argv: readonly string[], io: Io): Promise<number> {
  let a = parseCommand("eval", argv, EVAL_OPTIONS);
  if (a.help) {
    io.out(formatHelp("eval", SUMMARY, EVAL_OPTIONS));
    return 0;
  }
  const model = str(a, "model");
  if (!model) throw new UsageError("model", "hts eval: --model FILE is required (a checkpoint written by hts train --out)");
  const ck = await loadCheckpoint(model);
  const rec = (ck.config ?? {}) as Record<string, unknown>;
  for (const name of ["t1", "dynamics", "order", "energy", "activation", "cost", "tolerance"]) a = pick(argv, a, name, rec[name]);
  const json = a.json as boolean;
  const say = json ? io.err : io.out;
  const t1 = int(a, "t1", 1) as number;
  const dynamics = choice(a, "dynamics", DYNAMICS);
  const energy = createEnergy(choice(a, "energy", ["hopfield", "primitive"]), choice(a, "activation", ["hard-sigmoid", "sigmoid", "tanh"] as const));
  const cost = createCost(choice(a, "cost", ["mse", "ce"]));
  const tolerance = num(a, "tolerance", 0) as number;
  const evalBatch = int(a, "eval-batch", 1) as number;
  const { backend, reason } = await createBackend({ prefer: choice(a, "backend", ["auto", "gpu", "wasm", "cpu", "reference"]) });
  say(`backend: ${backend.name} (${reason})\n`);
  const order = choice(a, "order", ORDERS);
  const loaded = await loadDataset(str(a, "dataset") as string, {
    trainSize: int(a, "train-size", 1),
    testSize: int(a, "test-size", 1),
    resolveFrom: import.meta.dirname,
  });
  const network = networkFromSnapshot(backend, ck.snapshot);
  if (loaded.test.dim !== network.sizes[0]) {
    throw new UsageError("dataset", `--dataset: ${model} expects ${network.sizes[0]} inputs but the examples have ${loaded.test.dim} pixels`);
  }
  const transform = checkInputTransform(rec.inputTransform ?? { mode: "raw", mean: [], sd: [], scale: 1 }, loaded.test.dim);
  const data = { ...loaded, test: applyInputTransform(loaded.test, transform) };
  if (cost.readout !== (network.readout !== null)) {
    throw new UsageError("cost", `--cost ${cost.name}: ${model} ${network.readout ? "has a read-out (Wout), which only --cost ce uses" : "has no read-out (Wout), which --cost ce needs"}`);
  }
  const layers = network.params.W.length + (network.readout ? 1 : 0);
  const trainer = createTrainer({
    network,
    energy,
    cost,
    config: { t1, t2: 1, beta: 1, nudge: "one-sided", dynamics, order, batch: 1, tolerance, optimizer: { name: "sgd", lr: new Array(layers).fill(0) } },
  });
  const t0 = performance.now();
  const r = trainer.evaluate(data.test, { batch: evalBatch });
  const seconds = (performance.now() - t0) / 1000;
  say(
    `${data.source}: test accuracy ${(100 * r.accuracy).toFixed(2)}% on ${r.examples} examples, cost ${r.cost.toFixed(4)}, free residual ${r.freeResidual.toExponential(2)}, ${seconds.toFixed(1)}s\n`,
  );
  if (json) {
    io.out(
      `${JSON.stringify({ model, dataSource: data.source, examples: r.examples, testAccuracy: r.accuracy, testCost: r.cost, freeResidual: r.freeResidual, freeSteps: r.freeSteps, t1, dynamics, seconds })}\n`,
    );
  }
  return 0;
}

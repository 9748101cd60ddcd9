import { applyInputTransform, checkInputTransform, loadDataset } from "@hts/datasets/node";
import { createCost, createEnergy } from "@hts/energy";
import { createEvaluator, DYNAMICS, loadCheckpoint, networkFromSnapshot, ORDERS } from "@hts/ep/node";
import { createBackend } from "@hts/kernels/node";
import { shortReason } from "@hts/study";
import { choice, formatHelp, int, num, type OptionTable, type ParsedArgs, parseCommand, str } from "./args.js";
import { type Io, writeFileAtomic } from "./io.js";
import { DATA_OPTIONS, MODEL_OPTIONS } from "./options.js";
import { UsageError } from "./usage-error.js";

const EVAL_OPTIONS: OptionTable = {
  model: { type: "string", value: "FILE", help: "A safetensors checkpoint written by hts train (required)." },
  ...DATA_OPTIONS,
  ...MODEL_OPTIONS,
  predictions: { type: "string", value: "FILE", help: "Also write the predicted class of every test example, one per line in data order, to FILE." },
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
  say(`backend: ${backend.name} (${shortReason(reason)})\n`);
  const order = choice(a, "order", ORDERS);
  const loaded = await loadDataset(str(a, "dataset") as string, {
    trainSize: int(a, "train-size", 1),
    testSize: int(a, "test-size", 1),
    resolveFrom: import.meta.dirname,
  });
  // The embedded digits are one pool split by --train-size: a test split drawn with other
  // sizes than the model's training run can hold digits it was trained on.
  const warnings: string[] = [];
  const dataset = str(a, "dataset") as string;
  if (dataset === "embedded" && rec.dataset === "embedded") {
    const trainedOn = await loadDataset("embedded", {
      trainSize: typeof rec.trainSize === "number" ? rec.trainSize : undefined,
      testSize: typeof rec.testSize === "number" ? rec.testSize : undefined,
      resolveFrom: import.meta.dirname,
    });
    const seen = new Set(trainedOn.train.indices);
    const overlap = loaded.test.indices.reduce((n, i) => n + (seen.has(i) ? 1 : 0), 0);
    if (overlap > 0) {
      const sizes = `--train-size ${rec.trainSize ?? trainedOn.train.count}${rec.testSize ? ` --test-size ${rec.testSize}` : ""}`;
      warnings.push(
        `${overlap} of the ${loaded.test.count} test digits are among the ${trainedOn.train.count} that ${model} was trained (or validated) on; evaluate with its run's ${sizes} for held-out digits`,
      );
    }
  }
  for (const w of warnings) io.err(`hts eval: warning: ${w}\n`);
  const network = networkFromSnapshot(backend, ck.snapshot);
  if (loaded.test.dim !== network.sizes[0]) {
    throw new UsageError("dataset", `--dataset: ${model} expects ${network.sizes[0]} inputs but the examples have ${loaded.test.dim} pixels`);
  }
  const transform = checkInputTransform(rec.inputTransform ?? { mode: "raw", mean: [], sd: [], scale: 1 }, loaded.test.dim);
  const data = { ...loaded, test: applyInputTransform(loaded.test, transform) };
  if (cost.readout !== (network.readout !== null)) {
    throw new UsageError("cost", `--cost ${cost.name}: ${model} ${network.readout ? "has a read-out (Wout), which only --cost ce uses" : "has no read-out (Wout), which --cost ce needs"}`);
  }
  const evaluator = createEvaluator({ network, energy, cost, config: { t1, dynamics, order, tolerance } });
  const t0 = performance.now();
  const r = evaluator.evaluate(data.test, { batch: evalBatch });
  const seconds = (performance.now() - t0) / 1000;
  const predictionsFile = str(a, "predictions");
  if (predictionsFile) {
    const lines: number[] = [];
    const { images, count, dim } = data.test;
    for (let from = 0; from < count; from += evalBatch) {
      const n = Math.min(evalBatch, count - from);
      lines.push(...evaluator.predict(images.subarray(from * dim, (from + n) * dim), n));
    }
    writeFileAtomic(predictionsFile, `${lines.join("\n")}\n`);
  }
  say(
    `${data.source}: test accuracy ${(100 * r.accuracy).toFixed(2)}% on ${r.examples} examples, cost ${r.cost.toFixed(4)}, free residual ${r.freeResidual.toExponential(2)}, ${seconds.toFixed(1)}s\n`,
  );
  if (json) {
    io.out(
      `${JSON.stringify({ model, dataSource: data.source, examples: r.examples, testAccuracy: r.accuracy, testCost: r.cost, freeResidual: r.freeResidual, freeSteps: r.freeSteps, t1, dynamics, seconds, backendUsed: backend.name, backendReason: reason, warnings })}\n`,
    );
  }
  return 0;
}

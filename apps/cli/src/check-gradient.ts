import { createCost, createEnergy } from "@hts/energy";
import {
  CHECK_NUDGES,
  type CheckNudge,
  checkCombination,
  checkGradient,
  createGradientCheckProblem,
  DEFAULT_CHECK_BETAS,
  DYNAMICS,
  formatGradientReport,
} from "@hts/ep";
import { createReferenceBackend } from "@hts/kernels";
import { choice, formatHelp, type HelpGroups, int, num, numList, type OptionSpec, type OptionTable, parseCommand, str } from "./args.js";
import { gradientCheckSpec, renderSvg } from "./charts.js";
import { type Io, writeFileAtomic } from "./io.js";
import { DT_OPTIONS, dtOfFlags, MODEL_OPTIONS } from "./options.js";
import { UsageError } from "./usage-error.js";

const ENERGY_NAMES = ["hopfield", "primitive"] as const;
const ACTIVATION_NAMES = ["hard-sigmoid", "sigmoid", "tanh"] as const;
const COST_NAMES = ["mse", "ce"] as const;

const CHECK_OPTIONS: OptionTable = {
  energy: MODEL_OPTIONS.energy as OptionSpec,
  activation: MODEL_OPTIONS.activation as OptionSpec,
  dynamics: MODEL_OPTIONS.dynamics as OptionSpec,
  cost: MODEL_OPTIONS.cost as OptionSpec,
  arch: {
    type: "string",
    value: "SIZES",
    default: "6,5,4",
    help: "Layer sizes, input first: n_0,n_1,...,n_L (with --cost ce the last entry is the read-out's classes, which do not relax).",
  },
  examples: { type: "string", value: "N", default: "4", help: "Examples in the minibatch (synthetic inputs uniform in [0, 1], uniform labels)." },
  seed: { type: "string", value: "N", default: "0", help: "Seed of the weights, dt and the data (independent streams of it)." },
  "weight-scale": { type: "string", value: "X", default: "0.3", help: "Multiplies the Glorot-uniform weights of the relaxed layers (small weights keep the fixed point inside the clip bounds)." },
  bias: { type: "string", value: "X", default: "0.4", help: "Value of every bias of the relaxed layers (the read-out's biases are 0)." },
  ...DT_OPTIONS,
  "dt-mean": { ...(DT_OPTIONS["dt-mean"] as OptionSpec), default: "0.05" },
  "dt-sd": { ...(DT_OPTIONS["dt-sd"] as OptionSpec), default: "0.02" },
  betas: {
    type: "string",
    value: "LIST",
    default: DEFAULT_CHECK_BETAS.join(","),
    help: "The betas at which the EP estimate is compared with finite differences, one-sided and symmetric (--target-beta is added when missing).",
  },
  "target-beta": { type: "string", value: "X", default: "0.01", help: "The beta of the cosine target (symmetric nudging)." },
  "min-cosine": { type: "string", value: "X", default: "0.999", help: "Target: at --target-beta, symmetric, every tensor's cosine with the finite-difference gradient is at least X." },
  "fd-step": { type: "string", value: "H", default: "1e-5", help: "Step h of the central differences (L(theta + h) - L(theta - h)) / 2h." },
  tolerance: {
    type: "string",
    value: "X",
    default: "1e-13",
    help: "Every relaxation (free, nudged, finite differences) runs until its dt-free residual is below X (max |rho(drive) - s| for leaky, max |dF/ds| over neurons not held at a bound for gradient), checked every 25 steps.",
  },
  "max-steps": { type: "string", value: "N", default: "200000", help: "The most steps one relaxation may take; a relaxation that stops above --tolerance fails the check." },
  nudge: {
    type: "string",
    value: "KIND",
    default: "symmetric",
    help: "Nudging of the GDU curves: symmetric (+beta and -beta) or one-sided (+beta). Part (a) always shows both.",
  },
  "gdu-steps": { type: "string", value: "K", default: "20", help: "Nudged steps K of the GDU curves (0: skip part b)." },
  "gdu-beta": { type: "string", value: "X", default: "1e-3", help: "Nudging strength of the GDU curves." },
  "gdu-tolerance": { type: "string", value: "X", default: "1e-3", help: "Target: at every k <= K, ||g_EP(k) - g_BPTT(k)|| / ||g_BPTT(k)|| <= X for every tensor." },
  json: { type: "boolean", help: "Print the whole report as one JSON line on stdout (human output goes to stderr)." },
  plot: {
    type: "string",
    value: "FILE.svg",
    help: "Also draw the GDU curves (EP vs BPTT per tensor against k) and the relative error against beta (log-log, one-sided and symmetric) to FILE.svg.",
  },
};

/** `hts check-gradient --help` in reading order. */
const CHECK_HELP_GROUPS: HelpGroups = [
  ["Network and data", ["arch", "energy", "activation", "dynamics", "cost", "weight-scale", "bias", "dt-dist", "dt-mean", "dt-sd", "dt-min", "dt-max", "dt-clamp", "dt-nu", "examples", "seed"]],
  ["Relaxations", ["tolerance", "max-steps"]],
  ["(a) EP estimate vs finite differences", ["betas", "target-beta", "min-cosine", "fd-step"]],
  ["(b) GDU: EP vs BPTT, step by step", ["gdu-steps", "gdu-beta", "nudge", "gdu-tolerance"]],
  ["Output", ["json", "plot"]],
];

const SUMMARY = `Check the EP gradient estimate on a small network in float64 (the reference backend).
(a) The estimate of the trainer (the library's code path) against the gradient of the loss
    L(theta) = C(s*(theta)) at the free fixed point, by central finite differences with
    converged relaxations, for several beta, one-sided and symmetric: per tensor (W1, b1,
    ..., Wout, bout) the cosine similarity and ||g_EP - g_FD|| / ||g_FD||.
(b) Ernoult et al. (2019)'s gradient-descending updates: from the converged free phase, the
    cumulative EP updates of the first k nudged steps against backpropagation through the
    last k free steps (written by hand, float64), per tensor and k.`;

const FOOTER = `The GDU curves leave out the read-out's Wout, bout: the cost reads them directly at the
final state, not through time (part a checks them). Only the sync layer order is checked.
Exit codes: 0 every target holds, 1 a target does not (the reason on stderr), 2 bad command
line or a combination without a theoretical basis.`;

/** `hts check-gradient`. */
export async function checkGradientCommand(argv: readonly string[], io: Io): Promise<number> {
  const a = parseCommand("check-gradient", argv, CHECK_OPTIONS);
  if (a.help) {
    io.out(formatHelp("check-gradient", SUMMARY, CHECK_OPTIONS, FOOTER, CHECK_HELP_GROUPS));
    return 0;
  }
  const energyName = choice(a, "energy", ENERGY_NAMES);
  const activation = choice(a, "activation", ACTIVATION_NAMES);
  const dynamics = choice(a, "dynamics", DYNAMICS);
  const costName = choice(a, "cost", COST_NAMES);
  const nudge = choice(a, "nudge", CHECK_NUDGES as readonly CheckNudge[]);
  const arch = numList(a, "arch", (n) => Number.isInteger(n) && n >= 1 && n <= 1000, "integers in [1, 1000] (layer sizes)") as number[];
  if (arch.length < 2) throw new UsageError("arch", `--arch: expected at least two layer sizes (input and output), got ${JSON.stringify(str(a, "arch"))}`);
  if ((arch[arch.length - 1] as number) < 2) throw new UsageError("arch", `--arch: the output layer needs at least 2 neurons (one per class), got ${arch[arch.length - 1]}`);
  const readout = createCost(costName).readout;
  if (readout && arch.length < 3) {
    throw new UsageError("arch", `--arch: with --cost ce the last entry is the read-out's classes, so at least one relaxed layer is needed (e.g. 6,5,4), got ${str(a, "arch")}`);
  }
  const examples = int(a, "examples", 1, 10_000) as number;
  const seed = int(a, "seed", 0, 0xffffffff) as number;
  const weightScale = num(a, "weight-scale", 0) as number;
  const bias = num(a, "bias", -100, false, 100) as number;
  const betas = numList(a, "betas", (n) => n > 0 && n <= 10, "numbers in (0, 10]") as number[];
  const targetBeta = num(a, "target-beta", 0, true, 10) as number;
  const minCosine = num(a, "min-cosine", -1, false, 1) as number;
  const fdStep = num(a, "fd-step", 0, true, 0.1) as number;
  const tolerance = num(a, "tolerance", 0, true) as number;
  const maxSteps = int(a, "max-steps", 1, 100_000_000) as number;
  const gduSteps = int(a, "gdu-steps", 0, 100_000) as number;
  const gduBeta = num(a, "gdu-beta", 0, true, 10) as number;
  const gduTolerance = num(a, "gdu-tolerance", 0, true) as number;
  const plot = str(a, "plot");
  if (plot !== undefined && !/\.svg$/i.test(plot)) throw new UsageError("plot", `--plot: expected a file name ending in .svg, got ${JSON.stringify(plot)}`);
  const { dist, dt } = dtOfFlags(a);
  const describe = `${dt.dist} (mean ${dt.mean}, sd ${dt.sd}${dt.dist === "student-t" ? `, nu ${dt.nu}` : ""}), ${dt.clamp} to [${dt.min}, ${dt.max}]`;
  const json = a.json as boolean;
  const say = json ? io.err : io.out;

  const backend = createReferenceBackend();
  const relaxed = readout ? arch.slice(0, -1) : arch;
  const problem = createGradientCheckProblem({
    backend,
    sizes: relaxed,
    ...(readout ? { readoutClasses: arch[arch.length - 1] as number } : {}),
    examples,
    seed,
    dt: dist,
    weightScale,
    bias,
  });
  const energy = createEnergy(energyName, activation);
  const cost = createCost(costName);
  try {
    checkCombination(energy, cost, dynamics, problem.network);
  } catch (e) {
    throw new UsageError("dynamics", `--energy ${energyName} --activation ${activation} --dynamics ${dynamics} --cost ${costName}: ${(e as Error).message}`);
  }
  const report = checkGradient({
    ...problem,
    energy,
    cost,
    dynamics,
    betas,
    fdStep,
    targetBeta,
    minCosine,
    convergence: { tolerance, maxSteps },
    gdu: gduSteps === 0 ? null : { steps: gduSteps, beta: gduBeta, nudge, tolerance: gduTolerance },
  });
  const dtValues = problem.network.dt.flatMap((m) => Array.from(backend.read(m)));
  say(formatGradientReport(report, { arch, seed, dt: describe, dtValues, weightScale, bias }));
  if (plot !== undefined) {
    writeFileAtomic(plot, await renderSvg(gradientCheckSpec(report)));
    say(`plot: ${plot}\n`);
  }
  if (json) {
    const config = { arch, examples, seed, weightScale, bias, dt: describe, betas, targetBeta, minCosine, fdStep, tolerance, maxSteps, gduSteps, gduBeta, gduTolerance, nudge };
    io.out(`${JSON.stringify({ config, ...report })}\n`);
  }
  if (!report.targets.passed) {
    for (const f of report.targets.failures) io.err(`hts check-gradient: target not met: ${f}\n`);
    return 1;
  }
  return 0;
}

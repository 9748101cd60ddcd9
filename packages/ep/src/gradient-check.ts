import { createRng } from "@hts/distributions";
import { allocParamGradients, allocState, type BoundCost, type BoundEnergy, type Cost, type Energy, type ParamGradients } from "@hts/energy";
import { type ActivationKind, activationRange, type Matrix } from "@hts/kernels";
import { checkCombination } from "./combination.js";
import { invalid } from "./errors.js";
import { createNetwork, type DtSpec, type Network } from "./network.js";
import { type Dynamics, Relaxer } from "./relaxation.js";
import { createTrainer } from "./trainer.js";

/**
 * Gradient checks of the EP estimate (SPEC section 4's correctness anchor):
 *
 * (a) the estimate of {@link Trainer.estimate} against the gradient of the loss
 *     L(theta) = C(s*(theta)) at the free fixed point, by central finite differences with
 *     converged relaxations, for several beta, one-sided and symmetric;
 * (b) Ernoult et al. (2019)'s gradient-descending-updates (GDU) property: the cumulative EP
 *     estimate after k nudged steps against backpropagation through the last k free steps,
 *     the latter written by hand in float64 on the host for the built-in layered energies.
 *
 * Everything here runs on the network's own backend (use the float64 reference backend:
 * finite differences need the precision) and is platform-neutral.
 */

/** The nudging of an EP estimate in a check: one-sided (+beta) or symmetric (+beta and -beta, 2 beta). */
export type CheckNudge = "one-sided" | "symmetric";

/** The nudgings a check compares. */
export const CHECK_NUDGES: readonly CheckNudge[] = ["one-sided", "symmetric"];

/** The default betas of part (a). */
export const DEFAULT_CHECK_BETAS: readonly number[] = [0.2, 0.1, 0.05, 0.02, 0.01, 0.005];

/**
 * A gradient on the host, in the parameters' layout: W_l (n_{l-1} x n_l, row-major) and b_l
 * for l = 1..L, and the read-out's W_out (n_L x classes) and b_out when there is one.
 */
export interface GradientArrays {
  readonly W: readonly Float64Array[];
  readonly b: readonly Float64Array[];
  readonly readout: { readonly W: Float64Array; readonly b: Float64Array } | null;
}

/** One parameter tensor of a gradient, named `W1`, `b1`, ..., `Wout`, `bout`. */
export interface NamedTensor {
  readonly name: string;
  readonly values: Float64Array;
}

/**
 * The tensors of a gradient in the order W1, b1, W2, b2, ..., Wout, bout (the read-out's
 * last, left out when `readout` is false).
 */
export function gradientTensors(g: GradientArrays, options: { readonly readout?: boolean } = {}): NamedTensor[] {
  const out: NamedTensor[] = [];
  g.W.forEach((w, i) => {
    out.push({ name: `W${i + 1}`, values: w });
    out.push({ name: `b${i + 1}`, values: g.b[i] as Float64Array });
  });
  if (g.readout && (options.readout ?? true)) {
    out.push({ name: "Wout", values: g.readout.W });
    out.push({ name: "bout", values: g.readout.b });
  }
  return out;
}

/** How close an estimate is to a reference gradient, for one tensor (or `all` of them). */
export interface TensorAgreement {
  /** `W1`, `b1`, ..., `Wout`, `bout`, or `all` (every tensor as one vector). */
  readonly layer: string;
  /** g_est . g_ref / (||g_est|| ||g_ref||) (NaN when either is 0). */
  readonly cosine: number;
  /** ||g_est - g_ref|| / ||g_ref|| (0 when both are 0, Infinity when only g_ref is). */
  readonly relError: number;
  /** ||g_ref||. */
  readonly norm: number;
}

function agreement(layer: string, est: ArrayLike<number>, ref: ArrayLike<number>): TensorAgreement {
  let dot = 0;
  let ee = 0;
  let rr = 0;
  let dd = 0;
  for (let i = 0; i < ref.length; i++) {
    const e = est[i] as number;
    const r = ref[i] as number;
    dot += e * r;
    ee += e * e;
    rr += r * r;
    dd += (e - r) * (e - r);
  }
  const cosine = ee > 0 && rr > 0 ? dot / Math.sqrt(ee * rr) : Number.NaN;
  const relError = rr > 0 ? Math.sqrt(dd / rr) : dd === 0 ? 0 : Number.POSITIVE_INFINITY;
  return { layer, cosine, relError, norm: Math.sqrt(rr) };
}

function sqDist(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d += ((a[i] as number) - (b[i] as number)) ** 2;
  return d;
}

function concat(parts: readonly Float64Array[]): Float64Array {
  const out = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/**
 * Per tensor (W1, b1, ..., Wout, bout) and over all of them (`all`, last), the cosine
 * similarity and relative error of `estimate` against `reference`. With `readout: false`
 * the read-out's tensors are left out.
 */
export function compareGradients(estimate: GradientArrays, reference: GradientArrays, options: { readonly readout?: boolean } = {}): TensorAgreement[] {
  const est = gradientTensors(estimate, options);
  const ref = gradientTensors(reference, options);
  if (est.length !== ref.length || est.some((t, i) => t.values.length !== (ref[i] as NamedTensor).values.length)) {
    invalid("compareGradients", "estimate", est.map((t) => `${t.name}: ${t.values.length}`).join(", "), `the shapes of the reference (${ref.map((t) => `${t.name}: ${t.values.length}`).join(", ")})`);
  }
  const rows = est.map((t, i) => agreement(t.name, t.values, (ref[i] as NamedTensor).values));
  rows.push(agreement("all", concat(est.map((t) => t.values)), concat(ref.map((t) => t.values))));
  return rows;
}

/** Options of {@link createGradientCheckProblem}. */
export interface GradientCheckProblemOptions {
  /** The backend of the network (the float64 reference backend for a check). */
  readonly backend: Network["backend"];
  /** Sizes of the input and the relaxed layers, n_0 .. n_L. */
  readonly sizes: readonly number[];
  /** Classes of a read-out from the last relaxed layer (for a cost with a read-out). */
  readonly readoutClasses?: number;
  /** Examples in the minibatch. */
  readonly examples: number;
  /** Seed of the weights (stream 0), dt (stream 1) and the data (stream 2). */
  readonly seed: number;
  /** The time steps of layers 1..L. */
  readonly dt: DtSpec;
  /** Multiplies the Glorot-uniform weights W_l of the relaxed layers (default 0.3). */
  readonly weightScale?: number;
  /** Value of every bias b_l of the relaxed layers (default 0.4). */
  readonly bias?: number;
}

/** A small network and a seeded minibatch to check gradients on. */
export interface GradientCheckProblem {
  readonly network: Network;
  /** Inputs in [0, 1], examples x n_0 row-major. */
  readonly x: Float32Array;
  /** Class labels, uniform over the classes. */
  readonly labels: Uint8Array;
}

/**
 * A seeded problem for a gradient check: a network with Glorot weights scaled by
 * `weightScale` and biases `bias` (small weights and positive biases keep the free fixed
 * point inside the clip bounds, where the loss is smooth), a read-out with plain Glorot
 * weights and zero biases when `readoutClasses` is given, and synthetic inputs uniform in
 * [0, 1] with uniform labels.
 */
export function createGradientCheckProblem(options: GradientCheckProblemOptions): GradientCheckProblem {
  const w = "createGradientCheckProblem";
  const { backend, sizes, examples, seed } = options;
  if (!Number.isInteger(examples) || examples < 1) invalid(w, "examples", examples, "an integer >= 1");
  const scale = options.weightScale ?? 0.3;
  const bias = options.bias ?? 0.4;
  if (!Number.isFinite(scale)) invalid(w, "weightScale", scale, "a finite number");
  if (!Number.isFinite(bias)) invalid(w, "bias", bias, "a finite number");
  const base = createRng(seed);
  const dtRng = base.jump();
  const dataRng = dtRng.jump();
  const network = createNetwork({
    backend,
    sizes,
    dt: options.dt,
    weightRng: base,
    dtRng,
    ...(options.readoutClasses !== undefined ? { readoutClasses: options.readoutClasses } : {}),
  });
  for (const m of network.params.W) backend.write(m, Array.from(backend.read(m), (v) => scale * v));
  for (const m of network.params.b) backend.fill(m, bias);
  const n0 = sizes[0] as number;
  const x = new Float32Array(examples * n0);
  for (let i = 0; i < x.length; i++) x[i] = dataRng.uniform();
  const labels = new Uint8Array(examples);
  for (let i = 0; i < examples; i++) labels[i] = dataRng.int(0, network.classes - 1);
  return { network, x, labels };
}

/** What every check needs: a network, its energy, cost and update rule, and a minibatch. */
export interface CheckSetup {
  readonly network: Network;
  readonly energy: Energy;
  readonly cost: Cost;
  readonly dynamics: Dynamics;
  /** Inputs, examples x n_0 row-major. */
  readonly x: Float32Array;
  /** One class label per example. */
  readonly labels: ArrayLike<number>;
}

/** How relaxations are run to convergence. */
export interface ConvergenceOptions {
  /** A relaxation has converged when its dt-free residual is below this (default 1e-13). */
  readonly tolerance?: number;
  /** The most steps a relaxation may take (default 200000). */
  readonly maxSteps?: number;
  /** Steps between two residual checks (default 25). */
  readonly chunk?: number;
}

interface Bound {
  readonly energy: BoundEnergy;
  readonly cost: BoundCost;
  readonly relaxer: Relaxer;
  readonly x: Matrix;
  readonly y: Matrix;
  readonly batch: number;
}

function checkSetup(where: string, s: CheckSetup): number {
  checkCombination(s.energy, s.cost, s.dynamics, s.network);
  const B = s.labels.length;
  if (!Number.isInteger(B) || B < 1) invalid(where, "labels", B, "at least one label");
  const n0 = s.network.sizes[0] as number;
  if (s.x.length !== B * n0) invalid(where, "x", `${s.x.length} values`, `${B} x ${n0} = ${B * n0} values`);
  for (let i = 0; i < B; i++) {
    const c = s.labels[i] as number;
    if (!Number.isInteger(c) || c < 0 || c >= s.network.classes) invalid(where, `labels[${i}]`, c, `an integer in [0, ${s.network.classes - 1}]`);
  }
  return B;
}

function oneHot(labels: ArrayLike<number>, classes: number): Float64Array {
  const y = new Float64Array(labels.length * classes);
  for (let i = 0; i < labels.length; i++) y[i * classes + (labels[i] as number)] = 1;
  return y;
}

function rateOf(energy: Energy): ActivationKind | null {
  return energy.rate === undefined ? energy.activation : energy.rate;
}

function bind(where: string, s: CheckSetup): Bound {
  const batch = checkSetup(where, s);
  const { network } = s;
  const be = network.backend;
  const sizes = network.sizes;
  const energy = s.energy.bind(be, network.params, batch);
  const cost = s.cost.bind(be, {
    batch,
    units: sizes[sizes.length - 1] as number,
    classes: network.classes,
    rate: rateOf(s.energy),
    ...(network.readout ? { readout: network.readout } : {}),
  });
  const x = be.matrix(batch, sizes[0] as number, s.x);
  const y = be.matrix(batch, network.classes, oneHot(s.labels, network.classes));
  energy.setInput(x);
  const relaxer = new Relaxer({ backend: be, energy, cost, dt: network.dt, dynamics: s.dynamics, activation: s.energy.activation, sizes });
  relaxer.setTarget(y);
  return { energy, cost, relaxer, x, y, batch };
}

/** Runs `relaxer` until its dt-free residual at `beta` is below the tolerance, in chunks. */
function converge(relaxer: Relaxer, beta: number, phase: string, restart: () => void, o: ConvergenceOptions): { steps: number; residual: number } {
  const tol = o.tolerance ?? 1e-13;
  const max = o.maxSteps ?? 200_000;
  const chunk = o.chunk ?? 25;
  let steps = 0;
  let residual = relaxer.residual(beta);
  while (!(residual < tol) && steps < max) {
    const n = Math.min(chunk, max - steps);
    relaxer.relax({ phase, steps: n, beta, residual: false }, restart);
    steps += n;
    residual = relaxer.residual(beta);
  }
  return { steps, residual };
}

function hostCopy(a: ArrayLike<number>): Float64Array {
  return Float64Array.from(a as ArrayLike<number>);
}

function readGradients(network: Network, g: ParamGradients, readout: { W: Matrix; b: Matrix } | null): GradientArrays {
  const be = network.backend;
  return {
    W: g.W.map((m) => hostCopy(be.read(m))),
    b: g.b.map((m) => hostCopy(be.read(m))),
    readout: readout ? { W: hostCopy(be.read(readout.W)), b: hostCopy(be.read(readout.b)) } : null,
  };
}

/** Smallest distance of a state entry to a bound of rho's range (where the clip and the hard sigmoid's kinks are). */
function boundMargin(network: Network, state: readonly Matrix[], activation: ActivationKind): number {
  const [lo, hi] = activationRange(activation);
  let m = Number.POSITIVE_INFINITY;
  for (const s of state) for (const v of network.backend.read(s)) m = Math.min(m, v - lo, hi - v);
  return m;
}

/** Options of {@link finiteDifferenceGradient}. */
export interface FiniteDifferenceOptions extends ConvergenceOptions {
  /** The central-difference step h (default 1e-5). */
  readonly step?: number;
  /**
   * Run exactly this many free steps from s = 0 for every loss evaluation (the loss
   * L_T(theta) = C(s_T(theta)) of backpropagation through time), instead of relaxing to
   * the fixed point.
   */
  readonly steps?: number;
}

/** The finite-difference gradient of the loss and how its relaxations went. */
export interface FiniteDifferenceResult {
  readonly gradient: GradientArrays;
  /** The step h. */
  readonly step: number;
  /** L(theta), the batch-mean cost at the free state. */
  readonly loss: number;
  /** Steps of the unperturbed free phase from s = 0 (a multiple of the chunk), or the fixed T. */
  readonly freeSteps: number;
  /** Its dt-free residual. */
  readonly freeResidual: number;
  /** Relaxations run for the perturbed parameters (a read-out parameter needs none). */
  readonly relaxations: number;
  /** The most steps one of them took, and the largest final residual among them. */
  readonly maxSteps: number;
  readonly maxResidual: number;
  /** Whether every relaxation reached the tolerance (always true with a fixed T). */
  readonly converged: boolean;
  /** Smallest distance of a free-state entry to a bound of rho's range (the loss is not smooth there). */
  readonly boundMargin: number;
}

/**
 * The gradient of L(theta) = C(s*(theta)) (the batch-mean cost at the free fixed point) by
 * central finite differences, (L(theta + h e_i) - L(theta - h e_i)) / 2h, for every weight
 * and bias, the read-out's included. Each perturbed relaxation starts from the unperturbed
 * fixed point (unique for small weights) and runs until its dt-free residual is below the
 * tolerance, checked every `chunk` steps; a read-out parameter does not change the state,
 * so its loss needs no relaxation. With `steps`, every loss is C(s_T) after exactly that
 * many steps from s = 0 instead (the loss through time that BPTT differentiates).
 */
export function finiteDifferenceGradient(setup: CheckSetup, options: FiniteDifferenceOptions = {}): FiniteDifferenceResult {
  const where = "finiteDifferenceGradient";
  const h = options.step ?? 1e-5;
  if (!(Number.isFinite(h) && h > 0)) invalid(where, "step", h, "a finite number > 0");
  const fixedT = options.steps;
  if (fixedT !== undefined && !(Number.isInteger(fixedT) && fixedT >= 1)) invalid(where, "steps", fixedT, "an integer >= 1");
  const tol = options.tolerance ?? 1e-13;
  const { network } = setup;
  const be = network.backend;
  const b = bind(where, setup);
  const L = network.sizes.length - 1;
  const base = allocState(be, network.sizes, b.batch);
  const top = () => b.relaxer.state[L - 1] as Matrix;
  const restartFromZero = () => b.relaxer.reset();
  const restartFromBase = () => b.relaxer.load(base);

  b.relaxer.reset();
  let free: { steps: number; residual: number };
  if (fixedT !== undefined) {
    b.relaxer.relax({ phase: "free", steps: fixedT, beta: 0, residual: false }, restartFromZero);
    free = { steps: fixedT, residual: b.relaxer.residual(0) };
  } else {
    free = converge(b.relaxer, 0, "free", restartFromZero, options);
  }
  b.relaxer.save(base);
  const loss = b.cost.value(top(), b.y);
  const margin = boundMargin(network, base, setup.energy.activation);

  let relaxations = 0;
  let maxSteps = 0;
  let maxResidual = 0;
  let converged = fixedT !== undefined || free.residual < tol;
  const lossAt = (relax: boolean): number => {
    if (!relax) {
      b.relaxer.load(base);
      return b.cost.value(top(), b.y);
    }
    relaxations++;
    if (fixedT !== undefined) {
      b.relaxer.reset();
      b.relaxer.relax({ phase: "free", steps: fixedT, beta: 0, residual: false }, restartFromZero);
    } else {
      b.relaxer.load(base);
      const r = converge(b.relaxer, 0, "free", restartFromBase, options);
      maxSteps = Math.max(maxSteps, r.steps);
      maxResidual = Math.max(maxResidual, r.residual);
      if (!(r.residual < tol)) converged = false;
    }
    return b.cost.value(top(), b.y);
  };
  const differentiate = (m: Matrix, relax: boolean): Float64Array => {
    const v = hostCopy(be.read(m));
    const g = new Float64Array(v.length);
    for (let i = 0; i < v.length; i++) {
      const orig = v[i] as number;
      v[i] = orig + h;
      be.write(m, v);
      if (relax) b.energy.setInput(b.x);
      const lp = lossAt(relax);
      v[i] = orig - h;
      be.write(m, v);
      if (relax) b.energy.setInput(b.x);
      const lm = lossAt(relax);
      v[i] = orig;
      be.write(m, v);
      g[i] = (lp - lm) / (2 * h);
    }
    if (relax) b.energy.setInput(b.x);
    return g;
  };
  const W = network.params.W.map((m) => differentiate(m, true));
  const bias = network.params.b.map((m) => differentiate(m, true));
  const readout = network.readout ? { W: differentiate(network.readout.W, false), b: differentiate(network.readout.b, false) } : null;
  return {
    gradient: { W, b: bias, readout },
    step: h,
    loss,
    freeSteps: free.steps,
    freeResidual: free.residual,
    relaxations,
    maxSteps,
    maxResidual,
    converged,
    boundMargin: margin,
  };
}

/** Options of {@link epEstimate}. */
export interface EpEstimateOptions extends ConvergenceOptions {
  readonly beta: number;
  readonly nudge: CheckNudge;
  /** Free-phase steps T1 from s = 0. */
  readonly t1: number;
  /**
   * Nudged-phase steps T2 from the free state; default: the steps the nudged phase (both
   * signs for symmetric nudging) needs to reach the residual tolerance, counted in chunks.
   */
  readonly t2?: number;
}

/** The library's EP estimate and the residuals of its phases. */
export interface EpEstimateResult {
  readonly gradient: GradientArrays;
  /** The steps used. */
  readonly t1: number;
  readonly t2: number;
  /** The dt-free residual at the end of the free phase (as the trainer reports it). */
  readonly freeResidual: number;
  /**
   * The dt-free residual at beta after T2 nudged steps from the free state (for symmetric
   * nudging the larger of those at +beta and -beta), from a relaxation identical to the
   * trainer's.
   */
  readonly nudgedResidual: number;
}

/**
 * The EP gradient estimate of {@link Trainer.estimate}, the library's code path: a trainer
 * with these settings and no tolerance (the free phase runs exactly T1 steps from s = 0,
 * each nudged phase exactly T2 steps from the free state). The same phases are replayed
 * through a {@link Relaxer} to measure their final dt-free residuals (and, without `t2`, to
 * find the steps the nudged phases need).
 */
export function epEstimate(setup: CheckSetup, options: EpEstimateOptions): EpEstimateResult {
  const where = "epEstimate";
  const B = checkSetup(where, setup);
  const { network, energy, cost, dynamics } = setup;
  const { beta, nudge, t1 } = options;
  const b = bind(where, setup);
  const free = allocState(network.backend, network.sizes, B);
  b.relaxer.reset();
  b.relaxer.relax({ phase: "free", steps: t1, beta: 0, residual: false }, () => b.relaxer.reset());
  b.relaxer.save(free);
  const signs = nudge === "symmetric" ? [1, -1] : [1];
  let t2 = options.t2;
  let nudgedResidual = 0;
  if (t2 === undefined) {
    t2 = 1;
    for (const sign of signs) {
      b.relaxer.load(free);
      t2 = Math.max(t2, converge(b.relaxer, sign * beta, "nudged", () => b.relaxer.load(free), options).steps);
    }
  }
  for (const sign of signs) {
    b.relaxer.load(free);
    b.relaxer.relax({ phase: "nudged", steps: t2, beta: sign * beta, residual: false }, () => b.relaxer.load(free));
    nudgedResidual = Math.max(nudgedResidual, b.relaxer.residual(sign * beta));
  }
  const layers = network.params.W.length + (network.readout ? 1 : 0);
  const trainer = createTrainer({
    network,
    energy,
    cost,
    config: { t1, t2, beta, nudge, dynamics, batch: B, optimizer: { name: "sgd", lr: new Array(layers).fill(1) } },
  });
  const e = trainer.estimate(setup.x, setup.labels);
  const gradient: GradientArrays = {
    W: e.W.map(hostCopy),
    b: e.b.map(hostCopy),
    readout: e.readout ? { W: hostCopy(e.readout.W), b: hostCopy(e.readout.b) } : null,
  };
  return { gradient, t1, t2, freeResidual: e.freeResidual, nudgedResidual };
}

// ---------------------------------------------------------------------------------------
// Backpropagation through time, by hand, in float64 on the host.
// ---------------------------------------------------------------------------------------

function rho(kind: ActivationKind, u: number): number {
  if (kind === "hard-sigmoid") return Math.min(Math.max(u, 0), 1);
  if (kind === "sigmoid") return 1 / (1 + Math.exp(-4 * (u - 0.5)));
  return Math.tanh(u);
}

/** rho'(u); for the hard sigmoid 1 on the closed interval [0, 1] (the library's convention). */
function rhoPrime(kind: ActivationKind, u: number): number {
  if (kind === "hard-sigmoid") return u >= 0 && u <= 1 ? 1 : 0;
  if (kind === "sigmoid") {
    const r = 1 / (1 + Math.exp(-4 * (u - 0.5)));
    return 4 * r * (1 - r);
  }
  const t = Math.tanh(u);
  return 1 - t * t;
}

/** rho''(u) (0 for the piecewise linear hard sigmoid). */
function rhoSecond(kind: ActivationKind, u: number): number {
  if (kind === "hard-sigmoid") return 0;
  if (kind === "sigmoid") {
    const r = 1 / (1 + Math.exp(-4 * (u - 0.5)));
    return 16 * r * (1 - r) * (1 - 2 * r);
  }
  const t = Math.tanh(u);
  return -2 * t * (1 - t * t);
}

/**
 * The free dynamics of a built-in layered energy, on the host in float64: the model that
 * {@link bpttGradient} differentiates. a(s) = rho(s) (Hopfield) or s (primitive) for the
 * relaxed layers, a(s_0) = x; n_l = a(s_{l-1}) W_l + a(s_{l+1}) W_{l+1}^T + b_l; the
 * gradient rule s <- clip(s - dt (.) (s - a'(s) (.) n)), the leaky rule
 * s <- s + dt (.) (rho(n) - s); all layers from the previous state (`sync` order).
 */
class HostModel {
  readonly sizes: readonly number[];
  readonly L: number;
  readonly B: number;
  readonly W: Float64Array[];
  readonly b: Float64Array[];
  readonly dt: Float64Array[];
  readonly x: Float64Array;
  readonly y: Float64Array;
  readonly readout: { readonly W: Float64Array; readonly b: Float64Array; readonly classes: number } | null;
  readonly kind: ActivationKind;
  readonly rhoOfState: boolean;
  readonly rule: Dynamics;
  readonly cost: "mse" | "ce";
  readonly rate: ActivationKind | null;
  readonly lo: number;
  readonly hi: number;

  constructor(setup: CheckSetup, batch: number) {
    const { network, energy, cost } = setup;
    const be = network.backend;
    if (energy.name !== "hopfield" && energy.name !== "primitive") {
      invalid("bpttGradient", "energy", energy.name, "a built-in layered energy (hopfield or primitive): the hand-written BPTT knows only those");
    }
    if (cost.name !== "mse" && cost.name !== "ce") invalid("bpttGradient", "cost", cost.name, "a built-in cost (mse or ce)");
    this.rhoOfState = energy.name === "hopfield";
    this.rate = rateOf(energy);
    if ((this.rate === null) === this.rhoOfState) {
      invalid("bpttGradient", "energy.rate", this.rate, this.rhoOfState ? "the activation (Hopfield states)" : "null (primitive states are rates)");
    }
    this.sizes = [...network.sizes];
    this.L = network.sizes.length - 1;
    this.B = batch;
    this.W = network.params.W.map((m) => hostCopy(be.read(m)));
    this.b = network.params.b.map((m) => hostCopy(be.read(m)));
    this.dt = network.dt.map((m) => hostCopy(be.read(m)));
    this.x = hostCopy(setup.x);
    this.y = oneHot(setup.labels, network.classes);
    this.readout = network.readout ? { W: hostCopy(be.read(network.readout.W)), b: hostCopy(be.read(network.readout.b)), classes: network.classes } : null;
    this.kind = energy.activation;
    this.rule = setup.dynamics;
    this.cost = cost.name;
    [this.lo, this.hi] = activationRange(energy.activation);
  }

  n(l: number): number {
    return this.sizes[l] as number;
  }

  /** a(s_l) for every layer, index 0 the input x. */
  activations(s: readonly Float64Array[]): Float64Array[] {
    return [this.x, ...s.map((v) => (this.rhoOfState ? v.map((u) => rho(this.kind, u)) : v))];
  }

  /** a'(s_l) for layers 1..L (index l - 1). */
  activationSlopes(s: readonly Float64Array[]): Float64Array[] {
    return s.map((v) => (this.rhoOfState ? v.map((u) => rhoPrime(this.kind, u)) : new Float64Array(v.length).fill(1)));
  }

  /** n_l for layers 1..L (index l - 1) from the activations a (index 0 the input). */
  neighbour(a: readonly Float64Array[]): Float64Array[] {
    const { B, L } = this;
    const out: Float64Array[] = [];
    for (let l = 1; l <= L; l++) {
      const nl = this.n(l);
      const below = this.n(l - 1);
      const W = this.W[l - 1] as Float64Array;
      const bl = this.b[l - 1] as Float64Array;
      const al = a[l - 1] as Float64Array;
      const o = new Float64Array(B * nl);
      for (let r = 0; r < B; r++) {
        for (let j = 0; j < nl; j++) {
          let acc = bl[j] as number;
          for (let i = 0; i < below; i++) acc += (al[r * below + i] as number) * (W[i * nl + j] as number);
          o[r * nl + j] = acc;
        }
      }
      if (l < L) {
        const above = this.n(l + 1);
        const Wa = this.W[l] as Float64Array;
        const aa = a[l + 1] as Float64Array;
        for (let r = 0; r < B; r++) {
          for (let j = 0; j < nl; j++) {
            let acc = 0;
            for (let k = 0; k < above; k++) acc += (aa[r * above + k] as number) * (Wa[j * above + k] as number);
            o[r * nl + j] = (o[r * nl + j] as number) + acc;
          }
        }
      }
      out.push(o);
    }
    return out;
  }

  /** One free step from s. */
  step(s: readonly Float64Array[]): Float64Array[] {
    const a = this.activations(s);
    const N = this.neighbour(a);
    const slope = this.activationSlopes(s);
    return s.map((v, li) => {
      const nl = this.n(li + 1);
      const dt = this.dt[li] as Float64Array;
      const n = N[li] as Float64Array;
      const d = slope[li] as Float64Array;
      const out = new Float64Array(v.length);
      for (let i = 0; i < v.length; i++) {
        const si = v[i] as number;
        const dti = dt[i % nl] as number;
        if (this.rule === "gradient") {
          const u = si - dti * (si - (d[i] as number) * (n[i] as number));
          out[i] = Math.min(Math.max(u, this.lo), this.hi);
        } else {
          out[i] = si + dti * (rho(this.kind, n[i] as number) - si);
        }
      }
      return out;
    });
  }

  /** The free states s_0 = 0, s_1, ..., s_T. */
  forward(T: number): Float64Array[][] {
    const states: Float64Array[][] = [this.sizes.slice(1).map((n) => new Float64Array(this.B * n))];
    for (let t = 0; t < T; t++) states.push(this.step(states[t] as Float64Array[]));
    return states;
  }

  /** The top layer's rate r(s) and slope r'(s) as the cost sees them. */
  #rate(s: Float64Array): { r: Float64Array; d: Float64Array } {
    const k = this.rate;
    if (k === null) return { r: s, d: new Float64Array(s.length).fill(1) };
    return { r: s.map((u) => rho(k, u)), d: s.map((u) => rhoPrime(k, u)) };
  }

  /** o - y of the read-out (B x classes) and h = r(s_H). */
  #readoutError(s: Float64Array): { e: Float64Array; h: Float64Array; hd: Float64Array } {
    const ro = this.readout as NonNullable<HostModel["readout"]>;
    const { B } = this;
    const H = this.n(this.L);
    const K = ro.classes;
    const { r: h, d: hd } = this.#rate(s);
    const e = new Float64Array(B * K);
    for (let r = 0; r < B; r++) {
      const z = new Float64Array(K);
      for (let k = 0; k < K; k++) {
        let acc = ro.b[k] as number;
        for (let j = 0; j < H; j++) acc += (h[r * H + j] as number) * (ro.W[j * K + k] as number);
        z[k] = acc;
      }
      const max = Math.max(...z);
      let total = 0;
      for (let k = 0; k < K; k++) {
        z[k] = Math.exp((z[k] as number) - max);
        total += z[k] as number;
      }
      for (let k = 0; k < K; k++) e[r * K + k] = (z[k] as number) / total - (this.y[r * K + k] as number);
    }
    return { e, h, hd };
  }

  /** d(mean cost)/ds_L per example (already divided by B), and the read-out's direct gradient. */
  costGradient(sTop: Float64Array): { c: Float64Array; readout: { W: Float64Array; b: Float64Array } | null } {
    const { B } = this;
    const H = this.n(this.L);
    if (this.cost === "mse") {
      const { r, d } = this.#rate(sTop);
      return { c: r.map((v, i) => ((d[i] as number) * (v - (this.y[i] as number))) / B), readout: null };
    }
    const ro = this.readout as NonNullable<HostModel["readout"]>;
    const K = ro.classes;
    const { e, h, hd } = this.#readoutError(sTop);
    const c = new Float64Array(B * H);
    const gW = new Float64Array(H * K);
    const gb = new Float64Array(K);
    for (let r = 0; r < B; r++) {
      for (let j = 0; j < H; j++) {
        let acc = 0;
        for (let k = 0; k < K; k++) {
          const ek = e[r * K + k] as number;
          acc += ek * (ro.W[j * K + k] as number);
          gW[j * K + k] = (gW[j * K + k] as number) + ((h[r * H + j] as number) * ek) / B;
        }
        c[r * H + j] = ((hd[r * H + j] as number) * acc) / B;
      }
      for (let k = 0; k < K; k++) gb[k] = (gb[k] as number) + (e[r * K + k] as number) / B;
    }
    return { c, readout: { W: gW, b: gb } };
  }

  /**
   * One reverse step through s' = f(s): from lambda' = dL/ds' returns dL/ds and adds
   * (df/dtheta)^T lambda' to gW, gb.
   */
  reverse(s: readonly Float64Array[], lam: readonly Float64Array[], gW: Float64Array[], gb: Float64Array[]): Float64Array[] {
    const { B, L } = this;
    const a = this.activations(s);
    const N = this.neighbour(a);
    const slope = this.activationSlopes(s);
    // w_l = (df_l/dn_l) lambda'_l: a'(s) dt mask lambda' (gradient rule), rho'(n) dt lambda' (leaky).
    const w: Float64Array[] = [];
    const direct: Float64Array[] = [];
    for (let li = 0; li < L; li++) {
      const nl = this.n(li + 1);
      const v = s[li] as Float64Array;
      const lm = lam[li] as Float64Array;
      const dt = this.dt[li] as Float64Array;
      const n = N[li] as Float64Array;
      const d = slope[li] as Float64Array;
      const wl = new Float64Array(v.length);
      const dl = new Float64Array(v.length);
      for (let i = 0; i < v.length; i++) {
        const dti = dt[i % nl] as number;
        const si = v[i] as number;
        if (this.rule === "gradient") {
          const u = si - dti * (si - (d[i] as number) * (n[i] as number));
          const mu = u >= this.lo && u <= this.hi ? (lm[i] as number) : 0;
          const nu = dti * mu;
          wl[i] = (d[i] as number) * nu;
          const second = this.rhoOfState ? rhoSecond(this.kind, si) : 0;
          dl[i] = mu - nu + second * (n[i] as number) * nu;
        } else {
          const mu = dti * (lm[i] as number);
          wl[i] = rhoPrime(this.kind, n[i] as number) * mu;
          dl[i] = (lm[i] as number) - mu;
        }
      }
      w.push(wl);
      direct.push(dl);
    }
    const out: Float64Array[] = [];
    for (let l = 1; l <= L; l++) {
      const nl = this.n(l);
      const back = new Float64Array(B * nl);
      if (l < L) {
        // w_{l+1} W_{l+1}^T
        const above = this.n(l + 1);
        const Wa = this.W[l] as Float64Array;
        const wa = w[l] as Float64Array;
        for (let r = 0; r < B; r++) {
          for (let j = 0; j < nl; j++) {
            let acc = 0;
            for (let k = 0; k < above; k++) acc += (wa[r * above + k] as number) * (Wa[j * above + k] as number);
            back[r * nl + j] = acc;
          }
        }
      }
      if (l > 1) {
        // w_{l-1} W_l
        const below = this.n(l - 1);
        const Wl = this.W[l - 1] as Float64Array;
        const wb = w[l - 2] as Float64Array;
        for (let r = 0; r < B; r++) {
          for (let j = 0; j < nl; j++) {
            let acc = 0;
            for (let i = 0; i < below; i++) acc += (wb[r * below + i] as number) * (Wl[i * nl + j] as number);
            back[r * nl + j] = (back[r * nl + j] as number) + acc;
          }
        }
      }
      const d = slope[l - 1] as Float64Array;
      const dl = direct[l - 1] as Float64Array;
      out.push(dl.map((v, i) => v + (d[i] as number) * (back[i] as number)));
      // dW_l += a(s_{l-1})^T w_l + w_{l-1}^T a(s_l); db_l += sum_batch w_l.
      const below = this.n(l - 1);
      const G = gW[l - 1] as Float64Array;
      const g = gb[l - 1] as Float64Array;
      const wl = w[l - 1] as Float64Array;
      const aBelow = a[l - 1] as Float64Array;
      const aHere = a[l] as Float64Array;
      const wBelow = l > 1 ? (w[l - 2] as Float64Array) : null;
      for (let r = 0; r < B; r++) {
        for (let i = 0; i < below; i++) {
          for (let j = 0; j < nl; j++) {
            let v = (aBelow[r * below + i] as number) * (wl[r * nl + j] as number);
            if (wBelow) v += (wBelow[r * below + i] as number) * (aHere[r * nl + j] as number);
            G[i * nl + j] = (G[i * nl + j] as number) + v;
          }
        }
        for (let j = 0; j < nl; j++) g[j] = (g[j] as number) + (wl[r * nl + j] as number);
      }
    }
    return out;
  }

  /** The batch-mean cost at a top state. */
  loss(sTop: Float64Array): number {
    const { B } = this;
    if (this.cost === "mse") {
      const { r } = this.#rate(sTop);
      let total = 0;
      r.forEach((v, i) => {
        total += 0.5 * (v - (this.y[i] as number)) ** 2;
      });
      return total / B;
    }
    // e = o - y, so o = e + 1 at the target class.
    const { e } = this.#readoutError(sTop);
    let total = 0;
    for (let i = 0; i < e.length; i++) if ((this.y[i] as number) !== 0) total -= Math.log(Math.max((e[i] as number) + 1, 1e-300));
    return total / B;
  }
}

/** Options of {@link bpttGradient}. */
export interface BpttOptions {
  /** Free steps T from s = 0; the loss is C(s_T). */
  readonly steps: number;
  /** Backpropagate through the last `truncate` steps only (default all T). */
  readonly truncate?: number;
}

/** Backpropagation through time of the free phase. */
export interface BpttResult {
  /** The gradient of C(s_T) through all the steps backpropagated (read-out: the direct dC/dtheta at s_T). */
  readonly gradient: GradientArrays;
  /**
   * Cumulative gradients through the last k steps, k = 1..K (index k - 1), W_l and b_l only
   * (the read-out's gradient is direct, not through time; it is in `gradient`).
   */
  readonly curve: readonly GradientArrays[];
  /** The host's free states s_T (layers 1..L). */
  readonly final: readonly Float64Array[];
  /** C(s_T) on the host. */
  readonly loss: number;
}

/**
 * Backpropagation through time of L = C(s_T) through the Euler steps of the free phase, by
 * hand in float64 on the host, for the built-in layered energies (hopfield, primitive) and
 * costs (mse, ce): the forward pass stores s_0 = 0 .. s_T, the reverse pass runs
 * lambda_T = dC/ds_T, lambda_t = (ds_{t+1}/ds_t)^T lambda_{t+1} and accumulates
 * (ds_{t+1}/dtheta)^T lambda_{t+1}. The gradient rule's clip has derivative 0 where it
 * clips (1 on the closed range).
 */
export function bpttGradient(setup: CheckSetup, options: BpttOptions): BpttResult {
  const B = checkSetup("bpttGradient", setup);
  const T = options.steps;
  if (!(Number.isInteger(T) && T >= 1)) invalid("bpttGradient", "steps", T, "an integer >= 1");
  const K = options.truncate ?? T;
  if (!(Number.isInteger(K) && K >= 1 && K <= T)) invalid("bpttGradient", "truncate", K, `an integer in [1, ${T}]`);
  const m = new HostModel(setup, B);
  const states = m.forward(T);
  const final = states[T] as Float64Array[];
  const { c, readout } = m.costGradient(final[m.L - 1] as Float64Array);
  let lam: Float64Array[] = final.map((v, i) => (i === m.L - 1 ? c : new Float64Array(v.length)));
  const gW = m.W.map((w) => new Float64Array(w.length));
  const gb = m.b.map((b) => new Float64Array(b.length));
  const curve: GradientArrays[] = [];
  for (let k = 1; k <= K; k++) {
    lam = m.reverse(states[T - k] as Float64Array[], lam, gW, gb);
    curve.push({ W: gW.map((v) => v.slice()), b: gb.map((v) => v.slice()), readout: null });
  }
  return { gradient: { W: gW, b: gb, readout }, curve, final, loss: m.loss(final[m.L - 1] as Float64Array) };
}

/** Options of {@link gduCurves}. */
export interface GduOptions {
  /** Nudged steps K of the curves (default 20). */
  readonly steps?: number;
  /** Nudging strength (default 1e-3). */
  readonly beta?: number;
  /** One-sided or symmetric nudging (default symmetric). */
  readonly nudge?: CheckNudge;
  /** Free steps T (the free phase must be converged: its residual is reported). */
  readonly freeSteps: number;
}

/** The GDU comparison of one tensor. */
export interface GduTensor {
  readonly layer: string;
  /**
   * ||g_EP(k) - g_BPTT(k)|| / ||g_BPTT(k)|| for k = 1..K (index k - 1). Where g_BPTT(k) is
   * exactly 0 (the nudge has not reached the tensor within k steps), the denominator is
   * ||g_BPTT(K)|| instead.
   */
  readonly relError: readonly number[];
  /** The largest of them. */
  readonly max: number;
  /**
   * The curves projected on the final BPTT gradient, <g(k), g_BPTT(K)> / ||g_BPTT(K)||^2,
   * for k = 0..K (both start at 0; BPTT ends at 1).
   */
  readonly ep: readonly number[];
  readonly bptt: readonly number[];
  /** ||g_BPTT(K)||. */
  readonly norm: number;
}

/** Ernoult et al.'s GDU check. */
export interface GduResult {
  readonly steps: number;
  readonly beta: number;
  readonly nudge: CheckNudge;
  readonly freeSteps: number;
  /** The dt-free residual of the library's free state. */
  readonly freeResidual: number;
  /** max |s_T(host) - s_T(library)| of the free phase: the hand-written forward pass against the library's relaxation. */
  readonly forwardMismatch: number;
  /** Largest relative difference, over the tensors, between {@link Trainer.estimate} with T2 = K and the EP curve at k = K. */
  readonly estimateMismatch: number;
  /** Per tensor W1, b1, ..., W_L, b_L (the read-out's are left out: their gradient is direct, not through time). */
  readonly layers: readonly GduTensor[];
  /** The largest relative error over the tensors and k. */
  readonly max: number;
}

/**
 * Ernoult et al. (2019)'s gradient-descending updates, in the sign of a gradient (what the
 * optimizer descends, as {@link Trainer.estimate} returns it). From the converged free state
 * s^0 = s_T, the nudged phase at beta (and -beta for symmetric nudging) runs one step at a
 * time through the library's {@link Relaxer}; the EP update of nudged step k is
 *   Delta_EP(k) = (dE/dtheta(s^beta_k) - dE/dtheta(s^beta_{k-1})) / beta
 * (symmetric: (dE/dtheta(s^beta_k) - dE/dtheta(s^beta_{k-1}) - dE/dtheta(s^-beta_k) +
 * dE/dtheta(s^-beta_{k-1})) / 2 beta), whose cumulative sum g_EP(k) is the EP estimate after
 * k nudged steps. Its counterpart g_BPTT(k) is the gradient of L = C(s_T) accumulated
 * through the last k free steps only ({@link bpttGradient}). As beta -> 0 with the free
 * phase at its fixed point the two coincide step by step. The read-out's W_out, b_out are
 * left out: the cost reads them directly, not through time (part (a) checks them).
 */
export function gduCurves(setup: CheckSetup, options: GduOptions): GduResult {
  const where = "gduCurves";
  const K = options.steps ?? 20;
  const beta = options.beta ?? 1e-3;
  const nudge = options.nudge ?? "symmetric";
  const T = options.freeSteps;
  if (!(Number.isInteger(K) && K >= 1)) invalid(where, "steps", K, "an integer >= 1");
  if (!(Number.isFinite(beta) && beta > 0)) invalid(where, "beta", beta, "a finite number > 0");
  if (!CHECK_NUDGES.includes(nudge)) invalid(where, "nudge", nudge, CHECK_NUDGES.join(" | "));
  if (!(Number.isInteger(T) && T >= K)) invalid(where, "freeSteps", T, `an integer >= steps (${K})`);
  const { network } = setup;
  const be = network.backend;
  const b = bind(where, setup);
  const L = network.sizes.length - 1;
  const free = allocState(be, network.sizes, b.batch);
  b.relaxer.reset();
  b.relaxer.relax({ phase: "free", steps: T, beta: 0, residual: false }, () => b.relaxer.reset());
  const freeResidual = b.relaxer.residual(0);
  b.relaxer.save(free);
  const grads = allocParamGradients(be, network.sizes);
  const dEdTheta = (): GradientArrays => {
    b.energy.paramGradient(b.relaxer.state, grads);
    return readGradients(network, grads, null);
  };
  /** dE/dtheta at s^beta_k for k = 0..K. */
  const phase = (signed: number): GradientArrays[] => {
    b.relaxer.load(free);
    const out = [dEdTheta()];
    for (let k = 1; k <= K; k++) {
      b.relaxer.relax({ phase: signed > 0 ? "nudged" : "nudged-negative", steps: 1, beta: signed, residual: false }, () => b.relaxer.load(free));
      out.push(dEdTheta());
    }
    return out;
  };
  const plus = phase(beta);
  const minus = nudge === "symmetric" ? phase(-beta) : null;
  const diff = (k: number): GradientArrays => {
    const p = plus[k] as GradientArrays;
    const q = minus ? (minus[k] as GradientArrays) : (plus[0] as GradientArrays);
    const s = minus ? 2 * beta : beta;
    const sub = (a: readonly Float64Array[], c: readonly Float64Array[]) => a.map((v, i) => v.map((x, j) => (x - ((c[i] as Float64Array)[j] as number)) / s));
    return { W: sub(p.W, q.W), b: sub(p.b, q.b), readout: null };
  };
  const epCurve = Array.from({ length: K }, (_, i) => diff(i + 1));

  const bptt = bpttGradient(setup, { steps: T, truncate: K });
  let forwardMismatch = 0;
  for (let l = 0; l < L; l++) {
    const lib = be.read(free[l] as Matrix);
    const host = bptt.final[l] as Float64Array;
    for (let i = 0; i < host.length; i++) forwardMismatch = Math.max(forwardMismatch, Math.abs((host[i] as number) - (lib[i] as number)));
  }

  // The library's estimate with T2 = K is the EP curve at k = K.
  const lib = epEstimate(setup, { beta, nudge, t1: T, t2: K }).gradient;
  const estimateMismatch = Math.max(
    ...compareGradients({ ...lib, readout: null }, epCurve[K - 1] as GradientArrays)
      .filter((r) => r.layer !== "all")
      .map((r) => r.relError),
  );

  const names = gradientTensors(epCurve[0] as GradientArrays).map((t) => t.name);
  const layers: GduTensor[] = names.map((name, ti) => {
    const pick = (g: GradientArrays) => (gradientTensors(g)[ti] as NamedTensor).values;
    const ref = pick(bptt.curve[K - 1] as GradientArrays);
    let rr = 0;
    for (const v of ref) rr += v * v;
    const project = (v: Float64Array) => {
      let d = 0;
      for (let i = 0; i < v.length; i++) d += (v[i] as number) * (ref[i] as number);
      return rr > 0 ? d / rr : 0;
    };
    // Where the nudge has not reached the tensor yet, g_BPTT(k) is exactly 0: the error is
    // then measured against the curve's scale ||g_BPTT(K)||.
    const relError = epCurve.map((g, k) => {
      const ep = pick(g);
      const bp = pick(bptt.curve[k] as GradientArrays);
      const a = agreement(name, ep, bp);
      return a.norm > 0 || rr === 0 ? a.relError : Math.sqrt(sqDist(ep, bp) / rr);
    });
    return {
      layer: name,
      relError,
      max: Math.max(...relError),
      ep: [0, ...epCurve.map((g) => project(pick(g)))],
      bptt: [0, ...bptt.curve.map((g) => project(pick(g)))],
      norm: Math.sqrt(rr),
    };
  });
  return { steps: K, beta, nudge, freeSteps: T, freeResidual, forwardMismatch, estimateMismatch, layers, max: Math.max(...layers.map((l) => l.max)) };
}

// ---------------------------------------------------------------------------------------
// The whole check.
// ---------------------------------------------------------------------------------------

/** Options of {@link checkGradient}. */
export interface GradientCheckOptions extends CheckSetup {
  /** The betas of part (a) (default {@link DEFAULT_CHECK_BETAS}); `targetBeta` is added when missing. */
  readonly betas?: readonly number[];
  /** Central-difference step (default 1e-5). */
  readonly fdStep?: number;
  /** Residual tolerance, step cap and check interval of every converged relaxation. */
  readonly convergence?: ConvergenceOptions;
  /** The beta at which the cosine target applies (symmetric nudging; default 0.01). */
  readonly targetBeta?: number;
  /** The cosine every tensor must reach at `targetBeta`, symmetric (default 0.999). */
  readonly minCosine?: number;
  /** The GDU check (part b), or null to skip it. */
  readonly gdu?: { readonly steps?: number; readonly beta?: number; readonly nudge?: CheckNudge; readonly tolerance?: number } | null;
}

/** Part (a) at one beta and nudging. */
export interface EpRow {
  readonly beta: number;
  readonly nudge: CheckNudge;
  /** Nudged-phase steps (those needed to converge). */
  readonly t2: number;
  /** Per tensor and `all`, against the finite-difference gradient. */
  readonly layers: readonly TensorAgreement[];
  readonly freeResidual: number;
  readonly nudgedResidual: number;
}

/** The targets and whether they hold. */
export interface GradientCheckTargets {
  readonly beta: number;
  readonly minCosine: number;
  /** The smallest cosine over the tensors at `beta`, symmetric, and the tensor. */
  readonly cosine: number;
  readonly cosineLayer: string;
  readonly cosinePassed: boolean;
  /** The GDU bound (null when the GDU check is skipped). */
  readonly gduTolerance: number | null;
  readonly gduMax: number | null;
  /**
   * Whether the GDU curves coincide within the bound; null when not asserted (the GDU check
   * was skipped). The bound applies to every update rule.
   */
  readonly gduPassed: boolean | null;
  /** Every relaxation reached the residual tolerance, and the host's forward pass matches the library's. */
  readonly converged: boolean;
  readonly passed: boolean;
  /** One line per target that failed. */
  readonly failures: readonly string[];
}

/** The report of {@link checkGradient}. */
export interface GradientCheckReport {
  readonly combination: { readonly energy: string; readonly activation: ActivationKind; readonly dynamics: Dynamics; readonly cost: string };
  /** n_0 .. n_L of the relaxed layers. */
  readonly sizes: readonly number[];
  readonly classes: number;
  readonly examples: number;
  readonly tolerance: number;
  readonly finiteDifference: Omit<FiniteDifferenceResult, "gradient">;
  /** Free-phase steps of the library's estimates and of the GDU check (those the free phase needed to converge). */
  readonly t1: number;
  readonly ep: readonly EpRow[];
  readonly gdu: GduResult | null;
  readonly targets: GradientCheckTargets;
}

/**
 * Runs both checks: (a) the library's EP estimate ({@link epEstimate}) against the
 * finite-difference gradient of the loss at the free fixed point
 * ({@link finiteDifferenceGradient}), for every beta, one-sided and symmetric, with T1 and
 * T2 the steps the free and the nudged phases need to reach the residual tolerance; (b) the GDU curves ({@link gduCurves}) with the same free phase. The targets:
 * at `targetBeta`, symmetric, every tensor's cosine >= `minCosine`; the GDU curves within
 * `gdu.tolerance` relative error at every k; every relaxation converged.
 */
export function checkGradient(options: GradientCheckOptions): GradientCheckReport {
  const where = "checkGradient";
  const B = checkSetup(where, options);
  const targetBeta = options.targetBeta ?? 0.01;
  const minCosine = options.minCosine ?? 0.999;
  if (!(Number.isFinite(targetBeta) && targetBeta > 0)) invalid(where, "targetBeta", targetBeta, "a finite number > 0");
  if (!(Number.isFinite(minCosine) && minCosine <= 1)) invalid(where, "minCosine", minCosine, "a number <= 1");
  const given = options.betas ?? DEFAULT_CHECK_BETAS;
  if (given.length === 0 || given.some((b) => !(Number.isFinite(b) && b > 0))) invalid(where, "betas", given, "finite numbers > 0");
  const betas = given.includes(targetBeta) ? [...given] : [...given, targetBeta];
  const conv = options.convergence ?? {};
  const tol = conv.tolerance ?? 1e-13;
  const fd = finiteDifferenceGradient(options, { ...conv, ...(options.fdStep !== undefined ? { step: options.fdStep } : {}) });
  const t1 = Math.max(fd.freeSteps, 1);
  const rows: EpRow[] = [];
  for (const nudge of CHECK_NUDGES) {
    for (const beta of betas) {
      const e = epEstimate(options, { ...conv, beta, nudge, t1 });
      rows.push({ beta, nudge, t2: e.t2, layers: compareGradients(e.gradient, fd.gradient), freeResidual: e.freeResidual, nudgedResidual: e.nudgedResidual });
    }
  }
  const gduOpt = options.gdu === undefined ? {} : options.gdu;
  const gdu = gduOpt === null ? null : gduCurves(options, { ...gduOpt, freeSteps: Math.max(t1, gduOpt.steps ?? 20) });
  const gduTolerance = gduOpt === null ? null : (gduOpt.tolerance ?? 1e-3);

  const failures: string[] = [];
  const at = rows.find((r) => r.nudge === "symmetric" && r.beta === targetBeta) as EpRow;
  const worst = at.layers.filter((l) => l.layer !== "all").reduce((a, l) => (!(l.cosine >= a.cosine) ? l : a));
  const cosinePassed = worst.cosine >= minCosine;
  if (!cosinePassed) failures.push(`symmetric beta ${targetBeta}: the cosine of ${worst.layer} with the finite-difference gradient is ${fmt(worst.cosine)}, below ${minCosine}`);
  let gduPassed: boolean | null = null;
  if (gdu !== null && gduTolerance !== null) {
    gduPassed = gdu.max <= gduTolerance;
    if (!gduPassed) {
      const l = gdu.layers.reduce((a, x) => (!(x.max <= a.max) ? x : a));
      failures.push(`GDU: the EP and BPTT curves of ${l.layer} differ by ${fmt(l.max)} (relative), above ${gduTolerance}`);
    }
  }
  const problems: string[] = [];
  if (!fd.converged) problems.push(`a finite-difference relaxation stopped at residual ${fmt(Math.max(fd.freeResidual, fd.maxResidual))} after ${Math.max(fd.freeSteps, fd.maxSteps)} steps`);
  const badNudged = rows.filter((r) => !(r.nudgedResidual < tol) || !(r.freeResidual < tol));
  if (badNudged.length > 0) {
    const r = badNudged[0] as EpRow;
    problems.push(`the ${r.nudge} estimate at beta ${r.beta} left residuals ${fmt(r.freeResidual)} (free) and ${fmt(r.nudgedResidual)} (nudged) after ${t1} and ${r.t2} steps`);
  }
  if (gdu !== null && !(gdu.freeResidual < tol)) problems.push(`the GDU free phase stopped at residual ${fmt(gdu.freeResidual)}`);
  if (gdu !== null && !(gdu.forwardMismatch < 1e-9)) problems.push(`the hand-written forward pass differs from the library's free phase by ${fmt(gdu.forwardMismatch)}`);
  if (problems.length > 0) failures.push(`not converged to residual ${tol}: ${problems.join("; ")} (raise the step cap, or dt)`);
  const converged = problems.length === 0;
  const { gradient: _g, ...fdRest } = fd;
  void _g;
  return {
    combination: { energy: options.energy.name, activation: options.energy.activation, dynamics: options.dynamics, cost: options.cost.name },
    sizes: [...options.network.sizes],
    classes: options.network.classes,
    examples: B,
    tolerance: tol,
    finiteDifference: fdRest,
    t1,
    ep: rows,
    gdu,
    targets: {
      beta: targetBeta,
      minCosine,
      cosine: worst.cosine,
      cosineLayer: worst.layer,
      cosinePassed,
      gduTolerance,
      gduMax: gdu ? gdu.max : null,
      gduPassed,
      converged,
      passed: cosinePassed && gduPassed !== false && converged,
      failures,
    },
  };
}

function fmt(x: number): string {
  return Number.isFinite(x) ? x.toPrecision(3) : String(x);
}

import { KernelError } from "./errors.js";
import { heldMaxAbsOf } from "./host-arrays.js";

/** Numeric precision of a backend's storage. */
export type Precision = "float32" | "float64";

/** A host-side array of a backend's precision. */
export type FloatArray = Float32Array | Float64Array;

/** The element-wise activations EP uses (SPEC section 1). */
export type ActivationKind = "hard-sigmoid" | "sigmoid" | "tanh";

/**
 * A dense row-major matrix owned by a backend. It is an opaque handle: its values live
 * wherever the backend keeps them (host memory, a GPU texture) and are reached only
 * through {@link Backend.read} and {@link Backend.write}. A minibatch state is B x n; a
 * bias or a dt vector is 1 x n; the weight W_l is n_{l-1} x n_l (row-vector convention,
 * `s_l = s_{l-1} W_l`).
 */
export interface Matrix {
  readonly rows: number;
  readonly cols: number;
  /** The backend that created this matrix. */
  readonly backend: string;
}

/** Options of {@link Backend.gemm}: `out = alpha * op(a) op(b) + beta * out`. */
export interface GemmOptions {
  /** Use a^T instead of a. */
  readonly transA?: boolean;
  /** Use b^T instead of b. */
  readonly transB?: boolean;
  /** Scale of the product (default 1). */
  readonly alpha?: number;
  /** Scale of the previous `out` (default 0: overwrite). */
  readonly beta?: number;
}

/** Options of {@link Backend.eulerStep}. */
export interface EulerStepOptions {
  /** Multiplies the velocity: `out = s + scale * dt (.) v` (default 1). */
  readonly scale?: number;
  /** Clip the result to [lo, hi] (the gradient rule clips; the leaky rule does not). */
  readonly clip?: readonly [number, number];
}

/** The Euler step of the gradient rule in {@link Backend.gradientStep}: `out = clip(s + scale dt (.) n)`. */
export interface GradientStepOptions {
  /** Multiplies the velocity (the gradient rule descends: -1). */
  readonly scale: number;
  /** The clip range (the activation's range). */
  readonly clip: readonly [number, number];
}

/**
 * {@link Backend.gradientStep}'s options: the Euler step's, and a term added to the velocity
 * between the tail and the step, `n = n + alpha m` (the nudge's beta dC/ds on the output layer).
 */
export interface GradientStepWithOptions extends GradientStepOptions {
  readonly add?: { readonly alpha: number; readonly m: Matrix };
}

/**
 * The gradient rule's step of one layer that {@link Backend.driveStep} runs after its
 * product: {@link Backend.gradientStep} on (s, n, da, dt, out), then `act = rho(s)` when
 * `act` is given. All of s, da, dt, out and act are matrices other than the product's.
 */
export interface DriveGradientStep extends GradientStepOptions {
  readonly kind: ActivationKind;
  readonly s: Matrix;
  readonly da: Matrix;
  readonly dt: Matrix;
  readonly out: Matrix;
  /** Receives rho(s) (the layer's activation for the products of the layers after it), or null. */
  readonly act: Matrix | null;
}

/** Hyper-parameters of {@link Backend.sgdStep}. */
export interface SgdStepOptions {
  readonly lr: number;
  /** Heavy-ball momentum (0 = plain SGD; then `velocity` may be null). */
  readonly momentum: number;
  /** L2 weight decay added to the gradient: g + weightDecay * p. */
  readonly weightDecay: number;
}

/** Hyper-parameters of {@link Backend.adamStep}. */
export interface AdamStepOptions {
  readonly lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly weightDecay: number;
  /** 1-based step count, for bias correction. */
  readonly step: number;
}

/**
 * The few primitives Equilibrium Propagation needs. The trainer in `@hts/ep` and the
 * energies in `@hts/energy` are written against this interface only, so a backend (CPU,
 * float64 reference, GPU, your own) plugs in without changing them. Every method writes
 * into an `out` matrix that the caller allocated once: nothing allocates in the
 * relaxation loop, and a GPU backend keeps all matrices on the device. Only the methods
 * that return host values (`read`, `sum`, `dot`, `maxAbsDiff`, `findNonFinite`,
 * `argmaxRows`) read back.
 *
 * Backends trust the caller's shapes in the hot path: callers allocate every matrix once,
 * with shapes derived from the layer sizes, and validate at their public entry points.
 *
 * Aliasing (the same matrix passed as `out` and as an input), the same on every backend:
 * - element-wise methods (`axpby`, `mul`, `activate`, `activateDerivative`, `softmaxRows`,
 *   `eulerStep`'s `s` and `v`, `copy`): `out` may be the same matrix as any same-shaped
 *   input, or as several; the result is bit for bit the one with a separate `out`;
 * - `gemm`: never; `out` the same matrix as `a` or `b` throws `HTS_INVALID_ARGUMENT` with
 *   `parameter: "out"` (`a` and `b` may be one matrix);
 * - `broadcastRows`, `columnSums` and `eulerStep`'s `dt` (a 1 x n vector against a B x n
 *   matrix): `out` must be another matrix; not checked, the result is unspecified;
 * - `sgdStep`, `adamStep`: update their state in place; `param`, `grad`, `velocity`, `m` and
 *   `v` must be distinct matrices (not checked);
 * - inputs may always alias each other (`mul(a, a, out)`, `dot(a, a)`);
 * - the optional fused operations (`leakyStep`, `gradientTail`, `gradientStep`,
 *   `driveStep`, `squaredErrorGradient`): as each one says.
 *
 * The fused operations are optional: call them through {@link leakyStep},
 * {@link gradientTail}, {@link gradientStep}, {@link driveStep} and
 * {@link squaredErrorGradient}, which run the backend's own version when it has one and otherwise
 * the composition of plain primitives that defines them. A backend that implements one
 * must give the composition's result on that backend, bit for bit (the conformance kit
 * checks it).
 */
export interface Backend {
  /** Short name, e.g. `cpu-f32`, `reference-f64`, `gpu`. */
  readonly name: string;
  readonly precision: Precision;

  /** Allocates a rows x cols matrix, zero-filled or filled with `values` (row-major). */
  matrix(rows: number, cols: number, values?: ArrayLike<number>): Matrix;
  /** Copies host values (row-major, rows*cols of them) into `m`. */
  write(m: Matrix, values: ArrayLike<number>): void;
  /** Reads `m` back into a new host array of the backend's precision. */
  read(m: Matrix): FloatArray;
  /** Frees `m` (a no-op on the CPU). */
  dispose(m: Matrix): void;
  /** `dst = src` (same shape); `dst` may be `src` (then nothing changes). */
  copy(src: Matrix, dst: Matrix): void;
  /** Sets every entry of `m` to `value`. */
  fill(m: Matrix, value: number): void;

  /**
   * General matrix product `out = alpha op(a) op(b) + beta out`. `out` must be a matrix
   * other than `a` and `b`: aliasing is refused with `HTS_INVALID_ARGUMENT`, `parameter:
   * "out"` (a product reads whole rows and columns of its factors while writing `out`).
   * `a` and `b` may be the same matrix.
   */
  gemm(a: Matrix, b: Matrix, out: Matrix, options?: GemmOptions): void;
  /** `out[i, :] = v[0, :]` for every row i (v is 1 x out.cols); `out` must not be `v`. */
  broadcastRows(v: Matrix, out: Matrix): void;
  /** `out = alpha a + beta b`, element-wise (same shapes); `out` may be `a`, `b` or both. */
  axpby(alpha: number, a: Matrix, beta: number, b: Matrix, out: Matrix): void;
  /** `out = a (.) b`, element-wise; `out` may be `a`, `b` or both. */
  mul(a: Matrix, b: Matrix, out: Matrix): void;
  /** `out = rho(x)`, element-wise; `out` may be `x`. */
  activate(kind: ActivationKind, x: Matrix, out: Matrix): void;
  /** `out = rho'(x)`; for the hard sigmoid 1 on the closed interval [0, 1], else 0. `out` may be `x`. */
  activateDerivative(kind: ActivationKind, x: Matrix, out: Matrix): void;
  /** Row-wise softmax; `out` may be `x`. */
  softmaxRows(x: Matrix, out: Matrix): void;
  /**
   * The fused per-neuron explicit Euler step: `out = clip(s + scale dt (.) v)`, with the
   * 1 x n vector `dt` broadcast over the batch rows. `out` may be `s`, `v` or both; it must
   * not be `dt`.
   */
  eulerStep(s: Matrix, v: Matrix, dt: Matrix, out: Matrix, options?: EulerStepOptions): void;
  /** `out (1 x n) = alpha * sum over rows of x + beta * out`; `out` must not be `x`. */
  columnSums(x: Matrix, out: Matrix, alpha?: number, beta?: number): void;
  /** One SGD (optionally momentum, weight decay) step on `param` in place; `param`, `grad` and `velocity` distinct. */
  sgdStep(param: Matrix, grad: Matrix, velocity: Matrix | null, options: SgdStepOptions): void;
  /** One Adam step on `param` in place, `m` and `v` its moment estimates; all four matrices distinct. */
  adamStep(param: Matrix, grad: Matrix, m: Matrix, v: Matrix, options: AdamStepOptions): void;

  /**
   * Optional fused operation, the leaky rule's whole step of one layer: `u = rho(u) - s`,
   * then `out = s + dt (.) u` (dt broadcast over the rows). The same as
   * `activate(kind, u, u); axpby(1, u, -1, s, u); eulerStep(s, u, dt, out)`, which
   * {@link leakyStep} runs for a backend without this method. `out` must be a matrix other
   * than `s`, `u` and `dt`, and `u` other than `s`.
   */
  leakyStep?(kind: ActivationKind, s: Matrix, u: Matrix, dt: Matrix, out: Matrix): void;
  /**
   * Optional fused operation, the tail of a Hopfield energy's state gradient: `da = rho'(s)`,
   * then `n = s - da (.) n`. The same as `activateDerivative(kind, s, da); mul(da, n, n);
   * axpby(1, s, -1, n, n)`, which {@link gradientTail} runs for a backend without this
   * method. `s`, `n` and `da` must be three distinct matrices.
   */
  gradientTail?(kind: ActivationKind, s: Matrix, n: Matrix, da: Matrix): void;
  /**
   * Optional fused operation, the gradient rule's step of one layer: {@link Backend.gradientTail}
   * (`da = rho'(s); n = s - da (.) n`), with `add` then `n = 1 n + alpha m` (axpby), then
   * `out = clip(s + scale dt (.) n)` (eulerStep). {@link gradientStep} runs the composition
   * for a backend without it. `s`, `n`, `da`, `dt`, `out` (and `add.m`) must be distinct matrices.
   */
  gradientStep?(kind: ActivationKind, s: Matrix, n: Matrix, da: Matrix, dt: Matrix, out: Matrix, options: GradientStepWithOptions): void;
  /**
   * Optional fused operation, the last term of a layer's drive and what follows it:
   * `n = base + a w^T` (`base` may be `n` itself: then the product is added to what `n`
   * holds), then, when `step` is given, the gradient rule's step of the layer on these sums
   * ({@link DriveGradientStep}). {@link driveStep} runs the composition (copy, gemm with
   * beta 1, gradientStep, activate) for a backend without it. `a` and `w` must be matrices
   * other than `n` and the step's; `base`, when not `n`, another matrix than all others.
   */
  driveStep?(a: Matrix, w: Matrix, base: Matrix, n: Matrix, step: DriveGradientStep | null): void;
  /**
   * Optional fused operation, the gradient of the squared error 1/2 ||r(s) - y||^2 on the
   * output layer: `g = r'(s) (.) (r(s) - y)` with r the activation `rate` (`null`: the
   * identity, r' = 1), into `out` (`out = g`) or, with `alpha`, added to it
   * (`out = out + alpha g`). {@link squaredErrorGradient} runs the composition
   * ({@link squaredErrorGradientReference}) for a backend without it. `out` must be a matrix
   * other than `s` and `y`.
   */
  squaredErrorGradient?(rate: ActivationKind | null, s: Matrix, y: Matrix, out: Matrix, alpha?: number): void;

  /** Sum of all entries (read-back). */
  sum(m: Matrix): number;
  /** Sum of the element-wise product (read-back). */
  dot(a: Matrix, b: Matrix): number;
  /** max |a - b| over all entries (read-back). */
  maxAbsDiff(a: Matrix, b: Matrix): number;
  /** Index of the first non-finite entry, or -1 (read-back). */
  findNonFinite(m: Matrix): number;
  /**
   * Optional read-back, the gradient rule's dt-free residual of one layer: max |g| over the
   * entries of `g` whose state in `s` is not held at a bound of [lo, hi] (s <= lo with
   * g > 0, or s >= hi with g < 0, are held); NaN when an entry of `g` is NaN. It spares
   * the two read-backs that {@link heldMaxAbs} makes for a backend without it.
   */
  heldMaxAbs?(s: Matrix, g: Matrix, lo: number, hi: number): number;
  /** Column index of the largest entry of each row (read-back). */
  argmaxRows(m: Matrix): Int32Array;
}

/**
 * The leaky rule's step of one layer, `u = rho(u) - s; out = s + dt (.) u`: the backend's
 * fused {@link Backend.leakyStep} when it has one, else {@link leakyStepReference}.
 */
export function leakyStep(backend: Backend, kind: ActivationKind, s: Matrix, u: Matrix, dt: Matrix, out: Matrix): void {
  if (backend.leakyStep !== undefined) backend.leakyStep(kind, s, u, dt, out);
  else leakyStepReference(backend, kind, s, u, dt, out);
}

/** The definition of {@link Backend.leakyStep} in plain primitives (what every backend inherits). */
export function leakyStepReference(backend: Backend, kind: ActivationKind, s: Matrix, u: Matrix, dt: Matrix, out: Matrix): void {
  backend.activate(kind, u, u);
  backend.axpby(1, u, -1, s, u);
  backend.eulerStep(s, u, dt, out);
}

/**
 * The state gradient's tail, `da = rho'(s); n = s - da (.) n`: the backend's fused
 * {@link Backend.gradientTail} when it has one, else {@link gradientTailReference}.
 */
export function gradientTail(backend: Backend, kind: ActivationKind, s: Matrix, n: Matrix, da: Matrix): void {
  if (backend.gradientTail !== undefined) backend.gradientTail(kind, s, n, da);
  else gradientTailReference(backend, kind, s, n, da);
}

/** The definition of {@link Backend.gradientTail} in plain primitives (what every backend inherits). */
export function gradientTailReference(backend: Backend, kind: ActivationKind, s: Matrix, n: Matrix, da: Matrix): void {
  backend.activateDerivative(kind, s, da);
  backend.mul(da, n, n);
  backend.axpby(1, s, -1, n, n);
}

/**
 * The gradient rule's step of one layer, `da = rho'(s); n = s - da (.) n;
 * out = clip(s + scale dt (.) n)`: the backend's fused {@link Backend.gradientStep} when it
 * has one, else {@link gradientTail} and eulerStep.
 */
export function gradientStep(backend: Backend, kind: ActivationKind, s: Matrix, n: Matrix, da: Matrix, dt: Matrix, out: Matrix, options: GradientStepWithOptions): void {
  if (backend.gradientStep !== undefined) backend.gradientStep(kind, s, n, da, dt, out, options);
  else {
    gradientTail(backend, kind, s, n, da);
    if (options.add) backend.axpby(1, n, options.add.alpha, options.add.m, n);
    backend.eulerStep(s, n, dt, out, { scale: options.scale, clip: options.clip });
  }
}

/** The definition of {@link Backend.gradientStep} in plain primitives. */
export function gradientStepReference(backend: Backend, kind: ActivationKind, s: Matrix, n: Matrix, da: Matrix, dt: Matrix, out: Matrix, options: GradientStepWithOptions): void {
  gradientTailReference(backend, kind, s, n, da);
  if (options.add) backend.axpby(1, n, options.add.alpha, options.add.m, n);
  backend.eulerStep(s, n, dt, out, { scale: options.scale, clip: options.clip });
}

/**
 * `n = base + a w^T`, then the gradient rule's step of the layer when `step` is given: the
 * backend's fused {@link Backend.driveStep} when it has one, else the composition (with
 * {@link gradientStep}).
 */
export function driveStep(backend: Backend, a: Matrix, w: Matrix, base: Matrix, n: Matrix, step: DriveGradientStep | null): void {
  if (backend.driveStep !== undefined) {
    backend.driveStep(a, w, base, n, step);
    return;
  }
  if (base !== n) backend.copy(base, n);
  backend.gemm(a, w, n, { transB: true, beta: 1 });
  if (step !== null) {
    gradientStep(backend, step.kind, step.s, n, step.da, step.dt, step.out, step);
    if (step.act !== null) backend.activate(step.kind, step.s, step.act);
  }
}

/** The definition of {@link Backend.driveStep} in plain primitives. */
export function driveStepReference(backend: Backend, a: Matrix, w: Matrix, base: Matrix, n: Matrix, step: DriveGradientStep | null): void {
  if (base !== n) backend.copy(base, n);
  backend.gemm(a, w, n, { transB: true, beta: 1 });
  if (step !== null) {
    gradientStepReference(backend, step.kind, step.s, n, step.da, step.dt, step.out, step);
    if (step.act !== null) backend.activate(step.kind, step.s, step.act);
  }
}

/** Range of an activation: where states live and where the gradient rule clips. */
export function activationRange(kind: ActivationKind): readonly [number, number] {
  return kind === "tanh" ? [-1, 1] : [0, 1];
}

/** The work buffers of {@link squaredErrorGradientReference}: three matrices shaped as the output layer. */
export interface SquaredErrorScratch {
  /** r(s) - y. */
  readonly r: Matrix;
  /** r'(s). */
  readonly d: Matrix;
  /** The gradient, when it is added to `out` (`alpha` given). */
  readonly g: Matrix;
}

/**
 * The squared error's gradient `g = r'(s) (.) (r(s) - y)` into `out`, or added to it as
 * `out + alpha g`: the backend's fused {@link Backend.squaredErrorGradient} when it has one,
 * else {@link squaredErrorGradientReference} in `scratch`.
 */
export function squaredErrorGradient(backend: Backend, rate: ActivationKind | null, s: Matrix, y: Matrix, out: Matrix, scratch: SquaredErrorScratch, alpha?: number): void {
  if (backend.squaredErrorGradient !== undefined) backend.squaredErrorGradient(rate, s, y, out, alpha);
  else squaredErrorGradientReference(backend, rate, s, y, out, scratch, alpha);
}

/**
 * The definition of {@link Backend.squaredErrorGradient} in plain primitives: `r = rate(s)`
 * (`axpby(1, s, -1, y, r)` for the identity), `r = r - y`, `d = rate'(s)`, `g = d (.) r`;
 * with `alpha`, then `out = 1 out + alpha g` (axpby).
 */
export function squaredErrorGradientReference(backend: Backend, rate: ActivationKind | null, s: Matrix, y: Matrix, out: Matrix, scratch: SquaredErrorScratch, alpha?: number): void {
  const g = alpha === undefined ? out : scratch.g;
  if (rate === null) {
    backend.axpby(1, s, -1, y, scratch.r);
    backend.copy(scratch.r, g);
  } else {
    backend.activate(rate, s, scratch.r);
    backend.axpby(1, scratch.r, -1, y, scratch.r);
    backend.activateDerivative(rate, s, scratch.d);
    backend.mul(scratch.d, scratch.r, g);
  }
  if (alpha !== undefined) backend.axpby(1, out, alpha, g, out);
}

/**
 * {@link Backend.heldMaxAbs} where the backend has it; else from the two matrices read back
 * ({@link heldMaxAbsOf}). `s` and `g` must have the same shape.
 */
export function heldMaxAbs(backend: Backend, s: Matrix, g: Matrix, lo: number, hi: number): number {
  if (s.rows !== g.rows || s.cols !== g.cols) {
    throw new KernelError("HTS_SHAPE_MISMATCH", `heldMaxAbs: s is ${s.rows} x ${s.cols}, g is ${g.rows} x ${g.cols}`, { parameter: "g", value: [g.rows, g.cols], expected: `${s.rows} x ${s.cols}` });
  }
  if (backend.heldMaxAbs !== undefined) return backend.heldMaxAbs(s, g, lo, hi);
  return heldMaxAbsOf(backend.read(s), backend.read(g), lo, hi);
}

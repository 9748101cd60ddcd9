import { type ActivationKind, type Backend, driveStep, gradientStep, gradientTail, type Matrix } from "@hts/kernels";
import type { BoundEnergy, Energy, EnergyStepOptions, LayerParity, ParamGradientOptions } from "./energy.js";
import { EnergyError } from "./errors.js";
import { type NetworkParams, type ParamGradients, validateSizes } from "./params.js";

/** The activations an energy accepts. */
export const ACTIVATIONS: readonly ActivationKind[] = ["hard-sigmoid", "sigmoid", "tanh"];

/** Options of the built-in energies. */
export interface EnergyOptions {
  /** The activation rho (default `hard-sigmoid`). */
  readonly activation?: ActivationKind;
}

/**
 * Both built-in energies share one layered structure. With a(s) = rho(s) (Hopfield) or
 * a(s) = s (primitive function) for the relaxed layers l >= 1, a(s_0) = x for the clamped
 * input (the input is data, not a state: it is never passed through rho), and the
 * neighbour signal
 *     n_l = a(s_{l-1}) W_l + a(s_{l+1}) W_{l+1}^T + b_l   (no second term for l = L),
 * the energy is E = 1/2 sum ||s_l||^2 - sum a(s_{l-1}) W_l . a(s_l) - sum b_l . a(s_l), its
 * state gradient s_l - a'(s_l) (.) n_l, its drive n_l, its parameter gradients
 * -a(s_{l-1})^T a(s_l) / B and -mean a(s_l).
 */
class LayeredEnergy implements Energy {
  readonly name: string;
  readonly activation: ActivationKind;
  readonly rate: ActivationKind | null;
  readonly #rhoOfState: boolean;

  constructor(name: string, activation: ActivationKind, rhoOfState: boolean) {
    this.name = name;
    this.activation = activation;
    this.rate = rhoOfState ? activation : null;
    this.#rhoOfState = rhoOfState;
  }

  checkDynamics(dynamics: string): string | null {
    if (this.activation === "hard-sigmoid") return null;
    if (this.#rhoOfState && dynamics === "leaky") {
      return `the leaky rule relaxes to s = rho(drive), which is a stationary point of the Hopfield energy only for the hard sigmoid, not for ${this.activation}; use the gradient rule, or the primitive energy with the leaky rule`;
    }
    if (!this.#rhoOfState && dynamics === "gradient") {
      return `the gradient rule on the primitive energy relaxes to clip(dPhi/ds) whatever rho is, so ${this.activation} would not be used; use the leaky rule (fixed point s = rho(dPhi/ds)), or the Hopfield energy with the gradient rule`;
    }
    return null;
  }

  bind(backend: Backend, params: NetworkParams, batch: number): BoundEnergy {
    validateSizes(params.sizes, `${this.name}.bind`);
    if (!Number.isInteger(batch) || batch < 1) {
      throw new EnergyError("HTS_INVALID_ARGUMENT", `${this.name}.bind: batch must be a positive integer, got ${String(batch)}`, {
        parameter: "batch",
        value: batch,
        expected: "positive integer",
      });
    }
    const lists = [["W", params.W], ["b", params.b]] as const;
    for (const [kind, list] of lists) {
      list.forEach((m, i) => {
        if (m.backend !== backend.name) {
          throw new EnergyError(
            "HTS_INVALID_ARGUMENT",
            `${this.name}.bind: params.${kind}[${i}] (${kind}${i + 1}) lives on the ${m.backend} backend, not on ${backend.name}, the backend the energy is bound to; create the network on the backend you bind to`,
            { parameter: `params.${kind}[${i}]`, value: m.backend, expected: `a matrix of ${backend.name}` },
          );
        }
      });
    }
    return new BoundLayeredEnergy(backend, params, batch, this.activation, this.#rhoOfState, this.name);
  }
}

class BoundLayeredEnergy implements BoundEnergy {
  readonly batch: number;
  readonly #be: Backend;
  readonly #p: NetworkParams;
  readonly #kind: ActivationKind;
  readonly #rho: boolean;
  readonly #name: string;
  readonly #L: number;
  /** x (B x n_0), and x W_1 + b_1 (B x n_1): constant during a relaxation. */
  readonly #ax: Matrix;
  readonly #inputDrive: Matrix;
  #x: Matrix | null = null;
  /** a(s_l), a'(s_l) and a B x n_l scratch per layer. */
  readonly #a: Matrix[];
  readonly #da: Matrix[];
  readonly #tmp: Matrix[];
  /** Per layer, in gradientStep: whether a(s_l) is computed in the layer's own fused step (reused). */
  readonly #late: boolean[] = [];

  constructor(backend: Backend, params: NetworkParams, batch: number, kind: ActivationKind, rho: boolean, name: string) {
    this.batch = batch;
    this.#be = backend;
    this.#p = params;
    this.#kind = kind;
    this.#rho = rho;
    this.#name = name;
    const sizes = params.sizes;
    this.#L = sizes.length - 1;
    this.#ax = backend.matrix(batch, sizes[0] as number);
    this.#inputDrive = backend.matrix(batch, sizes[1] as number);
    this.#a = sizes.slice(1).map((n) => backend.matrix(batch, n));
    this.#da = sizes.slice(1).map((n) => backend.matrix(batch, n));
    this.#tmp = sizes.slice(1).map((n) => backend.matrix(batch, n));
  }

  setInput(x: Matrix): void {
    const n0 = this.#p.sizes[0] as number;
    if (x?.backend !== this.#be.name) {
      throw new EnergyError("HTS_INVALID_ARGUMENT", `${this.#name}.setInput: x lives on the ${x?.backend} backend, not on ${this.#be.name}, the backend the energy is bound to`, {
        parameter: "x",
        value: x?.backend,
        expected: `a matrix of ${this.#be.name}`,
      });
    }
    if (x.rows !== this.batch || x.cols !== n0) {
      throw new EnergyError(
        "HTS_SHAPE_MISMATCH",
        `${this.#name}.setInput: x must be ${this.batch} x ${n0}, got ${x.rows} x ${x.cols}`,
        { parameter: "x", value: [x.rows, x.cols], expected: `${this.batch} x ${n0}` },
      );
    }
    this.#x = x;
    const be = this.#be;
    be.copy(x, this.#ax);
    be.broadcastRows(this.#p.b[0] as Matrix, this.#inputDrive);
    be.gemm(this.#ax, this.#p.W[0] as Matrix, this.#inputDrive, { beta: 1 });
  }

  #input(): Matrix {
    if (this.#x === null) {
      throw new EnergyError("HTS_INVALID_ARGUMENT", `${this.#name}: call setInput(x) before using the bound energy`, {
        parameter: "x",
        value: null,
        expected: "a B x n_0 input matrix",
      });
    }
    return this.#ax;
  }

  /** a(s_l) for every layer, into `into` (#a by default), or the state itself for the primitive function. */
  #activations(state: readonly Matrix[], into: readonly Matrix[] = this.#a): readonly Matrix[] {
    if (!this.#rho) return state;
    for (let l = 0; l < this.#L; l++) this.#be.activate(this.#kind, state[l] as Matrix, into[l] as Matrix);
    return into;
  }

  /** n_l into out[l - 1] for the layers of `parity`. */
  #neighbourSignal(a: readonly Matrix[], out: readonly Matrix[], parity: LayerParity): void {
    this.#input();
    const be = this.#be;
    const W = this.#p.W;
    for (let l = 1; l <= this.#L; l++) {
      if (!inParity(l, parity)) continue;
      const o = out[l - 1] as Matrix;
      const base = this.#signalBase(a, o, l);
      // the last term, a(s_{l+1}) W_{l+1}^T, starting from the base (Backend.driveStep)
      if (l < this.#L) driveStep(be, a[l] as Matrix, W[l] as Matrix, base, o, null);
      else if (base !== o) be.copy(base, o);
    }
  }

  /**
   * The part of n_l before its last term: x W_1 + b_1 (kept from setInput) for l = 1, else
   * b_l + a(s_{l-1}) W_l written into `o`. Returns the matrix that holds it.
   */
  #signalBase(a: readonly Matrix[], o: Matrix, l: number): Matrix {
    if (l === 1) return this.#inputDrive;
    const be = this.#be;
    be.broadcastRows(this.#p.b[l - 1] as Matrix, o);
    be.gemm(a[l - 2] as Matrix, this.#p.W[l - 1] as Matrix, o, { beta: 1 });
    return o;
  }

  value(state: readonly Matrix[]): number {
    const ax = this.#input();
    const be = this.#be;
    const { W, b } = this.#p;
    const a = this.#activations(state);
    let e = 0;
    for (let l = 1; l <= this.#L; l++) {
      const s = state[l - 1] as Matrix;
      const al = a[l - 1] as Matrix;
      const t = this.#tmp[l - 1] as Matrix;
      e += 0.5 * be.dot(s, s);
      be.broadcastRows(b[l - 1] as Matrix, t);
      be.gemm(l === 1 ? ax : (a[l - 2] as Matrix), W[l - 1] as Matrix, t, { beta: 1 });
      e -= be.dot(t, al);
    }
    return e / this.batch;
  }

  stateGradient(state: readonly Matrix[], out: readonly Matrix[], layers: LayerParity = "all"): void {
    const be = this.#be;
    const a = this.#activations(state);
    this.#neighbourSignal(a, out, layers);
    for (let l = 0; l < this.#L; l++) {
      if (!inParity(l + 1, layers)) continue;
      const o = out[l] as Matrix;
      // s - a'(s) (.) n, in place on n: the fused tail for rho (a backend may run it in one pass)
      if (this.#rho) gradientTail(be, this.#kind, state[l] as Matrix, o, this.#da[l] as Matrix);
      else be.axpby(1, state[l] as Matrix, -1, o, o);
    }
  }

  gradientStep(state: readonly Matrix[], work: readonly Matrix[], next: readonly Matrix[], layers: LayerParity, options: EnergyStepOptions): void {
    this.#input();
    const be = this.#be;
    const L = this.#L;
    const kind = this.#kind;
    const { dt, scale, clip } = options;
    const nudge = options.nudge ?? null;
    const W = this.#p.W;
    // a(s_l) is needed by the products of layers l - 1 and l + 1. It is computed in layer l's
    // own fused step (after it, from the same state) when layer l - 1, whose product comes
    // first, does not need it; else here, before the products.
    let a: readonly Matrix[] = state;
    const late = this.#late;
    late.length = 0;
    if (this.#rho) {
      for (let l = 1; l <= L; l++) {
        const own = inParity(l, layers) && l < L && (l === 1 || !inParity(l - 1, layers));
        late.push(own);
        const needed = (l > 1 && inParity(l - 1, layers)) || (l < L && inParity(l + 1, layers));
        if (!own && needed) be.activate(kind, state[l - 1] as Matrix, this.#a[l - 1] as Matrix);
      }
      a = this.#a;
    }
    for (let l = 1; l <= L; l++) {
      if (!inParity(l, layers)) continue;
      const s = state[l - 1] as Matrix;
      const o = work[l - 1] as Matrix;
      const da = this.#da[l - 1] as Matrix;
      const d = dt[l - 1] as Matrix;
      const out = next[l - 1] as Matrix;
      const base = this.#signalBase(a, o, l);
      if (l < L && this.#rho) {
        // the drive's last product, the state gradient's tail, the Euler step and a(s_l): one call
        driveStep(be, a[l] as Matrix, W[l] as Matrix, base, o, { kind, s, da, dt: d, out, act: late[l - 1] ? (this.#a[l - 1] as Matrix) : null, scale, clip });
        continue;
      }
      if (l < L) driveStep(be, a[l] as Matrix, W[l] as Matrix, base, o, null);
      else if (base !== o) be.copy(base, o);
      const nudged = l === L && nudge !== null;
      if (this.#rho) {
        // the tail, the nudge beta dC/ds (on the output layer) and the Euler step: one call
        gradientStep(be, kind, s, o, da, d, out, nudged ? { scale, clip, add: { alpha: nudge.beta, m: nudge.costGradient } } : { scale, clip });
        continue;
      }
      be.axpby(1, s, -1, o, o);
      if (nudged) be.axpby(1, o, nudge.beta, nudge.costGradient, o);
      be.eulerStep(s, o, d, out, { scale, clip });
    }
  }

  drive(state: readonly Matrix[], out: readonly Matrix[], layers: LayerParity = "all"): void {
    this.#neighbourSignal(this.#activations(state), out, layers);
  }

  paramGradient(state: readonly Matrix[], out: ParamGradients, options: ParamGradientOptions = {}): void {
    const ax = this.#input();
    const be = this.#be;
    const scale = -(options.scale ?? 1) / this.batch;
    const beta = options.accumulate ? 1 : 0;
    const a = this.#activations(state);
    for (let l = 1; l <= this.#L; l++) {
      const below = l === 1 ? ax : (a[l - 2] as Matrix);
      be.gemm(below, a[l - 1] as Matrix, out.W[l - 1] as Matrix, { transA: true, alpha: scale, beta });
      be.columnSums(a[l - 1] as Matrix, out.b[l - 1] as Matrix, scale, beta);
    }
  }

  /**
   * The first layer's weights and every layer's biases are linear in a(s_l) (x is clamped):
   * one product of x with a(plus_1) - a(minus_1), one column sum of a(plus_l) - a(minus_l);
   * the other weights, bilinear in two layers' activations, take two products.
   */
  paramGradientDifference(plus: readonly Matrix[], minus: readonly Matrix[], out: ParamGradients, options: ParamGradientOptions = {}): void {
    const ax = this.#input();
    const be = this.#be;
    const scale = -(options.scale ?? 1) / this.batch;
    const ap = this.#activations(plus);
    const am = this.#activations(minus, this.#tmp);
    for (let l = 1; l <= this.#L; l++) {
      const d = this.#da[l - 1] as Matrix;
      be.axpby(1, ap[l - 1] as Matrix, -1, am[l - 1] as Matrix, d);
      if (l === 1) {
        be.gemm(ax, d, out.W[0] as Matrix, { transA: true, alpha: scale, beta: 0 });
      } else {
        be.gemm(ap[l - 2] as Matrix, ap[l - 1] as Matrix, out.W[l - 1] as Matrix, { transA: true, alpha: scale, beta: 0 });
        be.gemm(am[l - 2] as Matrix, am[l - 1] as Matrix, out.W[l - 1] as Matrix, { transA: true, alpha: -scale, beta: 1 });
      }
      be.columnSums(d, out.b[l - 1] as Matrix, scale, 0);
    }
  }
}

function inParity(l: number, parity: LayerParity): boolean {
  return parity === "all" || (parity === "odd") === (l % 2 === 1);
}

function checkOptions(where: string, options: unknown): EnergyOptions {
  if (options === null || typeof options !== "object" || Array.isArray(options)) {
    const hint = typeof options === "string" ? ` (write ${where}({ activation: ${JSON.stringify(options)} }))` : "";
    throw new EnergyError("HTS_INVALID_ARGUMENT", `${where}: options must be an object { activation? }, got ${JSON.stringify(options) ?? String(options)}${hint}`, {
      parameter: "options",
      value: options,
      expected: "{ activation?: ActivationKind }",
    });
  }
  return options as EnergyOptions;
}

function checkActivation(where: string, activation: unknown): ActivationKind {
  if (!ACTIVATIONS.includes(activation as ActivationKind)) {
    throw new EnergyError(
      "HTS_INVALID_ARGUMENT",
      `${where}: activation must be one of ${ACTIVATIONS.join(", ")}, got ${JSON.stringify(activation)}`,
      { parameter: "activation", value: activation, expected: ACTIVATIONS.join(" | ") },
    );
  }
  return activation as ActivationKind;
}

/**
 * The Hopfield energy of Scellier & Bengio (2017):
 * E(s) = 1/2 sum ||s_l||^2 - sum rho(s_{l-1})^T W_l rho(s_l) - sum b_l^T rho(s_l),
 * with s_0 = x. Its leaky drive is rho(s_{l-1}) W_l + rho(s_{l+1}) W_{l+1}^T + b_l.
 */
export function hopfieldEnergy(options: EnergyOptions = {}): Energy {
  return new LayeredEnergy("hopfield", checkActivation("hopfieldEnergy", checkOptions("hopfieldEnergy", options).activation ?? "hard-sigmoid"), true);
}

/**
 * The primitive function Phi(s) = sum s_{l-1}^T W_l s_l + sum b_l^T s_l (Ernoult et al. 2019,
 * Laborieux et al. 2021), used as the energy E = 1/2 sum ||s_l||^2 - Phi(s). Its drive
 * dPhi/ds_l gives the leaky fixed point s = rho(dPhi/ds); its parameter gradient is
 * -dPhi/dtheta. With the gradient rule its fixed points are s = clip(dPhi/ds) (equal to
 * rho(dPhi/ds) for the hard sigmoid).
 */
export function primitiveEnergy(options: EnergyOptions = {}): Energy {
  return new LayeredEnergy("primitive", checkActivation("primitiveEnergy", checkOptions("primitiveEnergy", options).activation ?? "hard-sigmoid"), false);
}

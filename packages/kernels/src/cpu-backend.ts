import type {
  ActivationKind,
  AdamStepOptions,
  Backend,
  EulerStepOptions,
  FloatArray,
  GemmOptions,
  Matrix,
  Precision,
  SgdStepOptions,
} from "./backend.js";
import { KernelError, refuseGemmAlias } from "./errors.js";
import { argmaxRowsOf, heldMaxAbsOf, maxAbsDiffOf } from "./host-arrays.js";
import { adamStepArrays, sgdStepArrays } from "./optimizers.js";

/** A matrix in host memory: the CPU backends expose their typed array as `data`. */
export interface HostMatrix extends Matrix {
  readonly data: FloatArray;
}

class CpuMatrix implements HostMatrix {
  readonly rows: number;
  readonly cols: number;
  readonly backend: string;
  readonly data: FloatArray;
  constructor(rows: number, cols: number, backend: string, data: FloatArray) {
    this.rows = rows;
    this.cols = cols;
    this.backend = backend;
    this.data = data;
  }
}

function dataOf(m: Matrix): FloatArray {
  return (m as CpuMatrix).data;
}

/**
 * Plain-loop host backend. With `float64` storage it is the reference oracle that every
 * other backend is tested against; with `float32` storage it is the portable CPU backend.
 * Sums inside one product are accumulated in float64 (JavaScript numbers) and rounded
 * once on store.
 */
class CpuBackend implements Backend {
  readonly name: string;
  readonly precision: Precision;
  readonly #make: (n: number) => FloatArray;
  #row = new Float64Array(0);

  constructor(name: string, precision: Precision) {
    this.name = name;
    this.precision = precision;
    this.#make = precision === "float32" ? (n) => new Float32Array(n) : (n) => new Float64Array(n);
  }

  matrix(rows: number, cols: number, values?: ArrayLike<number>): Matrix {
    if (!Number.isInteger(rows) || rows < 1 || !Number.isInteger(cols) || cols < 1) {
      throw new KernelError(
        "HTS_INVALID_ARGUMENT",
        `${this.name}.matrix: shape must be two positive integers, got ${String(rows)} x ${String(cols)}`,
        { parameter: "shape", value: [rows, cols], expected: "positive integers" },
      );
    }
    const m = new CpuMatrix(rows, cols, this.name, this.#make(rows * cols));
    if (values !== undefined) this.write(m, values);
    return m;
  }

  write(m: Matrix, values: ArrayLike<number>): void {
    const d = dataOf(m);
    if (values.length !== d.length) {
      throw new KernelError(
        "HTS_SHAPE_MISMATCH",
        `${this.name}.write: ${m.rows} x ${m.cols} matrix needs ${d.length} values, got ${values.length}`,
        { parameter: "values", value: values.length, expected: `${d.length} values` },
      );
    }
    for (let i = 0; i < d.length; i++) d[i] = values[i] as number;
  }

  read(m: Matrix): FloatArray {
    return dataOf(m).slice();
  }

  dispose(_m: Matrix): void {}

  copy(src: Matrix, dst: Matrix): void {
    dataOf(dst).set(dataOf(src));
  }

  fill(m: Matrix, value: number): void {
    dataOf(m).fill(value);
  }

  gemm(a: Matrix, b: Matrix, out: Matrix, options: GemmOptions = {}): void {
    refuseGemmAlias(this.name, a, b, out);
    const { transA = false, transB = false, alpha = 1, beta = 0 } = options;
    const A = dataOf(a);
    const Bd = dataOf(b);
    const C = dataOf(out);
    const m = out.rows;
    const n = out.cols;
    const k = transA ? a.rows : a.cols;
    // Each entry is stored once as alpha * acc + beta * out, acc a float64 sum; with beta = 0
    // the previous out is not read (garbage, even NaN, is overwritten).
    if (!transB) {
      // out[i, :] = alpha sum_p op(a)[i, p] b[p, :]: rows of b are contiguous, and the row
      // is accumulated in a float64 scratch row, not in `out` (float32 on cpu-f32).
      const row = this.#scratchRow(n);
      for (let i = 0; i < m; i++) {
        row.fill(0, 0, n);
        for (let p = 0; p < k; p++) {
          // op(a)[i, p] is a[i, p], or a[p, i] for the batch outer-product accumulation.
          const av = (transA ? A[p * m + i] : A[i * k + p]) as number;
          if (av === 0) continue;
          const bp = p * n;
          for (let j = 0; j < n; j++) row[j] = (row[j] as number) + av * (Bd[bp + j] as number);
        }
        const ci = i * n;
        for (let j = 0; j < n; j++) {
          C[ci + j] = alpha * (row[j] as number) + (beta === 0 ? 0 : beta * (C[ci + j] as number));
        }
      }
    } else {
      // out[i, j] = alpha <op(a)[i, :], b[j, :]>.
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) {
          const bj = j * k;
          let acc = 0;
          if (transA) for (let p = 0; p < k; p++) acc += (A[p * m + i] as number) * (Bd[bj + p] as number);
          else for (let p = 0; p < k; p++) acc += (A[i * k + p] as number) * (Bd[bj + p] as number);
          const c = i * n + j;
          C[c] = alpha * acc + (beta === 0 ? 0 : beta * (C[c] as number));
        }
      }
    }
  }

  /** A float64 scratch row of at least `n` entries, grown (allocated) only when too short. */
  #scratchRow(n: number): Float64Array {
    if (this.#row.length < n) this.#row = new Float64Array(n);
    return this.#row;
  }

  broadcastRows(v: Matrix, out: Matrix): void {
    const V = dataOf(v);
    const O = dataOf(out);
    for (let r = 0; r < out.rows; r++) O.set(V, r * out.cols);
  }

  axpby(alpha: number, a: Matrix, beta: number, b: Matrix, out: Matrix): void {
    const A = dataOf(a);
    const Bd = dataOf(b);
    const O = dataOf(out);
    for (let i = 0; i < O.length; i++) O[i] = alpha * (A[i] as number) + beta * (Bd[i] as number);
  }

  mul(a: Matrix, b: Matrix, out: Matrix): void {
    const A = dataOf(a);
    const Bd = dataOf(b);
    const O = dataOf(out);
    for (let i = 0; i < O.length; i++) O[i] = (A[i] as number) * (Bd[i] as number);
  }

  activate(kind: ActivationKind, x: Matrix, out: Matrix): void {
    const X = dataOf(x);
    const O = dataOf(out);
    const n = O.length;
    if (kind === "hard-sigmoid") {
      for (let i = 0; i < n; i++) {
        const u = X[i] as number;
        O[i] = u < 0 ? 0 : u > 1 ? 1 : u;
      }
    } else if (kind === "sigmoid") {
      for (let i = 0; i < n; i++) O[i] = 1 / (1 + Math.exp(-4 * ((X[i] as number) - 0.5)));
    } else {
      for (let i = 0; i < n; i++) O[i] = Math.tanh(X[i] as number);
    }
  }

  activateDerivative(kind: ActivationKind, x: Matrix, out: Matrix): void {
    const X = dataOf(x);
    const O = dataOf(out);
    const n = O.length;
    if (kind === "hard-sigmoid") {
      for (let i = 0; i < n; i++) {
        const u = X[i] as number;
        O[i] = u >= 0 && u <= 1 ? 1 : 0;
      }
    } else if (kind === "sigmoid") {
      for (let i = 0; i < n; i++) {
        const r = 1 / (1 + Math.exp(-4 * ((X[i] as number) - 0.5)));
        O[i] = 4 * r * (1 - r);
      }
    } else {
      for (let i = 0; i < n; i++) {
        const t = Math.tanh(X[i] as number);
        O[i] = 1 - t * t;
      }
    }
  }

  softmaxRows(x: Matrix, out: Matrix): void {
    const X = dataOf(x);
    const O = dataOf(out);
    const n = x.cols;
    for (let r = 0; r < x.rows; r++) {
      const o = r * n;
      let max = Number.NEGATIVE_INFINITY;
      for (let j = 0; j < n; j++) max = Math.max(max, X[o + j] as number);
      let total = 0;
      for (let j = 0; j < n; j++) {
        const e = Math.exp((X[o + j] as number) - max);
        O[o + j] = e;
        total += e;
      }
      for (let j = 0; j < n; j++) O[o + j] = (O[o + j] as number) / total;
    }
  }

  eulerStep(s: Matrix, v: Matrix, dt: Matrix, out: Matrix, options: EulerStepOptions = {}): void {
    const S = dataOf(s);
    const V = dataOf(v);
    const D = dataOf(dt);
    const O = dataOf(out);
    const scale = options.scale ?? 1;
    const n = s.cols;
    const clip = options.clip;
    const lo = clip ? clip[0] : Number.NEGATIVE_INFINITY;
    const hi = clip ? clip[1] : Number.POSITIVE_INFINITY;
    for (let r = 0; r < s.rows; r++) {
      const o = r * n;
      for (let j = 0; j < n; j++) {
        const u = (S[o + j] as number) + scale * (D[j] as number) * (V[o + j] as number);
        O[o + j] = clip ? (u < lo ? lo : u > hi ? hi : u) : u;
      }
    }
  }

  columnSums(x: Matrix, out: Matrix, alpha = 1, beta = 0): void {
    const X = dataOf(x);
    const O = dataOf(out);
    const n = x.cols;
    for (let j = 0; j < n; j++) {
      let acc = 0;
      for (let r = 0; r < x.rows; r++) acc += X[r * n + j] as number;
      O[j] = alpha * acc + (beta === 0 ? 0 : beta * (O[j] as number));
    }
  }

  sgdStep(param: Matrix, grad: Matrix, velocity: Matrix | null, o: SgdStepOptions): void {
    sgdStepArrays(dataOf(param), dataOf(grad), velocity ? dataOf(velocity) : null, o);
  }

  adamStep(param: Matrix, grad: Matrix, m: Matrix, v: Matrix, o: AdamStepOptions): void {
    adamStepArrays(dataOf(param), dataOf(grad), dataOf(m), dataOf(v), o);
  }

  sum(m: Matrix): number {
    const d = dataOf(m);
    let acc = 0;
    for (let i = 0; i < d.length; i++) acc += d[i] as number;
    return acc;
  }

  dot(a: Matrix, b: Matrix): number {
    const A = dataOf(a);
    const Bd = dataOf(b);
    let acc = 0;
    for (let i = 0; i < A.length; i++) acc += (A[i] as number) * (Bd[i] as number);
    return acc;
  }

  maxAbsDiff(a: Matrix, b: Matrix): number {
    return maxAbsDiffOf(dataOf(a), dataOf(b));
  }

  heldMaxAbs(s: Matrix, g: Matrix, lo: number, hi: number): number {
    return heldMaxAbsOf(dataOf(s), dataOf(g), lo, hi);
  }

  findNonFinite(m: Matrix): number {
    const d = dataOf(m);
    for (let i = 0; i < d.length; i++) if (!Number.isFinite(d[i] as number)) return i;
    return -1;
  }

  argmaxRows(m: Matrix): Int32Array {
    return argmaxRowsOf(dataOf(m), 0, m.rows, m.cols);
  }
}

/** The portable float32 CPU backend (plain TypeScript loops). */
export function createCpuBackend(): Backend {
  return new CpuBackend("cpu-f32", "float32");
}

/** The float64 reference backend: the oracle other backends are checked against. */
export function createReferenceBackend(): Backend {
  return new CpuBackend("reference-f64", "float64");
}

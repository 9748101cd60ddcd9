import type {
  ActivationKind,
  AdamStepOptions,
  Backend,
  DriveGradientStep,
  EulerStepOptions,
  GemmOptions,
  GradientStepWithOptions,
  Matrix,
  SgdStepOptions,
} from "./backend.js";
import { KernelError, refuseGemmAlias } from "./errors.js";
import { maxAbsDiffOf } from "./host-arrays.js";
import { adamBiasCorrections } from "./optimizers.js";

// The parts of gpu.js 2.24.1 used here, typed locally (the package's own declarations
// describe its browser build and pull in DOM types).

/** A gpu.js output texture: reference counted, shared by `clone()`, freed by `delete()`. */
interface GpuJsTexture {
  readonly size: ArrayLike<number>;
  clone(): GpuJsTexture;
  delete(): void;
  renderRawOutput(): Float32Array;
}

/** A compiled gpu.js kernel (its "run shortcut"). */
interface GpuJsKernel {
  (...args: unknown[]): GpuJsTexture;
  /** The kernel object behind the shortcut; replaced when gpu.js switches or falls back. */
  readonly kernel: { readonly constructor: { readonly mode?: string }; readonly fallbackReason?: string };
}

/** A gpu.js `GPU` instance. */
export interface GpuJsInstance {
  readonly mode: string;
  readonly context: unknown;
  createKernel(source: string, settings: object): GpuJsKernel;
  destroy(): Promise<void>;
}

/** The gpu.js `GPU` class. */
export interface GpuJsClass {
  new (settings: { mode: string }): GpuJsInstance;
}

/** The gpu.js modes this backend runs on: each is a real GPU path (never `cpu` or `webasm`). */
export type GpuMode = "headlessgl" | "webgl2" | "webgl";

/** Options of {@link createGpuBackend}. */
export interface GpuBackendOptions {
  /**
   * The gpu.js mode: `headlessgl` (Node, through the optional native module `gl`) or
   * `webgl2` / `webgl` (browsers). Default: `headlessgl` in Node, `webgl2` elsewhere.
   */
  readonly mode?: GpuMode;
  /**
   * Accept a software rasterizer (Mesa llvmpipe, SwiftShader) as the GPU. Default true;
   * `createBackend({ prefer: "auto" })` passes false, so that `auto` does not pick a CPU
   * emulation of a GPU over the CPU backends.
   */
  readonly allowSoftwareRenderer?: boolean;
  /**
   * Loads gpu.js's `GPU` class with a WebGL for `headlessgl` mode (Node): the root entry
   * has none, so as not to import Node modules; `createGpuBackend` of `@hts/kernels/node`
   * passes `loadHeadlessGl`. Not used in the browser modes.
   */
  readonly loadGpu?: GpuLoader;
}

/** Loads gpu.js's `GPU` class for a platform, or says in words why it cannot. */
export type GpuLoader = () => Promise<{ readonly GPU: GpuJsClass } | { readonly unavailable: string }>;

/** The GPU backend: a {@link Backend} plus what it runs on. */
export interface GpuBackend extends Backend {
  /** The gpu.js mode in use. */
  readonly mode: GpuMode;
  /** The renderer string of the GL context, e.g. `ANGLE (Mesa/X.org llvmpipe ...)` or an NVIDIA one. */
  readonly renderer: string;
  /** True for a software rasterizer (llvmpipe, SwiftShader...), not a real GPU. */
  readonly software: boolean;
  /** One line for logs and run records: gpu.js version, mode and renderer. */
  readonly description: string;
  /**
   * Transfers from the GPU to the host so far: one per `read` and per reduction (`sum`,
   * `dot`, `maxAbsDiff`, `findNonFinite`, `argmaxRows`; one more when a non-finite value
   * makes `maxAbsDiff` or `findNonFinite` read the whole matrix). Compute methods add none.
   */
  readonly readBacks: number;
  /**
   * Kernel launches so far (draw calls: one per compute method, fused ones included, and one
   * per deferred result when it is first used). The fused operations render only the
   * layer's next state at once; their other results (`n`, `da`, `u`, `act`) are deferred:
   * computed, from the inputs as they were, when something uses them, and never if they
   * are overwritten first (as the relaxation does with all but the last).
   */
  readonly launches: number;
  /** Frees every texture and the GL context; the backend is unusable afterwards. */
  destroy(): Promise<void>;
}

/** The gpu.js version this backend is written and tested against (pinned in package.json). */
export const GPU_JS_VERSION = "2.24.1";

const SOFTWARE_RENDERER = /llvmpipe|softpipe|lavapipe|swiftshader|software|basic render/i;

/** A result not rendered yet: the kernel and its inputs (textures held by a reference of their own). */
interface Deferred {
  run(): GpuJsTexture;
  /** Drops the inputs' references. */
  release(): void;
  /**
   * What the result is, for the kernels that read it inline instead of rendering it: a
   * row vector repeated over the rows (`broadcastRows`), or an activation of a texture.
   */
  readonly form?: { readonly broadcast: GpuJsTexture } | { readonly kind: ActivationKind; readonly of: GpuJsTexture };
}

/** The texture an operand is the activation of, when it is a deferred activation (read inline). */
function activationOf(m: Matrix): { readonly kind: ActivationKind; readonly of: GpuJsTexture } | null {
  const f = (m as GpuMatrix).deferred?.form;
  return f !== undefined && "kind" in f ? f : null;
}

/** The row vector a deferred broadcast repeats, else null. */
function broadcastOf(m: Matrix): GpuJsTexture | null {
  const f = (m as GpuMatrix).deferred?.form;
  return f !== undefined && "broadcast" in f ? f.broadcast : null;
}

/**
 * A matrix whose values live in a gpu.js texture (one float32 per texel, row-major order),
 * or are deferred: rendered when first used (see {@link GpuBackend.launches}).
 */
class GpuMatrix implements Matrix {
  readonly rows: number;
  readonly cols: number;
  readonly backend: string;
  tex: GpuJsTexture | null;
  deferred: Deferred | null = null;
  constructor(rows: number, cols: number, backend: string, tex: GpuJsTexture) {
    this.rows = rows;
    this.cols = cols;
    this.backend = backend;
    this.tex = tex;
  }
}

/** The texture of `m`, rendering its deferred result first. */
function texOf(m: Matrix): GpuJsTexture {
  const g = m as GpuMatrix;
  const d = g.deferred;
  if (d !== null) {
    g.deferred = null;
    try {
      g.tex = d.run();
    } finally {
      d.release();
    }
  }
  return g.tex as GpuJsTexture;
}

/** Drops what `m` holds: its texture (the GPU keeps it while a draw reads it) or its deferred result. */
function clear(m: GpuMatrix): void {
  const d = m.deferred;
  m.deferred = null;
  d?.release();
  const old = m.tex;
  m.tex = null;
  old?.delete();
}

/** Replaces what `m` holds with the texture `t`. */
function assign(m: Matrix, t: GpuJsTexture): void {
  clear(m as GpuMatrix);
  (m as GpuMatrix).tex = t;
}

/** Replaces what `m` holds with a deferred result. */
function defer(m: Matrix, d: Deferred): void {
  clear(m as GpuMatrix);
  (m as GpuMatrix).deferred = d;
}

function isTexture(v: unknown): v is GpuJsTexture {
  return typeof v === "object" && v !== null && typeof (v as GpuJsTexture).clone === "function" && typeof (v as GpuJsTexture).renderRawOutput === "function";
}

// Element-wise formulas in gpu.js's JavaScript subset; `u` is the input value.
const ACTIVATE: Readonly<Record<ActivationKind, string>> = {
  "hard-sigmoid": "return u < 0 ? 0 : (u > 1 ? 1 : u);",
  sigmoid: "return 1 / (1 + Math.exp(-4 * (u - 0.5)));",
  // tanh from exp(-2|u|), which cannot overflow: (1 - t) / (1 + t) with the sign of u.
  tanh: "const t = Math.exp(-2 * Math.abs(u)); const r = (1 - t) / (1 + t); return u < 0 ? -r : r;",
};
const DERIVATIVE: Readonly<Record<ActivationKind, string>> = {
  "hard-sigmoid": "return (u >= 0 && u <= 1) ? 1 : 0;",
  sigmoid: "const r = 1 / (1 + Math.exp(-4 * (u - 0.5))); return 4 * r * (1 - r);",
  tanh: "const t = Math.exp(-2 * Math.abs(u)); const r = (1 - t) / (1 + t); return 1 - r * r;",
};

/** An activation formula (`u` in, `return ...;`) as statements that set `name` instead. */
function inline(formula: string, name: string): string {
  const at = formula.lastIndexOf("return ");
  return `${formula.slice(0, at)}const ${name} = ${formula.slice(at + 7)}`;
}

/** A factor of a product as read in the loop over p: the texel, or the activation of it computed inline. */
function operand(texel: string, rho: { readonly kind: ActivationKind } | null, name: string): { readonly code: string; readonly value: string } {
  if (rho === null) return { code: "", value: texel };
  const u = `${name}In`;
  return { code: `const ${u} = ${texel}; ${inline(ACTIVATE[rho.kind], name).replaceAll(/\bu\b/g, u)}`, value: name };
}

/** The clipped Euler step of the gradient rule from u (the state), v (the velocity), d, scale, lo and hi. */
const STEP = "const e = u + scale * d[0][x] * v; return e < lo ? lo : (e > hi ? hi : e);";

/**
 * The gpu.js backend. Every matrix is a float32 texture that stays on the GPU; each compute
 * method runs one or a few fragment-shader kernels (gpu.js pipeline mode) that read input
 * textures and render a new output texture, which replaces the old one of `out`. Because
 * outputs are never rendered into a texture that is being read, every aliasing that the
 * Backend contract allows works without a temporary (gemm refuses aliasing anyway, as on
 * every backend, see backend.ts). Only `read` and the reductions read back, and the reductions
 * reduce each row on the GPU and read back one float per row.
 *
 * Kernels are compiled once per operation and shape (EP uses a handful of shapes) and
 * cached; loop bounds are compile-time constants.
 */
class GpuJsBackend implements GpuBackend {
  readonly name: string;
  readonly precision = "float32" as const;
  readonly mode: GpuMode;
  readonly renderer: string;
  readonly software: boolean;
  readonly description: string;
  readBacks = 0;
  launches = 0;
  readonly #gpu: GpuJsInstance;
  readonly #kernels = new Map<string, GpuJsKernel>();

  constructor(gpu: GpuJsInstance, mode: GpuMode, renderer: string) {
    this.#gpu = gpu;
    this.mode = mode;
    this.name = mode === "webgl2" ? "gpu-webgl2" : "gpu-webgl";
    this.renderer = renderer;
    this.software = SOFTWARE_RENDERER.test(renderer);
    this.description = `gpu.js ${GPU_JS_VERSION} ${mode} on ${renderer}${this.software ? " (a software renderer)" : ""}`;
  }

  /**
   * The kernel for `key`, compiled from `source` on first use with an output of
   * `output` ([cols, rows] or [rows]). A kernel that gpu.js would run on its CPU fallback
   * instead of the GPU is an error, never a silent fallback.
   */
  #run(key: string, output: readonly number[], loop: number, source: string, args: readonly unknown[]): GpuJsTexture {
    let k = this.#kernels.get(key);
    const fresh = k === undefined;
    if (k === undefined) {
      k = this.#gpu.createKernel(source, {
        output: [...output],
        pipeline: true,
        immutable: true,
        precision: "single",
        tactic: "precision",
        loopMaxIterations: Math.max(1, loop),
      });
      this.#kernels.set(key, k);
    }
    this.launches++;
    const t = k(...args);
    if (fresh) this.#checkOnGpu(k, key);
    return t;
  }

  /**
   * An element-wise kernel over `out`'s shape, deferred: its texture inputs are held as
   * they are now, and it renders when `out` is first used (never, if `out` is overwritten first).
   */
  #deferElement(op: string, out: Matrix, body: string, params: string, args: readonly unknown[], form?: "broadcast" | ActivationKind): void {
    this.#deferRun(out, args, (held) => this.#element(op, out.rows, out.cols, body, params, held), form);
  }

  /**
   * Defers `run` on `out`: the texture inputs among `args` are held (cloned) until it runs or
   * is dropped; `form` (the first input is the broadcast row or the activation's argument)
   * lets products read the result inline.
   */
  #deferRun(out: Matrix, args: readonly unknown[], run: (held: readonly unknown[]) => GpuJsTexture, form?: "broadcast" | ActivationKind): void {
    const held = args.map((a) => (isTexture(a) ? a.clone() : a));
    const first = held[0] as GpuJsTexture;
    defer(out, {
      run: () => run(held),
      release: () => {
        for (const a of held) if (isTexture(a)) a.delete();
      },
      ...(form === undefined ? {} : { form: form === "broadcast" ? { broadcast: first } : { kind: form, of: first } }),
    });
  }

  #checkOnGpu(k: GpuJsKernel, key: string): void {
    const mode = k.kernel.constructor.mode;
    if (mode !== "gpu") {
      this.#kernels.delete(key);
      const why = k.kernel.fallbackReason ? `: ${k.kernel.fallbackReason}` : "";
      throw new KernelError(
        "HTS_BACKEND_UNAVAILABLE",
        `${this.name}: gpu.js ran the ${key.split(":")[0]} kernel in its ${String(mode)} mode instead of on the GPU${why}`,
        { parameter: "backend", value: mode, expected: "a gpu.js GPU kernel" },
      );
    }
  }

  /** Runs an element-wise kernel over an R x C output into a new texture. */
  #element(op: string, rows: number, cols: number, body: string, params: string, args: readonly unknown[]): GpuJsTexture {
    const src = `function(${params}) { const y = this.thread.y; const x = this.thread.x; ${body} }`;
    return this.#run(`${op}:${rows}x${cols}`, [cols, rows], 0, src, args);
  }

  /** Runs an element-wise kernel into `out`. */
  #map(op: string, out: Matrix, body: string, params: string, args: readonly unknown[]): void {
    assign(out, this.#element(op, out.rows, out.cols, body, params, args));
  }

  matrix(rows: number, cols: number, values?: ArrayLike<number>): Matrix {
    if (!Number.isInteger(rows) || rows < 1 || !Number.isInteger(cols) || cols < 1) {
      throw new KernelError(
        "HTS_INVALID_ARGUMENT",
        `${this.name}.matrix: shape must be two positive integers, got ${String(rows)} x ${String(cols)}`,
        { parameter: "shape", value: [rows, cols], expected: "positive integers" },
      );
    }
    if (values !== undefined) this.#checkLength("matrix", rows * cols, rows, cols, values);
    const m = new GpuMatrix(rows, cols, this.name, this.#element("fill", rows, cols, "return value;", "value", [0]));
    if (values !== undefined) this.write(m, values);
    return m;
  }

  #checkLength(fn: string, n: number, rows: number, cols: number, values: ArrayLike<number>): void {
    if (values.length !== n) {
      throw new KernelError(
        "HTS_SHAPE_MISMATCH",
        `${this.name}.${fn}: ${rows} x ${cols} matrix needs ${n} values, got ${values.length}`,
        { parameter: "values", value: values.length, expected: `${n} values` },
      );
    }
  }

  write(m: Matrix, values: ArrayLike<number>): void {
    const { rows, cols } = m;
    this.#checkLength("write", rows * cols, rows, cols, values);
    // Uploaded as a flat float32 array (four values per texel) and spread to one per texel.
    const flat = values instanceof Float32Array ? values : Float32Array.from(values);
    this.#map("write", m, `return v[y * ${cols} + x];`, "v", [flat]);
  }

  read(m: Matrix): Float32Array {
    this.readBacks++;
    const t = texOf(m);
    const raw = t.renderRawOutput();
    const n = m.rows * m.cols;
    const stride = raw.length / ((t.size[0] as number) * (t.size[1] as number));
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = raw[i * stride] as number;
    return out;
  }

  dispose(m: Matrix): void {
    clear(m as GpuMatrix);
  }

  copy(src: Matrix, dst: Matrix): void {
    // Textures are never rendered into once made, so dst can share src's texture.
    assign(dst, texOf(src).clone());
  }

  fill(m: Matrix, value: number): void {
    this.#map("fill", m, "return value;", "value", [value]);
  }

  gemm(a: Matrix, b: Matrix, out: Matrix, options: GemmOptions = {}): void {
    refuseGemmAlias(this.name, a, b, out);
    const { transA = false, transB = false, alpha = 1, beta = 0 } = options;
    const k = transA ? a.rows : a.cols;
    // Deferred activations among the factors and a deferred broadcast in C (a layer's
    // bias) are read inline, so that they need no launch of their own.
    const ra = activationOf(a);
    const rb = activationOf(b);
    const bias = beta === 0 ? null : broadcastOf(out);
    const av = operand(transA ? "a[p][y]" : "a[y][p]", ra, "actA");
    const bv = operand(transB ? "b[x][p]" : "b[p][x]", rb, "actB");
    // With beta = 0 the previous out is not read (garbage, even NaN, is overwritten).
    const tail = beta === 0 ? "return alpha * acc;" : `return alpha * acc + beta * ${bias ? "c[0][x]" : "c[y][x]"};`;
    const src = `function(a, b, c, alpha, beta) {
      const y = this.thread.y; const x = this.thread.x;
      let acc = 0;
      for (let p = 0; p < ${k}; p++) { ${av.code} ${bv.code} acc += ${av.value} * ${bv.value}; }
      ${tail}
    }`;
    const forms = `${ra ? `:rho-a-${ra.kind}` : ""}${rb ? `:rho-b-${rb.kind}` : ""}${bias ? ":bias" : ""}`;
    const key = `gemm${transA ? "T" : "N"}${transB ? "T" : "N"}${beta === 0 ? "0" : "1"}:${a.rows}x${a.cols}:${b.rows}x${b.cols}${forms}`;
    const c = beta === 0 ? 0 : (bias ?? texOf(out));
    assign(out, this.#run(key, [out.cols, out.rows], k, src, [ra ? ra.of : texOf(a), rb ? rb.of : texOf(b), c, alpha, beta]));
  }

  broadcastRows(v: Matrix, out: Matrix): void {
    this.#deferElement("broadcast", out, "return v[0][x];", "v", [texOf(v)], "broadcast");
  }

  axpby(alpha: number, a: Matrix, beta: number, b: Matrix, out: Matrix): void {
    this.#map("axpby", out, "return alpha * a[y][x] + beta * b[y][x];", "a, b, alpha, beta", [texOf(a), texOf(b), alpha, beta]);
  }

  mul(a: Matrix, b: Matrix, out: Matrix): void {
    this.#map("mul", out, "return a[y][x] * b[y][x];", "a, b", [texOf(a), texOf(b)]);
  }

  activate(kind: ActivationKind, x: Matrix, out: Matrix): void {
    this.#deferElement(`activate-${kind}`, out, `const u = a[y][x]; ${ACTIVATE[kind]}`, "a", [texOf(x)], kind);
  }

  activateDerivative(kind: ActivationKind, x: Matrix, out: Matrix): void {
    this.#map(`derivative-${kind}`, out, `const u = a[y][x]; ${DERIVATIVE[kind]}`, "a", [texOf(x)]);
  }

  softmaxRows(x: Matrix, out: Matrix): void {
    const n = x.cols;
    const src = `function(a) {
      const y = this.thread.y;
      let m = a[y][0];
      for (let j = 1; j < ${n}; j++) { const v = a[y][j]; if (v > m) { m = v; } }
      let total = 0;
      for (let j = 0; j < ${n}; j++) { total += Math.exp(a[y][j] - m); }
      return Math.exp(a[y][this.thread.x] - m) / total;
    }`;
    assign(out, this.#run(`softmax:${x.rows}x${n}`, [n, x.rows], n, src, [texOf(x)]));
  }

  eulerStep(s: Matrix, v: Matrix, dt: Matrix, out: Matrix, options: EulerStepOptions = {}): void {
    const scale = options.scale ?? 1;
    const clip = options.clip;
    // Comparisons, not min/max, so that a NaN passes through as it does on the CPU.
    const ret = clip ? "return u < lo ? lo : (u > hi ? hi : u);" : "return u;";
    this.#map(
      `euler${clip ? "-clip" : ""}`,
      out,
      `const u = s[y][x] + scale * d[0][x] * v[y][x]; ${ret}`,
      "s, v, d, scale, lo, hi",
      [texOf(s), texOf(v), texOf(dt), scale, clip ? clip[0] : 0, clip ? clip[1] : 0],
    );
  }

  leakyStep(kind: ActivationKind, s: Matrix, u: Matrix, dt: Matrix, out: Matrix): void {
    // out = s + dt (.) (rho(u) - s) in one launch; u = rho(u) - s deferred.
    const args = [texOf(s), texOf(u), texOf(dt)];
    const r = `const u = a[y][x]; ${inline(ACTIVATE[kind], "actU")}`;
    this.#map(`leaky-step-${kind}`, out, `${r} const v = actU - s[y][x]; return s[y][x] + d[0][x] * v;`, "s, a, d", args);
    this.#deferElement(`leaky-u-${kind}`, u, `${r} return actU - s[y][x];`, "s, a, d", args);
  }

  gradientTail(kind: ActivationKind, s: Matrix, n: Matrix, da: Matrix): void {
    // Both results deferred: da = rho'(s); n = s - da (.) n.
    const args = [texOf(s), texOf(n)];
    const g = `const u = s[y][x]; ${inline(DERIVATIVE[kind], "derivU")}`;
    this.#deferElement(`tail-n-${kind}`, n, `${g} return u - derivU * n[y][x];`, "s, n", args);
    this.#deferElement(`derivative-${kind}`, da, `const u = a[y][x]; ${DERIVATIVE[kind]}`, "a", [args[0]]);
  }

  gradientStep(kind: ActivationKind, s: Matrix, n: Matrix, da: Matrix, dt: Matrix, out: Matrix, options: GradientStepWithOptions): void {
    // out = clip(s + scale dt (.) (s - rho'(s) (.) n [+ alpha m])) in one launch; n and da deferred.
    const add = options.add;
    const g = `const u = s[y][x]; ${inline(DERIVATIVE[kind], "derivU")}`;
    if (add !== undefined) {
      const args = [texOf(s), texOf(n), texOf(dt), options.scale, options.clip[0], options.clip[1], texOf(add.m), add.alpha];
      const v = `${g} const t0 = u - derivU * n[y][x]; const v = 1 * t0 + alpha * m[y][x];`;
      const params = "s, n, d, scale, lo, hi, m, alpha";
      this.#map(`gradient-step-add-${kind}`, out, `${v} ${STEP}`, params, args);
      this.#deferElement(`tail-n-add-${kind}`, n, `${v} return v;`, params, args);
      this.#deferElement(`derivative-${kind}`, da, `const u = a[y][x]; ${DERIVATIVE[kind]}`, "a", [args[0]]);
      return;
    }
    const args = [texOf(s), texOf(n), texOf(dt), options.scale, options.clip[0], options.clip[1]];
    this.#map(`gradient-step-${kind}`, out, `${g} const v = u - derivU * n[y][x]; ${STEP}`, "s, n, d, scale, lo, hi", args);
    this.#deferElement(`tail-n-${kind}`, n, `${g} return u - derivU * n[y][x];`, "s, n", args.slice(0, 2));
    this.#deferElement(`derivative-${kind}`, da, `const u = a[y][x]; ${DERIVATIVE[kind]}`, "a", [args[0]]);
  }

  driveStep(a: Matrix, w: Matrix, base: Matrix, n: Matrix, step: DriveGradientStep | null): void {
    // n = base + a w^T, then the gradient rule's step on it: the step's out in one launch
    // (the product summed in the same kernel), n, da and act deferred.
    const k = a.cols;
    const ra = activationOf(a);
    const av = operand("a[y][p]", ra, "actA");
    const sum = `let acc = 0; for (let p = 0; p < ${k}; p++) { ${av.code} acc += ${av.value} * w[x][p]; } const sumT = acc + b[y][x];`;
    const shapes = `${a.rows}x${k}:${w.rows}x${k}${ra ? `:rho-a-${ra.kind}` : ""}`;
    const inputs = [ra ? ra.of : texOf(a), texOf(w), texOf(base)];
    if (step === null) {
      assign(n, this.#run(`drive:${shapes}`, [n.cols, n.rows], k, `function(a, w, b) { const y = this.thread.y; const x = this.thread.x; ${sum} return sumT; }`, inputs));
      return;
    }
    const { kind } = step;
    const args = [...inputs, texOf(step.s), texOf(step.dt), step.scale, step.clip[0], step.clip[1]];
    const g = `const u = s[y][x]; ${inline(DERIVATIVE[kind], "derivU")}`;
    const params = "a, w, b, s, d, scale, lo, hi";
    const src = (ret: string) => `function(${params}) { const y = this.thread.y; const x = this.thread.x; ${sum} ${g} const v = u - derivU * sumT; ${ret} }`;
    assign(step.out, this.#run(`drive-step-${kind}:${shapes}`, [n.cols, n.rows], k, src(STEP), args));
    this.#deferRun(n, args, (held) => this.#run(`drive-n-${kind}:${shapes}`, [n.cols, n.rows], k, src("return v;"), held));
    this.#deferElement(`derivative-${kind}`, step.da, `const u = a[y][x]; ${DERIVATIVE[kind]}`, "a", [args[3]]);
    if (step.act !== null) this.#deferElement(`activate-${kind}`, step.act, `const u = a[y][x]; ${ACTIVATE[kind]}`, "a", [args[3]], kind);
  }

  squaredErrorGradient(rate: ActivationKind | null, s: Matrix, tgt: Matrix, out: Matrix, alpha?: number): void {
    // g = r'(s) (.) (r(s) - y), then out = g or out + alpha g, in one launch (the
    // composition's operations in its order: r - y as 1 r + -1 y, then d (.) (r - y)).
    const rho = rate === null ? "const actU = u;" : inline(ACTIVATE[rate], "actU");
    // The derivative's temporaries renamed, so that they do not clash with the activation's.
    const deriv = rate === null ? "" : inline(DERIVATIVE[rate], "derivU").replaceAll(/\bt\b/g, "tD").replaceAll(/\br\b/g, "rD");
    const g = rate === null ? "const g = 1 * u + -1 * q[y][x];" : `${deriv} const g = derivU * (1 * actU + -1 * q[y][x]);`;
    const ret = alpha === undefined ? "return g;" : "return 1 * c[y][x] + alpha * g;";
    const args = [texOf(s), texOf(tgt), alpha === undefined ? 0 : texOf(out), alpha ?? 0];
    this.#map(`mse-gradient-${rate ?? "identity"}${alpha === undefined ? "" : "-add"}`, out, `const u = s[y][x]; ${rho} ${g} ${ret}`, "s, q, c, alpha", args);
  }

  columnSums(x: Matrix, out: Matrix, alpha = 1, beta = 0): void {
    const r = x.rows;
    const tail = beta === 0 ? "return alpha * acc;" : "return alpha * acc + beta * c[0][this.thread.x];";
    const src = `function(a, c, alpha, beta) {
      let acc = 0;
      for (let i = 0; i < ${r}; i++) { acc += a[i][this.thread.x]; }
      ${tail}
    }`;
    const c = beta === 0 ? 0 : texOf(out);
    assign(out, this.#run(`colsums${beta === 0 ? "0" : "1"}:${r}x${x.cols}`, [x.cols, 1], r, src, [texOf(x), c, alpha, beta]));
  }

  sgdStep(param: Matrix, grad: Matrix, velocity: Matrix | null, o: SgdStepOptions): void {
    const p = texOf(param);
    const g = texOf(grad);
    if (velocity === null) {
      this.#map("sgd", param, "return p[y][x] - lr * (g[y][x] + wd * p[y][x]);", "p, g, lr, wd", [p, g, o.lr, o.weightDecay]);
      return;
    }
    // velocity = momentum velocity + (grad + wd param); param -= lr velocity.
    this.#map(
      "sgd-velocity",
      velocity,
      "return mom * v[y][x] + g[y][x] + wd * p[y][x];",
      "v, g, p, mom, wd",
      [texOf(velocity), g, p, o.momentum, o.weightDecay],
    );
    this.#map("sgd-momentum", param, "return p[y][x] - lr * v[y][x];", "p, v, lr", [p, texOf(velocity), o.lr]);
  }

  adamStep(param: Matrix, grad: Matrix, m: Matrix, v: Matrix, o: AdamStepOptions): void {
    const p = texOf(param);
    const g = texOf(grad);
    const gi = "const gi = g[y][x] + wd * p[y][x];";
    this.#map("adam-m", m, `${gi} return b1 * m[y][x] + (1 - b1) * gi;`, "m, g, p, b1, wd", [texOf(m), g, p, o.beta1, o.weightDecay]);
    this.#map("adam-v", v, `${gi} return b2 * v[y][x] + (1 - b2) * gi * gi;`, "v, g, p, b2, wd", [texOf(v), g, p, o.beta2, o.weightDecay]);
    const [c1, c2] = adamBiasCorrections(o);
    this.#map(
      "adam-p",
      param,
      "return p[y][x] - (lr * (m[y][x] / c1)) / (Math.sqrt(v[y][x] / c2) + eps);",
      "p, m, v, lr, c1, c2, eps",
      [p, texOf(m), texOf(v), o.lr, c1, c2, o.epsilon],
    );
  }

  /**
   * One value per row of `a` (R x C), computed on the GPU by `body` with the row's loop
   * over `j` (the variables `y`, the row, and `zero`, a runtime 0, are in scope), read back.
   */
  #rows(op: string, a: Matrix, body: string, args: readonly unknown[]): Float32Array {
    const { rows, cols } = a;
    const src = `function(a, b, zero) { const y = this.thread.x; ${body} }`;
    const t = this.#run(`${op}:${rows}x${cols}`, [rows], cols, src, [texOf(a), ...args]);
    try {
      this.readBacks++;
      const raw = t.renderRawOutput();
      const stride = raw.length / ((t.size[0] as number) * (t.size[1] as number));
      const out = new Float32Array(rows);
      for (let i = 0; i < rows; i++) out[i] = raw[i * stride] as number;
      return out;
    } finally {
      t.delete();
    }
  }

  sum(m: Matrix): number {
    const r = this.#rows("rowsum", m, `let s = 0; for (let j = 0; j < ${m.cols}; j++) { s += a[y][j]; } return s;`, [0, 0]);
    let acc = 0;
    for (let i = 0; i < r.length; i++) acc += r[i] as number;
    return acc;
  }

  dot(a: Matrix, b: Matrix): number {
    const r = this.#rows("rowdot", a, `let s = 0; for (let j = 0; j < ${a.cols}; j++) { s += a[y][j] * b[y][j]; } return s;`, [
      texOf(b),
      0,
    ]);
    let acc = 0;
    for (let i = 0; i < r.length; i++) acc += r[i] as number;
    return acc;
  }

  maxAbsDiff(a: Matrix, b: Matrix): number {
    // The row maximum, plus a probe that is 0 for finite differences and NaN otherwise
    // (x * 0 with a runtime zero: GLSL's max() and comparisons do not propagate NaN).
    const r = this.#rows(
      "rowmaxabsdiff",
      a,
      `let m = 0; let probe = 0;
       for (let j = 0; j < ${a.cols}; j++) { const d = Math.abs(a[y][j] - b[y][j]); if (d > m) { m = d; } probe += d * zero; }
       return m + probe;`,
      [texOf(b), 0],
    );
    let max = 0;
    for (let i = 0; i < r.length; i++) {
      const d = r[i] as number;
      // A non-finite difference somewhere: settle it exactly on the host, as the CPU does.
      if (!Number.isFinite(d)) return maxAbsDiffOf(this.read(a), this.read(b));
      if (d > max) max = d;
    }
    return max;
  }

  findNonFinite(m: Matrix): number {
    // Per row, the sum of x * 0 (runtime zero): 0 when every entry is finite, NaN otherwise.
    const r = this.#rows("rowfinite", m, `let s = 0; for (let j = 0; j < ${m.cols}; j++) { s += a[y][j] * zero; } return s;`, [0, 0]);
    for (let i = 0; i < r.length; i++) {
      if (!Number.isFinite(r[i] as number)) {
        const d = this.read(m);
        for (let k = i * m.cols; k < d.length; k++) if (!Number.isFinite(d[k] as number)) return k;
      }
    }
    return -1;
  }

  argmaxRows(m: Matrix): Int32Array {
    const r = this.#rows(
      "rowargmax",
      m,
      `let best = 0; let bv = a[y][0];
       for (let j = 1; j < ${m.cols}; j++) { const v = a[y][j]; if (v > bv) { bv = v; best = j; } }
       return best;`,
      [0, 0],
    );
    return Int32Array.from(r);
  }

  async destroy(): Promise<void> {
    this.#kernels.clear();
    await this.#gpu.destroy();
  }
}

function unavailable(message: string, value: unknown = undefined): KernelError {
  return new KernelError("HTS_BACKEND_UNAVAILABLE", `createGpuBackend: ${message}`, {
    parameter: "mode",
    value,
    expected: "a GPU context that gpu.js can run kernels on",
  });
}

/** The parts of a WebGL context read for the renderer string. */
interface GlContext {
  readonly RENDERER: number;
  getParameter(p: number): unknown;
  getExtension(name: string): unknown;
  _getParameterDirect?(p: number): unknown;
}

/** The real renderer string: headless-gl hides it behind "ANGLE", browsers behind the debug extension. */
function rendererOf(context: unknown): string {
  const gl = context as GlContext | null;
  if (!gl || typeof gl.getParameter !== "function") return "unknown renderer";
  try {
    if (typeof gl._getParameterDirect === "function") return String(gl._getParameterDirect(gl.RENDERER));
    const debug = gl.getExtension("WEBGL_debug_renderer_info") as { UNMASKED_RENDERER_WEBGL: number } | null;
    return String(gl.getParameter(debug ? debug.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
  } catch {
    return "unknown renderer";
  }
}

function isNode(): boolean {
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof p?.versions?.node === "string" && typeof (globalThis as { document?: unknown }).document === "undefined";
}

/**
 * Creates the gpu.js backend (`gpu-webgl` on headless-gl in Node, `gpu-webgl2` in a
 * browser). gpu.js is imported here, lazily, so that code that never asks for the GPU
 * never loads it. Throws `HTS_BACKEND_UNAVAILABLE` saying what is missing (the native
 * module `gl` not built, no X display, no WebGL2, only gpu.js's CPU fallback, a software
 * renderer when `allowSoftwareRenderer` is false) instead of falling back.
 */
export async function createGpuBackend(options: GpuBackendOptions = {}): Promise<GpuBackend> {
  const node = isNode();
  const mode: GpuMode = options.mode ?? (node ? "headlessgl" : "webgl2");
  let GPU: GpuJsClass;
  if (node && mode === "headlessgl") {
    if (options.loadGpu === undefined) {
      throw unavailable("in Node the GPU runs through headless-gl, which the platform-neutral entry does not load: use createGpuBackend or createBackend of @hts/kernels/node", mode);
    }
    const r = await options.loadGpu();
    if ("unavailable" in r) throw unavailable(r.unavailable, mode);
    GPU = r.GPU;
  } else {
    if (node) throw unavailable(`gpu.js mode ${mode} needs a browser; in Node only headlessgl runs on a GPU`, mode);
    let mod: { GPU?: GpuJsClass; default?: { GPU?: GpuJsClass } };
    try {
      mod = (await import("gpu.js")) as unknown as typeof mod;
    } catch (error) {
      throw unavailable(`gpu.js could not be loaded: ${(error as Error).message}`, mode);
    }
    const found = mod.GPU ?? mod.default?.GPU;
    if (found === undefined) throw unavailable("gpu.js has no GPU export", mode);
    GPU = found;
  }
  let gpu: GpuJsInstance;
  try {
    gpu = new GPU({ mode });
  } catch (error) {
    const what = mode === "headlessgl" ? "headless-gl" : mode.toUpperCase().replace("WEBGL", "WebGL");
    throw unavailable(`gpu.js cannot run in ${mode} mode here (${what} not supported): ${(error as Error).message}`, mode);
  }
  if (gpu.mode !== mode) {
    await gpu.destroy().catch(() => {});
    throw unavailable(`gpu.js chose its ${gpu.mode} mode instead of ${mode}`, mode);
  }
  let backend: GpuJsBackend | undefined;
  try {
    // Compile and run one kernel: it creates the context, and proves float textures render.
    const probe = gpu.createKernel("function(v) { return v[this.thread.x] * 2; }", {
      output: [3],
      pipeline: true,
      immutable: true,
      precision: "single",
      tactic: "precision",
    });
    const t = probe(new Float32Array([1, -2.5, 1e-3]));
    if (probe.kernel.constructor.mode !== "gpu") {
      throw unavailable(`only gpu.js's ${String(probe.kernel.constructor.mode)} fallback is available (${probe.kernel.fallbackReason ?? "no GPU kernel could be built"})`, mode);
    }
    const raw = t.renderRawOutput();
    const stride = raw.length / ((t.size[0] as number) * (t.size[1] as number));
    const got = [raw[0], raw[stride], raw[2 * stride]];
    t.delete();
    if (got[0] !== 2 || got[1] !== -5 || got[2] !== Math.fround(2e-3)) {
      throw unavailable(`the GPU's float32 textures returned ${got.join(", ")} for 2, -5, 0.002`, mode);
    }
    backend = new GpuJsBackend(gpu, mode, rendererOf(gpu.context));
  } catch (error) {
    await gpu.destroy().catch(() => {});
    if (error instanceof KernelError) throw error;
    throw unavailable(`gpu.js could not run a kernel in ${mode} mode: ${(error as Error).message}`, mode);
  }
  if (backend.software && options.allowSoftwareRenderer === false) {
    const renderer = backend.renderer;
    await backend.destroy().catch(() => {});
    throw unavailable(`only a software renderer is available (${renderer}), not a GPU`, mode);
  }
  return backend;
}

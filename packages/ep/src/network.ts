import type { Distribution, Rng } from "@hts/distributions";
import { sampleLayers } from "@hts/distributions";
import { type NetworkParams, validateSizes } from "@hts/energy";
import type { Backend, Matrix } from "@hts/kernels";
import { EpError, invalid } from "./errors.js";

/**
 * A layered network on a backend: parameters (W_l as n_{l-1} x n_l, b_l as 1 x n_l) and
 * the per-neuron time steps dt_l (1 x n_l) of layers 1..L, fixed after creation.
 */
export interface Network {
  readonly backend: Backend;
  readonly sizes: readonly number[];
  readonly params: NetworkParams;
  readonly dt: readonly Matrix[];
}

/** Host copies of a network's tensors (our layout: W_l is n_{l-1} x n_l, row-major). */
export interface NetworkSnapshot {
  readonly sizes: readonly number[];
  readonly W: readonly Float32Array[];
  readonly b: readonly Float32Array[];
  readonly dt: readonly Float32Array[];
}

/** How dt is set: a distribution sampled per neuron, a scalar, or explicit vectors. */
export type DtSpec = Distribution | number | readonly Float32Array[];

/** Options of {@link createNetwork}. */
export interface CreateNetworkOptions {
  readonly backend: Backend;
  /** Layer sizes n_0 (input) .. n_L (output). */
  readonly sizes: readonly number[];
  /** The time steps of layers 1..L. */
  readonly dt: DtSpec;
  /** Draws the Glorot-uniform weights. */
  readonly weightRng: Rng;
  /** Draws dt when `dt` is a distribution. */
  readonly dtRng?: Rng;
}

function isDistribution(dt: DtSpec): dt is Distribution {
  return typeof dt === "object" && dt !== null && "sample" in dt && typeof (dt as Distribution).sample === "function";
}

function dtVectors(sizes: readonly number[], spec: DtSpec, rng: Rng | undefined): Float32Array[] {
  const layers = sizes.slice(1);
  if (typeof spec === "number") {
    if (!Number.isFinite(spec) || spec <= 0) invalid("createNetwork", "dt", spec, "a finite number > 0");
    return layers.map((n) => new Float32Array(n).fill(spec));
  }
  if (isDistribution(spec)) {
    if (rng === undefined) invalid("createNetwork", "dtRng", rng, "an Rng when dt is a distribution");
    return sampleLayers(spec, rng, layers);
  }
  if (!Array.isArray(spec) || spec.length !== layers.length) {
    invalid("createNetwork", "dt", `${(spec as unknown[]).length} vectors`, `${layers.length} vectors (layers 1..L)`);
  }
  return layers.map((n, i) => {
    const v = spec[i] as Float32Array;
    if (v.length !== n) invalid("createNetwork", `dt[${i + 1}]`, `length ${v.length}`, `length ${n}`);
    for (let j = 0; j < n; j++) {
      const d = v[j] as number;
      if (!Number.isFinite(d) || d <= 0) invalid("createNetwork", `dt${i + 1}[${j}]`, d, "a finite number > 0");
    }
    return Float32Array.from(v);
  });
}

/**
 * Creates a network: Glorot-uniform weights W_l ~ U(-a, a), a = sqrt(6 / (n_{l-1} + n_l)),
 * drawn row-major from `weightRng`, zero biases, and dt per neuron of layers 1..L.
 */
export function createNetwork(options: CreateNetworkOptions): Network {
  const { backend, sizes } = options;
  validateSizes(sizes, "createNetwork");
  const W: Matrix[] = [];
  const b: Matrix[] = [];
  for (let l = 1; l < sizes.length; l++) {
    const nin = sizes[l - 1] as number;
    const nout = sizes[l] as number;
    const a = Math.sqrt(6 / (nin + nout));
    const values = new Float32Array(nin * nout);
    for (let i = 0; i < values.length; i++) values[i] = (2 * options.weightRng.uniform() - 1) * a;
    W.push(backend.matrix(nin, nout, values));
    b.push(backend.matrix(1, nout));
  }
  const dt = dtVectors(sizes, options.dt, options.dtRng).map((v) => backend.matrix(1, v.length, v));
  return { backend, sizes: [...sizes], params: { sizes: [...sizes], W, b }, dt };
}

/** Creates a network on `backend` from host tensors (a checkpoint, say), validating shapes. */
export function networkFromSnapshot(backend: Backend, snap: NetworkSnapshot): Network {
  const { sizes } = snap;
  validateSizes(sizes, "networkFromSnapshot");
  const L = sizes.length - 1;
  for (const [name, list] of [
    ["W", snap.W],
    ["b", snap.b],
    ["dt", snap.dt],
  ] as const) {
    if (list.length !== L) {
      throw new EpError("HTS_SHAPE_MISMATCH", `networkFromSnapshot: ${name} has ${list.length} tensors, sizes ${sizes.join(",")} need ${L}`, {
        parameter: name,
        value: list.length,
        expected: `${L}`,
      });
    }
  }
  const W: Matrix[] = [];
  const b: Matrix[] = [];
  for (let l = 1; l <= L; l++) {
    const nin = sizes[l - 1] as number;
    const nout = sizes[l] as number;
    const w = snap.W[l - 1] as Float32Array;
    const bb = snap.b[l - 1] as Float32Array;
    if (w.length !== nin * nout) invalid("networkFromSnapshot", `W${l}`, `${w.length} values`, `${nin * nout} values`);
    if (bb.length !== nout) invalid("networkFromSnapshot", `b${l}`, `${bb.length} values`, `${nout} values`);
    W.push(backend.matrix(nin, nout, w));
    b.push(backend.matrix(1, nout, bb));
  }
  const dt = dtVectors(sizes, snap.dt, undefined).map((v) => backend.matrix(1, v.length, v));
  return { backend, sizes: [...sizes], params: { sizes: [...sizes], W, b }, dt };
}

/** Reads a network's tensors back to the host as float32. */
export function snapshotNetwork(net: Network): NetworkSnapshot {
  const be = net.backend;
  return {
    sizes: [...net.sizes],
    W: net.params.W.map((m) => Float32Array.from(be.read(m))),
    b: net.params.b.map((m) => Float32Array.from(be.read(m))),
    dt: net.dt.map((m) => Float32Array.from(be.read(m))),
  };
}

import type { Distribution, Rng } from "@hts/distributions";
import { sampleLayers } from "@hts/distributions";
import { type NetworkParams, type ReadoutParams, validateSizes } from "@hts/energy";
import type { Backend, Matrix } from "@hts/kernels";
import { EpError, invalid, requireComponent } from "./errors.js";

/**
 * A layered network on a backend: parameters (W_l as n_{l-1} x n_l, b_l as 1 x n_l) and
 * the per-neuron time steps dt_l (1 x n_l) of the relaxed layers 1..L, fixed after
 * creation; optionally a read-out (W_out as n_L x classes, b_out as 1 x classes) from the
 * last relaxed layer to the classes, which is not relaxed (the cross-entropy read-out).
 */
export interface Network {
  readonly backend: Backend;
  /** Sizes of the input and the relaxed layers, n_0 .. n_L. */
  readonly sizes: readonly number[];
  readonly params: NetworkParams;
  readonly dt: readonly Matrix[];
  /** The read-out, or null when the last relaxed layer is the output. */
  readonly readout: ReadoutParams | null;
  /** Number of classes: the read-out's width, else n_L. */
  readonly classes: number;
}

/** Host copies of a network's tensors (our layout: W_l is n_{l-1} x n_l, row-major). */
export interface NetworkSnapshot {
  readonly sizes: readonly number[];
  readonly W: readonly Float32Array[];
  readonly b: readonly Float32Array[];
  readonly dt: readonly Float32Array[];
  /** W_out (n_L x classes, row-major) and b_out, when the network has a read-out. */
  readonly readout?: { readonly W: Float32Array; readonly b: Float32Array; readonly classes: number } | null;
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
  /**
   * Classes of a read-out from the last relaxed layer (a cost with `readout: true` needs
   * one); its Glorot weights are drawn from `weightRng` after all W_l, so a network with
   * a read-out has the same W_l as one without. Default: no read-out.
   */
  readonly readoutClasses?: number;
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
    const drawn = sampleLayers(spec, rng, layers);
    drawn.forEach((v, i) => {
      const j = v.findIndex((d) => !(Number.isFinite(d) && d > 0));
      if (j >= 0) {
        invalid(
          "createNetwork",
          `dt${i + 1}[${j}]`,
          v[j],
          `a finite number > 0 (drawn from ${spec.name}; clamp the distribution, e.g. clamp(dist, { min: 1e-3, max: 0.5 }))`,
        );
      }
    });
    return drawn;
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
  requireComponent("createNetwork", "options", options, [], "an object { backend, sizes, dt, weightRng, dtRng? }");
  requireComponent("createNetwork", "backend", options.backend, ["matrix", "gemm"], "a Backend (e.g. createCpuBackend(), or createBackend() from @hts/kernels)");
  if (typeof options.weightRng?.uniform !== "function") invalid("createNetwork", "weightRng", options.weightRng, "an Rng (createRng(seed) from @hts/distributions)");
  const { backend, sizes } = options;
  validateSizes(sizes, "createNetwork");
  const k = options.readoutClasses;
  if (k !== undefined && !(Number.isInteger(k) && k >= 2)) invalid("createNetwork", "readoutClasses", k, "an integer >= 2 (the number of classes)");
  const glorot = (nin: number, nout: number): Float32Array => {
    const a = Math.sqrt(6 / (nin + nout));
    const values = new Float32Array(nin * nout);
    for (let i = 0; i < values.length; i++) values[i] = (2 * options.weightRng.uniform() - 1) * a;
    return values;
  };
  const W: Matrix[] = [];
  const b: Matrix[] = [];
  for (let l = 1; l < sizes.length; l++) {
    const nin = sizes[l - 1] as number;
    const nout = sizes[l] as number;
    W.push(backend.matrix(nin, nout, glorot(nin, nout)));
    b.push(backend.matrix(1, nout));
  }
  const dt = dtVectors(sizes, options.dt, options.dtRng).map((v) => backend.matrix(1, v.length, v));
  const top = sizes[sizes.length - 1] as number;
  const readout = k === undefined ? null : { W: backend.matrix(top, k, glorot(top, k)), b: backend.matrix(1, k) };
  return { backend, sizes: [...sizes], params: { sizes: [...sizes], W, b }, dt, readout, classes: k ?? top };
}

/** Creates a network on `backend` from host tensors (a checkpoint, say), validating shapes. */
export function networkFromSnapshot(backend: Backend, snap: NetworkSnapshot): Network {
  requireComponent("networkFromSnapshot", "backend", backend, ["matrix", "gemm"], "a Backend (e.g. createCpuBackend(), or createBackend() from @hts/kernels)");
  requireComponent("networkFromSnapshot", "snapshot", snap, ["sizes", "W", "b", "dt"], "a NetworkSnapshot { sizes, W, b, dt } (snapshotNetwork, or decodeCheckpoint(bytes).snapshot)");
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
  const top = sizes[L] as number;
  let readout: ReadoutParams | null = null;
  if (snap.readout) {
    const { classes } = snap.readout;
    if (!(Number.isInteger(classes) && classes >= 2)) invalid("networkFromSnapshot", "readout.classes", classes, "an integer >= 2");
    if (snap.readout.W.length !== top * classes) invalid("networkFromSnapshot", "Wout", `${snap.readout.W.length} values`, `${top * classes} values`);
    if (snap.readout.b.length !== classes) invalid("networkFromSnapshot", "bout", `${snap.readout.b.length} values`, `${classes} values`);
    readout = { W: backend.matrix(top, classes, snap.readout.W), b: backend.matrix(1, classes, snap.readout.b) };
  }
  return { backend, sizes: [...sizes], params: { sizes: [...sizes], W, b }, dt, readout, classes: snap.readout?.classes ?? top };
}

/** Reads a network's tensors back to the host as float32. */
export function snapshotNetwork(net: Network): NetworkSnapshot {
  const be = net.backend;
  return {
    sizes: [...net.sizes],
    W: net.params.W.map((m) => Float32Array.from(be.read(m))),
    b: net.params.b.map((m) => Float32Array.from(be.read(m))),
    dt: net.dt.map((m) => Float32Array.from(be.read(m))),
    readout: net.readout ? { W: Float32Array.from(be.read(net.readout.W)), b: Float32Array.from(be.read(net.readout.b)), classes: net.classes } : null,
  };
}

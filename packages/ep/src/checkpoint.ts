import { EpError } from "./errors.js";
import type { Network, NetworkSnapshot } from "./network.js";
import { snapshotNetwork } from "./network.js";
import { decodeSafetensorsNamed, encodeSafetensors, type SafetensorsContent, type SafetensorsTensor } from "./safetensors.js";

/** A checkpoint read back: the network's tensors and the configuration it was saved with. */
export interface Checkpoint {
  readonly snapshot: NetworkSnapshot;
  /** The run configuration (parsed `__metadata__.config`), or null when absent. */
  readonly config: unknown;
  readonly metadata: Readonly<Record<string, string>>;
}

/** Transposes a rows x cols row-major matrix. */
function transpose(a: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = a[i * cols + j] as number;
  return out;
}

/**
 * The safetensors tensors of a snapshot: W{l} [n_l, n_{l-1}] (torch.nn.Linear layout), b{l},
 * dt{l}; with a read-out, Wout [classes, n_L] and bout [classes] (also torch.nn.Linear's).
 */
export function checkpointTensors(snap: NetworkSnapshot): Record<string, SafetensorsTensor> {
  const tensors: Record<string, SafetensorsTensor> = {};
  for (let l = 1; l < snap.sizes.length; l++) {
    const nin = snap.sizes[l - 1] as number;
    const nout = snap.sizes[l] as number;
    tensors[`W${l}`] = { dtype: "F32", shape: [nout, nin], data: transpose(snap.W[l - 1] as Float32Array, nin, nout) };
    tensors[`b${l}`] = { dtype: "F32", shape: [nout], data: Float32Array.from(snap.b[l - 1] as Float32Array) };
    tensors[`dt${l}`] = { dtype: "F32", shape: [nout], data: Float32Array.from(snap.dt[l - 1] as Float32Array) };
  }
  if (snap.readout) {
    const top = snap.sizes[snap.sizes.length - 1] as number;
    const k = snap.readout.classes;
    tensors.Wout = { dtype: "F32", shape: [k, top], data: transpose(snap.readout.W, top, k) };
    tensors.bout = { dtype: "F32", shape: [k], data: Float32Array.from(snap.readout.b) };
  }
  return tensors;
}

/** The safetensors metadata of a checkpoint: `format` and `config` (as JSON). */
function checkpointMetadata(config: unknown): Record<string, string> {
  return { format: "hts-ep/1", config: JSON.stringify(config) };
}

/**
 * The bytes of a safetensors checkpoint of the network (platform-neutral; write them with
 * `saveCheckpoint` from `@hts/ep/node`, or anywhere bytes go): for l = 1..L, `W{l}` float32
 * [n_l, n_{l-1}], `b{l}` float32 [n_l], `dt{l}` float32 [n_l]; optionally `Wout`, `bout`;
 * `config` as JSON in `__metadata__.config`.
 */
export function encodeCheckpoint(network: Network | NetworkSnapshot, config: unknown = null): Uint8Array {
  const snap = "backend" in network ? snapshotNetwork(network) : network;
  return encodeSafetensors(checkpointTensors(snap), checkpointMetadata(config));
}

function bad(file: string, message: string, tensor?: string): never {
  throw new EpError("HTS_CHECKPOINT_FORMAT", `${file}: ${message}`, {
    parameter: tensor ?? "file",
    value: file,
    expected: "an hts-ep safetensors checkpoint (W{l} [n_l, n_{l-1}], b{l} [n_l], dt{l} [n_l], optionally Wout [classes, n_L] and bout [classes], float32)",
  });
}

/**
 * The network tensors (`W{l}`, `b{l}`, `dt{l}`, float32) of a decoded safetensors file as a
 * snapshot in our layout, validated; `file` names the source in errors.
 */
export function snapshotFromTensors(tensors: ReadonlyMap<string, SafetensorsTensor>, file: string): NetworkSnapshot {
  const path = file;
  let L = 0;
  while (tensors.has(`W${L + 1}`)) L++;
  if (L === 0) bad(path, "no tensor W1: not a network checkpoint");
  const get = (name: string): SafetensorsTensor => {
    const t = tensors.get(name);
    if (!t) bad(path, `missing tensor ${name}`, name);
    if (t.dtype !== "F32") bad(path, `tensor ${name} has dtype ${t.dtype}, expected F32`, name);
    return t;
  };
  const sizes: number[] = [];
  const W: Float32Array[] = [];
  const b: Float32Array[] = [];
  const dt: Float32Array[] = [];
  for (let l = 1; l <= L; l++) {
    const w = get(`W${l}`);
    if (w.shape.length !== 2) bad(path, `W${l} has shape [${w.shape.join(", ")}], expected [n_${l}, n_${l - 1}]`, `W${l}`);
    const [nout, nin] = w.shape as [number, number];
    if (l === 1) sizes.push(nin);
    else if (sizes[l - 1] !== nin) {
      bad(path, `W${l} has shape [${nout}, ${nin}] but layer ${l - 1} has ${sizes[l - 1]} neurons`, `W${l}`);
    }
    sizes.push(nout);
    W.push(transpose(w.data as Float32Array, nout, nin));
    for (const [name, list] of [
      [`b${l}`, b],
      [`dt${l}`, dt],
    ] as const) {
      const t = get(name);
      if (t.shape.length !== 1 || t.shape[0] !== nout) bad(path, `${name} has shape [${t.shape.join(", ")}], expected [${nout}]`, name);
      list.push(Float32Array.from(t.data as Float32Array));
    }
    const d = dt[l - 1] as Float32Array;
    for (let j = 0; j < d.length; j++) {
      if (!(Number.isFinite(d[j]) && (d[j] as number) > 0)) bad(path, `dt${l}[${j}] is ${d[j]}, expected a finite number > 0`, `dt${l}`);
    }
  }
  if (!tensors.has("Wout")) {
    if (tensors.has("bout")) bad(path, "tensor bout without Wout", "Wout");
    return { sizes, W, b, dt, readout: null };
  }
  const wo = get("Wout");
  const top = sizes[L] as number;
  if (wo.shape.length !== 2 || wo.shape[1] !== top) bad(path, `Wout has shape [${wo.shape.join(", ")}], expected [classes, ${top}]`, "Wout");
  const k = wo.shape[0] as number;
  const bo = get("bout");
  if (bo.shape.length !== 1 || bo.shape[0] !== k) bad(path, `bout has shape [${bo.shape.join(", ")}], expected [${k}]`, "bout");
  return { sizes, W, b, dt, readout: { W: transpose(wo.data as Float32Array, k, top), b: Float32Array.from(bo.data as Float32Array), classes: k } };
}

/** @internal A decoded safetensors file as a checkpoint; `file` names the source in errors. */
export function checkpointFromContent(content: SafetensorsContent, file: string): Checkpoint {
  const { tensors, metadata } = content;
  const snapshot = snapshotFromTensors(tensors, file);
  let config: unknown = null;
  const raw = metadata.config;
  if (raw !== undefined) {
    try {
      config = JSON.parse(raw);
    } catch {
      bad(file, "__metadata__.config is not valid JSON", "__metadata__");
    }
  }
  return { snapshot, config, metadata };
}

/**
 * Decodes and validates checkpoint bytes (as written by {@link encodeCheckpoint} or
 * `saveCheckpoint`); platform-neutral. `name` names the source in errors (default `"<buffer>"`).
 */
export function decodeCheckpoint(bytes: Uint8Array, name = "<buffer>"): Checkpoint {
  return checkpointFromContent(decodeSafetensorsNamed(bytes, name, "decodeCheckpoint"), name);
}

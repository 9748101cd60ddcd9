import type { RngState } from "@hts/distributions";
import { checkpointTensors, snapshotFromTensors } from "./checkpoint.js";
import { EpError } from "./errors.js";
import type { NetworkSnapshot } from "./network.js";
import type { OptimizerState } from "./optimizer.js";
import { decodeSafetensorsNamed, encodeSafetensors, type SafetensorsTensor } from "./safetensors.js";
import type { SessionState } from "./session.js";

/** The `__metadata__.format` of a resumable training state. */
export const TRAIN_STATE_FORMAT = "hts-ep-train-state/1";

/**
 * Everything needed to continue a training run at an epoch boundary: the network, the
 * session's state and the run's configuration (any JSON value; `hts train` stores its
 * config.json record there).
 */
export interface TrainState {
  readonly snapshot: NetworkSnapshot;
  readonly session: SessionState;
  readonly config: unknown;
}

/**
 * The bytes of a resumable training state, a safetensors file (`checkpoint.safetensors` of
 * `hts train`): the network tensors as {@link encodeCheckpoint} writes them, `optimizer.<name>`
 * for the optimizer's slots, `persistent.states` for the persistent free states; metadata
 * `format` ({@link TRAIN_STATE_FORMAT}), `config` (JSON) and `state` (JSON: epochs done,
 * minibatches, generator states, optimizer step and rates, per-epoch records).
 * Platform-neutral; {@link decodeTrainState} reads it back.
 */
export function encodeTrainState(state: TrainState): Uint8Array {
  const st = state.session;
  const tensors: Record<string, SafetensorsTensor> = { ...checkpointTensors(state.snapshot) };
  for (const [k, v] of Object.entries(st.optimizer.tensors)) tensors[`optimizer.${k}`] = { dtype: "F32", shape: [v.length], data: v };
  if (st.persistent) tensors["persistent.states"] = { dtype: "F32", shape: [st.persistent.length], data: st.persistent };
  const json = {
    epochsDone: st.epochsDone,
    minibatches: st.minibatches,
    orderRng: st.orderRng,
    nudgeRng: st.nudgeRng,
    optimizer: { name: st.optimizer.name, step: st.optimizer.step, lr: [...st.optimizer.lr] },
    metrics: st.metrics,
  };
  return encodeSafetensors(tensors, { format: TRAIN_STATE_FORMAT, config: JSON.stringify(state.config), state: JSON.stringify(json) });
}

function bad(name: string, message: string): never {
  throw new EpError("HTS_CHECKPOINT_FORMAT", `${name}: ${message}`, {
    parameter: "bytes",
    value: name,
    expected: `a training state (safetensors with __metadata__.format ${TRAIN_STATE_FORMAT}, config and state)`,
  });
}

/**
 * Decodes the bytes of {@link encodeTrainState} (or a `checkpoint.safetensors` of an earlier
 * `hts train`). `name` names the source in errors. Throws `EpError` `HTS_CHECKPOINT_FORMAT`
 * when the bytes are not a training state.
 */
export function decodeTrainState(bytes: Uint8Array, name = "<buffer>"): TrainState {
  const { tensors, metadata } = decodeSafetensorsNamed(bytes, name, "decodeTrainState");
  if (metadata.format !== TRAIN_STATE_FORMAT || !metadata.config || !metadata.state) bad(name, "not a training state");
  let config: unknown;
  let raw: {
    epochsDone: number;
    minibatches: number;
    orderRng: RngState;
    nudgeRng: RngState | null;
    optimizer: { name: OptimizerState["name"]; step: number; lr: number[] };
    metrics: SessionState["metrics"];
  };
  try {
    config = JSON.parse(metadata.config);
    raw = JSON.parse(metadata.state);
  } catch {
    bad(name, "__metadata__.config or __metadata__.state is not valid JSON");
  }
  if (typeof raw !== "object" || raw === null || !Number.isSafeInteger(raw.epochsDone) || typeof raw.optimizer !== "object") bad(name, "__metadata__.state lacks epochsDone or optimizer");
  const optTensors: Record<string, Float32Array> = {};
  const net = new Map<string, SafetensorsTensor>();
  let persistent: Float32Array | null = null;
  for (const [k, t] of tensors) {
    if (k.startsWith("optimizer.")) optTensors[k.slice("optimizer.".length)] = t.data as Float32Array;
    else if (k === "persistent.states") persistent = t.data as Float32Array;
    else net.set(k, t);
  }
  const snapshot = snapshotFromTensors(net, name);
  const session: SessionState = {
    epochsDone: raw.epochsDone,
    minibatches: raw.minibatches,
    orderRng: raw.orderRng,
    nudgeRng: raw.nudgeRng ?? null,
    optimizer: { ...raw.optimizer, tensors: optTensors },
    persistent,
    metrics: raw.metrics,
  };
  return { snapshot, session, config };
}

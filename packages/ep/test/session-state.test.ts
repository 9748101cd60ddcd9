import { createRng, restoreRng } from "@hts/distributions";
import { createCost, createEnergy } from "@hts/energy";
import { createCpuBackend } from "@hts/kernels";
import { describe, expect, it } from "vitest";
import {
  createNetwork,
  createSession,
  createTrainer,
  decodeTrainState,
  EpError,
  encodeCheckpoint,
  encodeTrainState,
  networkFromSnapshot,
  type SessionState,
  snapshotNetwork,
} from "../src/index.js";
import { syntheticData } from "./helpers.js";

const all = syntheticData(100, 16, 4, 3);
const part = (from: number, count: number) => ({ images: all.images.slice(from * 16, (from + count) * 16), labels: all.labels.slice(from, from + count), count, dim: 16 });
const data = { train: part(0, 80), test: part(80, 20) };
const config = { t1: 15, t2: 5, beta: 0.5, nudge: "random-sign" as const, dynamics: "leaky" as const, batch: 8, persistent: true, optimizer: { name: "adam" as const, lr: [0.01, 0.005] } };

function setup(snapshot?: ReturnType<typeof snapshotNetwork>, state?: SessionState) {
  const be = createCpuBackend();
  const network = snapshot ? networkFromSnapshot(be, snapshot) : createNetwork({ backend: be, sizes: [16, 10, 4], dt: 0.3, weightRng: createRng(5) });
  const nudgeRng = state?.nudgeRng ? restoreRng(state.nudgeRng) : createRng(6);
  const trainer = createTrainer({ network, energy: createEnergy("hopfield"), cost: createCost("mse"), config, nudgeRng, minibatches: state?.minibatches ?? 0 });
  const session = createSession({ trainer, data, epochs: 3, orderRng: createRng(8), nudgeRng, lrDecay: 0.7, ...(state ? { resume: state } : {}) });
  return { network, session };
}

describe("encodeTrainState / decodeTrainState", () => {
  it("round-trips the state, and a run resumed from the bytes ends with the weights of an uninterrupted one", () => {
    const whole = setup();
    while (whole.session.next().status === "ok");
    const first = setup();
    first.session.next();
    const st = first.session.state();
    const bytes = encodeTrainState({ snapshot: snapshotNetwork(first.network), session: st, config: { seed: 5, note: "x" } });
    const back = decodeTrainState(bytes, "state.safetensors");
    expect(back.config).toEqual({ seed: 5, note: "x" });
    expect(back.session.epochsDone).toBe(1);
    expect(back.session.minibatches).toBe(st.minibatches);
    expect(back.session.orderRng).toEqual(st.orderRng);
    expect(back.session.nudgeRng).toEqual(st.nudgeRng);
    expect(back.session.optimizer.step).toBe(st.optimizer.step);
    expect(Object.keys(back.session.optimizer.tensors).sort()).toEqual(Object.keys(st.optimizer.tensors).sort());
    expect(Array.from(back.session.persistent as Float32Array)).toEqual(Array.from(st.persistent as Float32Array));
    const second = setup(back.snapshot, back.session);
    while (second.session.next().status === "ok");
    const a = snapshotNetwork(whole.network);
    const b = snapshotNetwork(second.network);
    expect(b.W.map((w) => Array.from(w))).toEqual(a.W.map((w) => Array.from(w)));
    expect(b.b.map((w) => Array.from(w))).toEqual(a.b.map((w) => Array.from(w)));
  });

  it("refuses a plain checkpoint (no training state) with HTS_CHECKPOINT_FORMAT", () => {
    const { network } = setup();
    const plain = encodeCheckpoint(network, { seed: 1 });
    expect(() => decodeTrainState(plain, "model.safetensors")).toThrow(EpError);
    expect(() => decodeTrainState(plain, "model.safetensors")).toThrow(/model\.safetensors: not a training state/);
  });
});

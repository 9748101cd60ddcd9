import { createCost, createEnergy } from "@hts/energy";
import { createCpuBackend } from "@hts/kernels";
import { describe, expect, it } from "vitest";
import { createNetwork, createTrainer, EpError } from "../src/index.js";
import { rngs, syntheticData } from "./helpers.js";

const sizes = [6, 5, 3];
const data = syntheticData(8, 6, 3, 2);

function setup(lr: number[]) {
  const be = createCpuBackend();
  const r = rngs(1);
  const network = createNetwork({ backend: be, sizes, dt: 0.3, weightRng: r.weights });
  const trainer = createTrainer({
    network,
    energy: createEnergy("hopfield"),
    cost: createCost("mse"),
    config: { t1: 10, t2: 4, beta: 0.5, nudge: "one-sided", dynamics: "leaky", batch: 4, optimizer: { name: "sgd", lr } },
  });
  return { be, network, trainer };
}

describe("non-finite values stop training with their location", () => {
  it("a non-finite weight update names the phase, minibatch, layer and neuron", () => {
    const { trainer } = setup([1e308, 1e308]);
    let err: unknown;
    try {
      trainer.trainEpoch(data, Uint32Array.from({ length: 8 }, (_, i) => i));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(EpError);
    const e = err as EpError;
    expect(e.code).toBe("HTS_NON_FINITE_PARAMETER");
    expect(e.location?.phase).toBe("update");
    expect(e.location?.step).toBe(1);
    expect(e.location?.layer).toBeGreaterThanOrEqual(1);
    expect(e.message).toMatch(/minibatch 1: (W|b)\d/);
  });

  it("a non-finite state names the phase, step, layer, neuron and example", () => {
    const { be, network, trainer } = setup([0.1, 0.05]);
    // Poison the bias of hidden neuron 3: its drive is NaN from the first step on.
    const b = be.read(network.params.b[0]!);
    b[3] = Number.NaN;
    be.write(network.params.b[0]!, b);
    let err: unknown;
    try {
      trainer.trainBatch(data.images.subarray(0, 4 * 6), data.labels.subarray(0, 4));
    } catch (e) {
      err = e;
    }
    const e = err as EpError;
    expect(e).toBeInstanceOf(EpError);
    expect(e.code).toBe("HTS_NON_FINITE_STATE");
    expect(e.location?.phase).toBe("free");
    expect(e.location?.step).toBe(1);
    expect(e.location?.layer).toBe(1);
    expect(e.location?.neuron).toBe(3);
    expect(e.message).toMatch(/free phase at step 1: layer 1, neuron 3, example 0/);
  });
});

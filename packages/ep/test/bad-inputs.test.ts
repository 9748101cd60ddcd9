import { createRng, normal } from "@hts/distributions";
import { createCost, hopfieldEnergy } from "@hts/energy";
import { createCpuBackend } from "@hts/kernels";
import { describe, expect, it } from "vitest";
import { createEvaluator, createNetwork, createOptimizer, createSession, createTrainer, decodeSafetensors, EpError, networkFromSnapshot, snapshotNetwork, type Trainer, type TrainerConfig } from "../src/index.js";
import { syntheticData } from "./helpers.js";

/** Bad input at the library's entry points: a coded error naming the function, the parameter, the value and what was expected. */
function trainer(config: Partial<TrainerConfig> = {}): Trainer {
  const rng = createRng(1);
  const network = createNetwork({ backend: createCpuBackend(), sizes: [4, 3, 2], dt: 0.3, weightRng: rng });
  return createTrainer({
    network,
    energy: hopfieldEnergy(),
    cost: createCost("mse"),
    config: { t1: 5, t2: 2, beta: 0.5, nudge: "one-sided", dynamics: "leaky", batch: 2, optimizer: { name: "sgd", lr: [0.1, 0.1] }, ...config },
  });
}

describe("bad inputs to @hts/ep", () => {
  it("createNetwork refuses non-positive dt drawn from an unclamped distribution, naming the neuron and the cure", () => {
    const rng = createRng(3);
    expect(() => createNetwork({ backend: createCpuBackend(), sizes: [4, 32, 2], dt: normal({ mean: 0.3, sd: 0.5 }), weightRng: rng, dtRng: rng.jump() })).toThrow(
      /createNetwork: dt1\[\d+\] must be a finite number > 0 \(drawn from normal; clamp the distribution.*got -\d/,
    );
  });

  it("trainEpoch refuses an order index outside the data, and a missing order", () => {
    const data = syntheticData(6, 4, 2, 1);
    const t = trainer();
    expect(() => t.trainEpoch(data, [0, 1, 6, 2])).toThrow(/trainEpoch: order\[2\] must be an integer in \[0, 5\] \(an example of data\), got 6/);
    expect(() => t.trainEpoch(data, [0, 1.5])).toThrow(/order\[1\] must be an integer in \[0, 5\].*got 1.5/);
    expect(() => t.trainEpoch(data, undefined as unknown as number[])).toThrow(/trainEpoch: order must be a list of example indices .*got undefined/);
    expect(() => t.trainEpoch({ ...data, labels: data.labels.subarray(0, 3) }, [0, 1])).toThrow(/data.labels must be 6 \(data.count\), got "3 labels"/);
    expect(t.minibatches).toBe(0);
  });

  it("a missing or wrong component is named, not a raw TypeError", () => {
    const be = createCpuBackend();
    const rng = createRng(1);
    const network = createNetwork({ backend: be, sizes: [4, 3, 2], dt: 0.3, weightRng: rng });
    const config: TrainerConfig = { t1: 5, t2: 2, beta: 0.5, nudge: "one-sided", dynamics: "leaky", batch: 2, optimizer: { name: "sgd", lr: [0.1, 0.1] } };
    const cases: [() => unknown, RegExp][] = [
      [() => createNetwork({ sizes: [4, 2], dt: 0.3, weightRng: rng } as never), /createNetwork: backend must be a Backend .*got undefined/],
      [() => createNetwork({ backend: be, sizes: [4, 2], dt: 0.3 } as never), /createNetwork: weightRng must be an Rng .*got undefined/],
      [() => createNetwork(undefined as never), /createNetwork: options must be an object/],
      [() => networkFromSnapshot(be, undefined as never), /networkFromSnapshot: snapshot must be a NetworkSnapshot .*got undefined/],
      [() => networkFromSnapshot("cpu" as never, snapshotNetwork(network)), /networkFromSnapshot: backend must be a Backend .*got "cpu"/],
      [() => createTrainer({ energy: hopfieldEnergy(), cost: createCost("mse"), config } as never), /createTrainer: network must be a Network .*got undefined/],
      [() => createTrainer({ network, energy: "hopfield", cost: createCost("mse"), config } as never), /createTrainer: energy must be an Energy .*got "hopfield"/],
      [() => createTrainer({ network, energy: hopfieldEnergy(), cost: "mse", config } as never), /createTrainer: cost must be a Cost .*got "mse"/],
      [() => createEvaluator({ network, energy: hopfieldEnergy(), cost: {}, config: { t1: 5, dynamics: "leaky" } } as never), /createEvaluator: cost must be a Cost .*got "an object with keys \(none\)"/],
      [() => createSession({ data: {}, epochs: 1 } as never), /createSession: trainer must be a Trainer .*got undefined/],
      [() => createSession({ trainer: trainer(), data: { train: syntheticData(4, 4, 2, 1) }, epochs: 1, orderRng: rng } as never), /createSession: data must be \{ train, test, validation\? \}/],
      [() => createSession({ trainer: trainer(), data: { train: syntheticData(4, 4, 2, 1), test: syntheticData(4, 4, 2, 2) }, epochs: 1, orderRng: 7 } as never), /createSession: orderRng must be an Rng .*got 7/],
    ];
    for (const [call, message] of cases) {
      let error: unknown;
      try {
        call();
      } catch (e) {
        error = e;
      }
      expect(error, String(message)).toBeInstanceOf(EpError);
      expect((error as EpError).code).toBe("HTS_INVALID_ARGUMENT");
      expect((error as Error).message).toMatch(message);
    }
  });

  it("createTrainer refuses a configuration without an optimizer", () => {
    expect(() => trainer({ optimizer: undefined as unknown as TrainerConfig["optimizer"] })).toThrow(/createTrainer: config.optimizer must be an object \{ name, lr \}.*got undefined/);
  });

  it("a NaN learning rate is shown as NaN, not null", () => {
    expect(() => createOptimizer(createCpuBackend(), [4, 3, 2], { name: "sgd", lr: [Number.NaN, 0.1] })).toThrow(/lr\[0\] must be a finite number >= 0, got NaN/);
  });

  it("the energy factories refuse options of the wrong type, saying how to write them", () => {
    expect(() => hopfieldEnergy("tanh" as never)).toThrow(/hopfieldEnergy: options must be an object \{ activation\? \}, got "tanh" \(write hopfieldEnergy\(\{ activation: "tanh" \}\)\)/);
  });

  it("a file that is not safetensors says so", () => {
    const text = new TextEncoder().encode("this is a text file, not a checkpoint\n");
    expect(() => decodeSafetensors(text, "notes.txt")).toThrow(/notes.txt: not a safetensors file: its first 8 bytes give a header length of \d+/);
  });
});

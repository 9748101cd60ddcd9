import { createRng } from "@hts/distributions";
import { createCost, createEnergy } from "@hts/energy";
import type { GpuBackend } from "@hts/kernels";
import { gpuForTests, gpuRequired } from "@hts/kernels/gpu-testing";
import { describe, expect, it } from "vitest";
import { createNetwork, createTrainer } from "../src/index.js";
import { syntheticData } from "./helpers.js";

// On the GPU backend every read-back is a transfer from the device, which it counts
// (`readBacks`). A training minibatch must read back the same number of times whatever T1
// and T2 are: nothing per relaxation step, only at the end of each phase and of the
// minibatch. With a tolerance, the residual is read after every free step, by design.
// Without a GPU context this is skipped with the reason, or fails when CI is set.

const found = await gpuForTests();

/** Read-backs and kernel launches of one training minibatch (after a first one that compiles the kernels). */
function perMinibatch(be: GpuBackend, t1: number, t2: number, tolerance: number, dynamics: "leaky" | "gradient" = "leaky", sizes: readonly number[] = [16, 12, 4]): { readBacks: number; launches: number } {
  const data = syntheticData(16, sizes[0] as number, sizes.at(-1) as number, 5);
  const seed = createRng(1);
  const network = createNetwork({ backend: be, sizes, dt: 0.3, weightRng: seed, dtRng: seed.jump() });
  const trainer = createTrainer({
    network,
    energy: createEnergy("hopfield"),
    cost: createCost("mse"),
    config: { t1, t2, beta: 0.5, nudge: "symmetric", dynamics, batch: 8, tolerance, optimizer: { name: "sgd", lr: sizes.slice(1).map(() => 0.05) } },
  });
  const x = data.images.subarray(0, 8 * (sizes[0] as number));
  const labels = data.labels.subarray(0, 8);
  trainer.trainBatch(x, labels); // first minibatch: kernels compile, buffers are allocated
  const before = { readBacks: be.readBacks, launches: be.launches };
  trainer.trainBatch(x, labels);
  return { readBacks: be.readBacks - before.readBacks, launches: be.launches - before.launches };
}

function readBacksPerMinibatch(be: GpuBackend, t1: number, t2: number, tolerance: number): number {
  return perMinibatch(be, t1, t2, tolerance).readBacks;
}

if (found.reason !== undefined && !gpuRequired()) {
  console.warn(`gpu read-backs: skipped, no GPU backend: ${found.reason}`);
  it.skip(`gpu read-backs: no GPU backend: ${found.reason}`, () => {});
} else {
  describe("read-backs of a training minibatch on the GPU backend", () => {
    it("do not depend on the number of relaxation steps (none per step)", () => {
      expect(found.reason).toBeUndefined();
      const be = found.backend as GpuBackend;
      const short = readBacksPerMinibatch(be, 5, 2, 0);
      const long = readBacksPerMinibatch(be, 60, 15, 0);
      // Per phase (free, +beta, -beta): maxAbsDiff (the step size, which is finite only when
      // every state is) on 2 layers; the free phase's dt-free residual (leaky rule: one
      // maxAbsDiff per layer); then argmaxRows, the cost (dot) and findNonFinite on W1, b1,
      // W2, b2.
      expect(short).toBe(3 * 2 + 2 + 1 + 1 + 4);
      expect(long).toBe(short);
    });

    // Launches per relaxation step, from the difference of two step counts. The fused steps
    // render a layer's next state in one launch; their other results and the layers'
    // activations are deferred and read inline by the products (see GpuBackend.launches).
    it.each([
      // gradient rule: layer 1 one launch (its drive's product, tail and Euler step), a
      // middle layer two (b + a W below, then the fused step), the top layer two (b + a W
      // below, then the fused gradient step)
      ["gradient", [16, 12, 4], 3],
      ["gradient", [16, 12, 8, 4], 5],
      // leaky rule: layer 1 two (its drive's product, the fused leaky step), a middle layer
      // three, the top layer two
      ["leaky", [16, 12, 4], 4],
      ["leaky", [16, 12, 8, 4], 7],
    ] as const)("a free step of the %s rule on %j takes %i kernel launches", (dynamics, sizes, perStep) => {
      const be = found.backend as GpuBackend;
      const few = perMinibatch(be, 5, 2, 0, dynamics, sizes);
      const many = perMinibatch(be, 25, 2, 0, dynamics, sizes);
      console.log(`gpu launches: ${dynamics} ${sizes.join("-")}: ${few.launches} per minibatch at T1 5, T2 2; ${(many.launches - few.launches) / 20} per free step`);
      expect(many.launches - few.launches).toBe(20 * perStep);
      expect(many.readBacks).toBe(few.readBacks);
    });

    // A nudged step adds the cost's gradient to the top layer's velocity: the squared error's
    // gradient and its addition are one fused launch, so a nudged step takes one launch more
    // than a free step (two nudged phases of T2 steps each with symmetric nudging).
    it.each([
      ["gradient", [16, 12, 4], 4],
      ["gradient", [16, 12, 8, 4], 6],
      ["leaky", [16, 12, 4], 5],
      ["leaky", [16, 12, 8, 4], 8],
    ] as const)("a nudged step of the %s rule on %j takes %i kernel launches", (dynamics, sizes, perStep) => {
      const be = found.backend as GpuBackend;
      const few = perMinibatch(be, 5, 2, 0, dynamics, sizes);
      const many = perMinibatch(be, 5, 12, 0, dynamics, sizes);
      console.log(`gpu launches: ${dynamics} ${sizes.join("-")}: ${(many.launches - few.launches) / 20} per nudged step`);
      expect(many.launches - few.launches).toBe(2 * 10 * perStep);
      expect(many.readBacks).toBe(few.readBacks);
    });

    it("with a tolerance, the free phase reads its residual after every step", () => {
      const be = found.backend as GpuBackend;
      // A tolerance no step reaches: all T1 steps run, each reading its residual (one
      // maxAbsDiff per layer with the leaky rule).
      const few = readBacksPerMinibatch(be, 5, 2, 1e-30);
      const many = readBacksPerMinibatch(be, 25, 2, 1e-30);
      expect(many - few).toBe(20 * 2);
    });
  });
}

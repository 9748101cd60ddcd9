import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { DatasetError, embeddedFromBytes, gunzipBytes, idxSplitFromBytes, parseIdx, writeIdx } from "../src/index.js";
import { loadEmbedded, writeIdx as writeIdxNode } from "../src/node.js";

// The platform-neutral root: bytes in, no file system.
describe("root entry on bytes", () => {
  const images = (n: number) => writeIdx(Uint8Array.from({ length: n * 4 }, (_, i) => (i * 37) % 256), [n, 2, 2]);
  const labels = (n: number) => writeIdx(Uint8Array.from({ length: n }, (_, i) => i % 10), [n]);

  it("parseIdx at the root refuses gzip data and says what to use", () => {
    const gz = writeIdxNode([1, 2, 3], [3], true);
    expect(() => parseIdx(gz, "x.gz")).toThrow(/gzip-compressed data; inflate it first with gunzipBytes/);
    expect(() => writeIdx([1], [1], true)).toThrow(DatasetError);
  });

  it("gunzipBytes inflates with DecompressionStream; raw data passes through", async () => {
    const raw = writeIdx([1, 2, 3], [3]);
    expect(await gunzipBytes(writeIdxNode([1, 2, 3], [3], true), "x.gz")).toEqual(raw);
    expect(await gunzipBytes(raw, "x")).toBe(raw);
    await expect(gunzipBytes(Uint8Array.from([0x1f, 0x8b, 8, 0, 1]), "bad.gz")).rejects.toThrow(/bad.gz: broken gzip data/);
  });

  it("idxSplitFromBytes gives the split of the four files, raw or gzip", async () => {
    const split = await idxSplitFromBytes(
      { trainImages: images(5), trainLabels: writeIdxNode(Array.from({ length: 5 }, (_, i) => i), [5], true), testImages: images(3), testLabels: labels(3) },
      { trainSize: 4 },
    );
    expect(split.train.count).toBe(4);
    expect(split.test.count).toBe(3);
    expect(split.train.dim).toBe(4);
    expect(Array.from(split.train.labels)).toEqual([0, 1, 2, 3]);
    expect(split.source).toBe("idx <bytes>");
    await expect(idxSplitFromBytes({ trainImages: images(5), trainLabels: labels(4), testImages: images(3), testLabels: labels(3) })).rejects.toThrow(
      /idxSplitFromBytes: train-images-idx3-ubyte holds 5 images but train-labels-idx1-ubyte holds 4 labels/,
    );
  });

  it("embeddedFromBytes equals loadEmbedded on the same files", async () => {
    const root = dirname(createRequire(import.meta.url).resolve("mnist/package.json"));
    const files = await Promise.all(Array.from({ length: 10 }, async (_, c) => new Uint8Array(await readFile(join(root, "src", "digits", `${c}.json`)))));
    const a = await embeddedFromBytes(files, { trainSize: 50, testSize: 20, seed: 3 });
    const b = await loadEmbedded({ trainSize: 50, testSize: 20, seed: 3 });
    expect(a.source).toBe(b.source);
    expect(a.train.images).toEqual(b.train.images);
    expect(a.test.labels).toEqual(b.test.labels);
    await expect(embeddedFromBytes(files.slice(0, 9))).rejects.toThrow(/classFiles must be an array of 10/);
  });
});

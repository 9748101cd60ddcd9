import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { DatasetError, EMBEDDED_FILES, embeddedFromBytes, fetchEmbedded, gunzipBytes, idxSplitFromBytes, parseIdx, writeIdx } from "../src/index.js";
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

describe("fetchEmbedded", () => {
  const mnistRoot = dirname(createRequire(import.meta.url).resolve("mnist/package.json"));

  it("fetches the ten files over HTTP and gives loadEmbedded's split; a missing file is named", async () => {
    const { createServer } = await import("node:http");
    const server = createServer(async (req, res) => {
      const path = (req.url ?? "/").split("?")[0] as string;
      if (!/^\/mnist\/src\/digits\/[0-9]\.json$/.test(path)) return void res.writeHead(404).end();
      res.writeHead(200, { "content-type": "application/json" }).end(await readFile(join(mnistRoot, path.slice("/mnist/".length))));
    });
    // Keep idle connections longer than the test can pause under load, so that the client's
    // reused keep-alive sockets are not closed under it (Node's default is 5 s).
    server.keepAliveTimeout = 120_000;
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as { port: number }).port;
    try {
      const got = await fetchEmbedded(`http://127.0.0.1:${port}/mnist/`, { trainSize: 300, testSize: 100, seed: 3 });
      const want = await loadEmbedded({ trainSize: 300, testSize: 100, seed: 3 });
      expect(got.train.labels).toEqual(want.train.labels);
      expect(got.train.images).toEqual(want.train.images);
      expect(got.test.images).toEqual(want.test.images);
      await expect(fetchEmbedded(`http://127.0.0.1:${port}/elsewhere`)).rejects.toThrow(/elsewhere\/src\/digits\/\d\.json answered HTTP 404/);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it("names a missing fetch and checks the sizes before fetching", async () => {
    await expect(fetchEmbedded("http://x", { fetch: undefined as never, trainSize: 0 })).rejects.toThrow(/trainSize/);
    let calls = 0;
    const fetch = async () => {
      calls++;
      return { ok: true, status: 200, arrayBuffer: async () => new ArrayBuffer(0) };
    };
    await expect(fetchEmbedded("http://x", { fetch, trainSize: 9000, testSize: 2000 })).rejects.toThrow(DatasetError);
    expect(calls).toBe(0);
    expect(EMBEDDED_FILES).toEqual(Array.from({ length: 10 }, (_, c) => `src/digits/${c}.json`));
  });
});

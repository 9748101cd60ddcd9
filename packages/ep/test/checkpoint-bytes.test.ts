import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRng } from "@hts/distributions";
import { createCpuBackend } from "@hts/kernels";
import { describe, expect, it } from "vitest";
import { createNetwork, decodeCheckpoint, EpError, encodeCheckpoint, encodeSafetensors, snapshotNetwork } from "../src/index.js";
import { loadCheckpoint, saveCheckpoint } from "../src/node.js";

describe("encodeCheckpoint / decodeCheckpoint (root, bytes)", () => {
  const net = createNetwork({ backend: createCpuBackend(), sizes: [3, 4, 2], dt: 0.5, weightRng: createRng(1), readoutClasses: 2 });

  it("are the bytes saveCheckpoint writes and loadCheckpoint reads", async () => {
    const dir = await mkdtemp(join(tmpdir(), "ep-ckpt-"));
    try {
      const file = join(dir, "m.safetensors");
      await saveCheckpoint(file, net, { note: "x" });
      const bytes = encodeCheckpoint(net, { note: "x" });
      expect(new Uint8Array(await readFile(file))).toEqual(bytes);
      const a = decodeCheckpoint(bytes, "m.safetensors");
      const b = await loadCheckpoint(file);
      expect(a.config).toEqual({ note: "x" });
      expect(a.metadata).toEqual(b.metadata);
      expect(a.snapshot).toEqual(b.snapshot);
      expect(a.snapshot).toEqual(snapshotNetwork(net));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("names the source in errors", () => {
    const bytes = encodeSafetensors({ x: { dtype: "F32", shape: [1], data: new Float32Array(1) } });
    expect(() => decodeCheckpoint(bytes, "blob")).toThrow(EpError);
    expect(() => decodeCheckpoint(bytes)).toThrow(/<buffer>: no tensor W1/);
  });
});

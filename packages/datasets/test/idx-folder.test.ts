import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { IDX_FILES } from "../src/index.js";
import { loadIdxFolder, writeIdx } from "../src/node.js";
import { expectRejects } from "./helpers.js";

const ROWS = 3;
const COLS = 2;
const DIM = ROWS * COLS;

/** Deterministic small data: image i has pixels (i * 31 + p * 7) mod 256, label i mod 10. */
function images(count: number): Uint8Array {
  return Uint8Array.from({ length: count * DIM }, (_, k) => (Math.floor(k / DIM) * 31 + (k % DIM) * 7) % 256);
}
function labels(count: number): Uint8Array {
  return Uint8Array.from({ length: count }, (_, i) => i % 10);
}

interface Files {
  trainImages?: Uint8Array | null;
  trainLabels?: Uint8Array | null;
  testImages?: Uint8Array | null;
  testLabels?: Uint8Array | null;
}

let root: string;
let serial = 0;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "hts-datasets-"));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Writes a folder with 12 training and 5 test examples, overriding some files (null: omit). */
async function folder(overrides: Files = {}, gz = false): Promise<string> {
  const dir = join(root, `case-${serial++}`);
  await mkdir(dir);
  const files: Required<Files> = {
    trainImages: writeIdx(images(12), [12, ROWS, COLS], gz),
    trainLabels: writeIdx(labels(12), [12], gz),
    testImages: writeIdx(images(5), [5, ROWS, COLS], gz),
    testLabels: writeIdx(labels(5), [5], gz),
    ...overrides,
  };
  for (const key of Object.keys(IDX_FILES) as (keyof typeof IDX_FILES)[]) {
    const bytes = files[key];
    if (bytes !== null) await writeFile(join(dir, IDX_FILES[key] + (gz ? ".gz" : "")), bytes);
  }
  return dir;
}

describe("loadIdxFolder", () => {
  it.each([false, true])("round trips files (gzip: %s)", async (gz) => {
    const dir = await folder({}, gz);
    const split = await loadIdxFolder(dir);
    expect(split.source).toBe(`idx ${dir}`);
    for (const [set, n] of [
      [split.train, 12],
      [split.test, 5],
    ] as const) {
      expect(set).toMatchObject({ count: n, dim: DIM, rows: ROWS, cols: COLS, classes: 10 });
      expect(Array.from(set.labels)).toEqual(Array.from(labels(n)));
      expect(Array.from(set.indices)).toEqual(Array.from({ length: n }, (_, i) => i));
      const raw = images(n);
      expect(set.images.length).toBe(n * DIM);
      for (let k = 0; k < raw.length; k++) expect(set.images[k]).toBe(Math.fround(raw[k]! / 255));
    }
  });

  it("maps bytes 0, 51 and 255 to 0, float32(0.2) and 1", async () => {
    const px = new Uint8Array(DIM);
    px[0] = 0;
    px[1] = 51;
    px[2] = 255;
    const dir = await folder({ testImages: writeIdx(px, [1, ROWS, COLS]), testLabels: writeIdx([3], [1]) });
    const { test } = await loadIdxFolder(dir);
    expect(Array.from(test.images.subarray(0, 3))).toEqual([0, new Float32Array([0.2])[0], 1]);
    expect(test.labels[0]).toBe(3);
  });

  it("takes the first N of each file in file order", async () => {
    const dir = await folder();
    const { train, test } = await loadIdxFolder(dir, { trainSize: 4, testSize: 2 });
    expect(train.count).toBe(4);
    expect(Array.from(train.labels)).toEqual([0, 1, 2, 3]);
    expect(train.images[DIM]).toBe(Math.fround(31 / 255));
    expect(test.count).toBe(2);
  });

  it("prefers the raw file when both raw and .gz exist", async () => {
    const dir = await folder();
    // A .gz twin holding other labels: if it were read, labels would all be 9.
    await writeFile(join(dir, `${IDX_FILES.trainLabels}.gz`), writeIdx(new Uint8Array(12).fill(9), [12], true));
    const { train } = await loadIdxFolder(dir);
    expect(train.labels[0]).toBe(0);
  });

  it("reads a folder that mixes raw and gzip files", async () => {
    const dir = await folder({ testLabels: null });
    await writeFile(join(dir, `${IDX_FILES.testLabels}.gz`), writeIdx(labels(5), [5], true));
    expect((await loadIdxFolder(dir)).test.count).toBe(5);
  });

  it("rejects image and label files of different lengths, naming both files and counts", async () => {
    const dir = await folder({ trainLabels: writeIdx(labels(11), [11]) });
    const err = await expectRejects(
      () => loadIdxFolder(dir),
      "HTS_DATA_FORMAT",
      IDX_FILES.trainImages,
      IDX_FILES.trainLabels,
      "12 images",
      "11 labels",
    );
    expect(err.file).toBe(join(dir, IDX_FILES.trainLabels));
  });

  it("rejects a label of 10, naming the file, the index and the value", async () => {
    const bad = labels(5);
    bad[3] = 10;
    const dir = await folder({ testLabels: writeIdx(bad, [5]) });
    const err = await expectRejects(() => loadIdxFolder(dir), "HTS_DATA_FORMAT", IDX_FILES.testLabels, "index 3", "is 10", "0..9");
    expect(err.value).toBe(10);
  });

  it("rejects a missing file, naming the folder and both names tried", async () => {
    const dir = await folder({ testImages: null });
    const err = await expectRejects(
      () => loadIdxFolder(dir),
      "HTS_DATA_NOT_FOUND",
      dir,
      `${IDX_FILES.testImages} nor ${IDX_FILES.testImages}.gz`,
    );
    expect(err.file).toBe(dir);
  });

  it("names every missing file at once", async () => {
    const dir = await folder({ trainLabels: null, testLabels: null });
    const err = await expectRejects(() => loadIdxFolder(dir), "HTS_DATA_NOT_FOUND", IDX_FILES.trainLabels, IDX_FILES.testLabels);
    expect(err.value).toEqual([IDX_FILES.trainLabels, `${IDX_FILES.trainLabels}.gz`, IDX_FILES.testLabels, `${IDX_FILES.testLabels}.gz`]);
  });

  it("rejects a missing folder", async () => {
    await expectRejects(() => loadIdxFolder(join(root, "nope")), "HTS_DATA_NOT_FOUND", join(root, "nope"), "does not exist");
  });

  it("rejects a label file with 3 dimensions", async () => {
    const dir = await folder({ trainLabels: writeIdx(labels(12), [12, 1, 1]) });
    await expectRejects(() => loadIdxFolder(dir), "HTS_DATA_FORMAT", IDX_FILES.trainLabels, "3 dimensions, expected 1");
  });

  it("rejects an image file with 1 dimension", async () => {
    const dir = await folder({ trainImages: writeIdx(images(12), [12 * DIM]) });
    await expectRejects(() => loadIdxFolder(dir), "HTS_DATA_FORMAT", IDX_FILES.trainImages, "1 dimension, expected 3");
  });

  it("rejects corrupt files with the file name (truncated data, broken gzip)", async () => {
    const full = writeIdx(images(12), [12, ROWS, COLS]);
    let dir = await folder({ trainImages: full.slice(0, full.length - 3) });
    await expectRejects(() => loadIdxFolder(dir), "HTS_DATA_FORMAT", IDX_FILES.trainImages, "truncated data");
    const gz = writeIdx(images(5), [5, ROWS, COLS], true);
    dir = await folder({}, true);
    await writeFile(join(dir, `${IDX_FILES.testImages}.gz`), gz.slice(0, 20));
    await expectRejects(() => loadIdxFolder(dir), "HTS_DATA_FORMAT", `${IDX_FILES.testImages}.gz`, "broken gzip");
  });

  it("rejects train and test images of different sizes", async () => {
    const dir = await folder({ testImages: writeIdx(new Uint8Array(5 * 4), [5, 2, 2]) });
    await expectRejects(() => loadIdxFolder(dir), "HTS_DATA_FORMAT", "3x2", "2x2");
  });

  it.each([
    ["trainSize", { trainSize: 0 }, "positive integer"],
    ["trainSize", { trainSize: 1.5 }, "positive integer"],
    ["testSize", { testSize: -1 }, "positive integer"],
    ["testSize", { testSize: Number.NaN }, "positive integer"],
    ["trainSize", { trainSize: 13 }, "only 12 images"],
    ["testSize", { testSize: 6 }, "only 5 images"],
  ])("rejects %s in %o", async (parameter, options, fragment) => {
    const dir = await folder();
    const err = await expectRejects(() => loadIdxFolder(dir, options), "HTS_INVALID_ARGUMENT", parameter, fragment);
    expect(err.parameter).toBe(parameter);
  });
});

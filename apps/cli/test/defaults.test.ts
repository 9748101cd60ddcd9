import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadEmbedded, writeIdx } from "@hts/datasets/node";
import { describe, expect, it } from "vitest";
import { hts, tempDir } from "./helpers.js";

/**
 * The defaults must hold on data they were not tuned on: with no flag but --dataset (and
 * --cost for the read-out), 5 epochs of `hts train` reach the accuracies the README quotes.
 * The defaults were chosen on validation splits of the training data (README, "Defaults");
 * these are the test-split figures.
 */
async function finalAccuracy(...flags: string[]): Promise<number> {
  const r = await hts("train", ...flags, "--json");
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout.trim()) as { finalTestAccuracy: number }).finalTestAccuracy;
}

/** The embedded 8,000 / 2,000 split with every pixel inverted, x -> 1 - x, as IDX files. */
async function invertedDigits(): Promise<string> {
  const dir = tempDir("hts-inverted-");
  mkdirSync(dir, { recursive: true });
  const split = await loadEmbedded({});
  for (const [prefix, set] of [
    ["train", split.train],
    ["t10k", split.test],
  ] as const) {
    const bytes = Uint8Array.from(set.images, (v) => 255 - Math.round(255 * v));
    writeFileSync(join(dir, `${prefix}-images-idx3-ubyte`), writeIdx(bytes, [set.count, 28, 28]));
    writeFileSync(join(dir, `${prefix}-labels-idx1-ubyte`), writeIdx(set.labels, [set.count]));
  }
  return dir;
}

describe("the default settings, 5 epochs", { timeout: 600_000 }, () => {
  it("embedded digits: >= 94.5 % test accuracy", async () => {
    expect(await finalAccuracy()).toBeGreaterThanOrEqual(0.945);
  });

  it("the embedded digits inverted (x -> 1 - x, dense): >= 92 %", async () => {
    expect(await finalAccuracy("--dataset", `idx:${await invertedDigits()}`)).toBeGreaterThanOrEqual(0.92);
  });

  it("embedded digits with the cross-entropy read-out: >= 94 %", async () => {
    expect(await finalAccuracy("--cost", "ce")).toBeGreaterThanOrEqual(0.94);
  });

  it("full MNIST (60,000 / 10,000): <= 2.2 % test error", async () => {
    expect(1 - (await finalAccuracy("--dataset", "mnist"))).toBeLessThanOrEqual(0.022);
  });
});

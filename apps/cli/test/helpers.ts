import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadEmbedded, writeIdx } from "@hts/datasets/node";
import { runCli } from "../src/index.js";

/** Runs the CLI in-process and captures its output. */
export async function hts(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const code = await runCli(argv, {
    out: (s) => {
      stdout += s;
    },
    err: (s) => {
      stderr += s;
    },
    isTTY: false,
  });
  return { code, stdout, stderr };
}

export function tempDir(prefix = "hts-cli-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/**
 * A folder of IDX files holding the first `train` and the next `test` embedded digits
 * (pixel bytes round(255 v), which restores the original MNIST bytes).
 */
export async function idxFolder(train: number, test: number): Promise<string> {
  const dir = tempDir("hts-idx-");
  mkdirSync(dir, { recursive: true });
  const split = await loadEmbedded({ trainSize: train, testSize: test, seed: 0 });
  for (const [prefix, set] of [
    ["train", split.train],
    ["t10k", split.test],
  ] as const) {
    const bytes = Uint8Array.from(set.images, (v) => Math.round(255 * v));
    writeFileSync(join(dir, `${prefix}-images-idx3-ubyte`), writeIdx(bytes, [set.count, 28, 28]));
    writeFileSync(join(dir, `${prefix}-labels-idx1-ubyte`), writeIdx(set.labels, [set.count]));
  }
  return dir;
}

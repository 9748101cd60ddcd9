// The evidence behind the default settings of `hts train`, on validation splits only:
// every configuration below is trained for 5 epochs with 1,000 training examples held out
// (`--val-size 1000`, seeded) on the embedded digits and on the same digits inverted
// (x -> 1 - x, written as IDX files into a temporary folder), and the final validation
// accuracy is printed as a Markdown table. The test split is never evaluated before the
// last epoch and its accuracy is not printed.
//   node scripts/defaults-evidence.mjs [--seeds 0,1]      (after `pnpm build`)
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const main = join(root, "apps/cli/dist/main.js");
const { loadEmbedded, writeIdx } = await import(join(root, "packages/datasets/dist/node.js"));
const seedsArg = process.argv.indexOf("--seeds");
const seeds = seedsArg > 0 ? process.argv[seedsArg + 1].split(",").map(Number) : [0];

const inverted = mkdtempSync(join(tmpdir(), "hts-inverted-"));
const split = await loadEmbedded({});
for (const [prefix, set] of [["train", split.train], ["t10k", split.test]]) {
  writeFileSync(join(inverted, `${prefix}-images-idx3-ubyte`), writeIdx(Uint8Array.from(set.images, (v) => 255 - Math.round(255 * v)), [set.count, 28, 28]));
  writeFileSync(join(inverted, `${prefix}-labels-idx1-ubyte`), writeIdx(set.labels, [set.count]));
}

const configs = [
  ["previous defaults: raw input, random-sign, lr 0.1,0.05", ["--input", "raw", "--nudge", "random-sign", "--lr", "0.1,0.05"]],
  ["raw input, symmetric, lr 0.1,0.05", ["--input", "raw", "--lr", "0.1,0.05"]],
  ["standardize sd 1, random-sign, lr 0.1,0.05", ["--input-sd", "1", "--nudge", "random-sign", "--lr", "0.1,0.05"]],
  ["standardize sd 1, symmetric, lr 0.05,0.025", ["--input-sd", "1", "--lr", "0.05,0.025"]],
  ["standardize-feature sd 0.35, symmetric, lr 0.1,0.05", ["--input", "standardize-feature", "--lr", "0.1,0.05"]],
  ["standardize sd 0.35, random-sign, lr 0.1,0.05", ["--nudge", "random-sign", "--lr", "0.1,0.05"]],
  ["standardize sd 0.35, symmetric, lr 0.1,0.05", ["--lr", "0.1,0.05"]],
  ["standardize sd 0.35, symmetric, lr 0.2,0.1", ["--lr", "0.2,0.1"]],
  ["**standardize sd 0.35, symmetric, lr 0.2,0.05 (the defaults)**", []],
  ["standardize sd 0.35, symmetric, lr 0.2,0.05, beta 0.2", ["--beta", "0.2"]],
];
const data = [["digits", "embedded"], ["inverted", `idx:${inverted}`]];
console.log(`| configuration | ${data.flatMap(([d]) => seeds.map((s) => `${d}, seed ${s}`)).join(" | ")} |`);
console.log(`| --- | ${data.flatMap(() => seeds.map(() => "---:")).join(" | ")} |`);
for (const [name, flags] of configs) {
  const cells = [];
  for (const [, dataset] of data) {
    for (const seed of seeds) {
      const r = spawnSync("node", [main, "train", "--dataset", dataset, "--val-size", "1000", "--seed", String(seed), ...flags, "--json"], { encoding: "utf8" });
      if (r.status !== 0) cells.push(`exit ${r.status}`);
      else {
        const summary = JSON.parse(r.stdout.trim().split("\n").pop());
        // The validation accuracy after the last epoch (not the best epoch's).
        cells.push(`${(100 * summary.lastValidationAccuracy).toFixed(1)}%`);
      }
    }
  }
  console.log(`| ${name} | ${cells.join(" | ")} |`);
}

#!/usr/bin/env node
// The pre-registered stability study (docs/study-protocol.md), after `pnpm build`:
//   node scripts/study-protocol.mjs plan              checks every docs/protocol/*.json as
//                                                     hts study reads it and counts the runs
//   node scripts/study-protocol.mjs inverted DIR      writes the inverted digits (x -> 1 - x)
//                                                     as IDX files into DIR (cell E)
//   node scripts/study-protocol.mjs map SUMMARY.json  picks the best and the worst
//                                                     heterogeneous distribution of cell A by
//                                                     the protocol's rule and writes the
//                                                     stability map's study files (cell F)
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const protocol = join(root, "docs/protocol");
const study = await import(join(root, "packages/study/dist/node.js"));
const [command, arg] = process.argv.slice(2);

/** Runs of a study file: distributions x vary combinations x seeds, with the preset's defaults. */
function runsOf(file) {
  const json = JSON.parse(readFileSync(join(protocol, file), "utf8"));
  const parsed = study.parseStudyFile(json, file).definition;
  const preset = study.PRESETS[parsed.preset ?? "paper"];
  const dists = parsed.dists ?? preset.dists;
  const seeds = parsed.seeds ?? preset.seeds;
  const vary = { ...preset.vary, ...parsed.vary };
  const combos = Object.values(vary).reduce((n, v) => n * v.length, 1);
  return { cell: file.replace(/\.json$/, ""), dists: dists.length, combos, seeds: seeds.length, runs: dists.length * combos * seeds.length };
}

const CVS = [1 / 6, 1 / 3, 1 / 2, 2 / 3];
const MEANS = [0.3, 0.6, 0.9, 1.2, 1.5];
const round4 = (x) => Math.round(x * 1e4) / 1e4;

if (command === "plan") {
  let total = 0;
  for (const file of readdirSync(protocol).filter((f) => f.endsWith(".json")).sort()) {
    const r = runsOf(file);
    total += r.runs;
    console.log(`${r.cell.padEnd(28)} ${String(r.dists).padStart(2)} distribution(s) x ${r.combos} setting(s) x ${r.seeds} seeds = ${r.runs}`);
  }
  const mapped = readdirSync(protocol).some((f) => f.startsWith("F-map-") && f !== "F-map-constant.json");
  const pending = mapped ? 0 : 2 * MEANS.length * CVS.length * 10;
  console.log(`total ${total} runs${pending ? ` + ${pending} of the stability map's two heterogeneous distributions (written by \`map\` after cell A) = ${total + pending}` : ""}`);
} else if (command === "inverted" && arg) {
  const { loadEmbedded, writeIdx } = await import(join(root, "packages/datasets/dist/node.js"));
  const split = await loadEmbedded({});
  mkdirSync(arg, { recursive: true });
  for (const [prefix, set] of [["train", split.train], ["t10k", split.test]]) {
    writeFileSync(join(arg, `${prefix}-images-idx3-ubyte`), writeIdx(Uint8Array.from(set.images, (v) => 255 - Math.round(255 * v)), [set.count, 28, 28]));
    writeFileSync(join(arg, `${prefix}-labels-idx1-ubyte`), writeIdx(set.labels, [set.count]));
  }
  console.log(`wrote ${split.train.count} + ${split.test.count} inverted digits to ${arg}`);
} else if (command === "map" && arg) {
  // The rule of the protocol: among the ten heterogeneous distributions of cell A, the one
  // with the smallest sample sd of the final test accuracy over seeds is the best, the one
  // with the largest the worst (ties: the higher, then the lower mean accuracy).
  const rows = JSON.parse(readFileSync(arg, "utf8")).rows.filter((r) => r.config !== "constant");
  const key = (r) => [r.accuracySd ?? Number.POSITIVE_INFINITY, -(r.accuracyMean ?? 0)];
  const sorted = [...rows].sort((a, b) => key(a)[0] - key(b)[0] || key(a)[1] - key(b)[1]);
  const picks = [sorted[0], sorted.at(-1)].map((r) => r.config);
  for (const dist of picks) {
    for (const mean of MEANS) {
      const name = `F-map-${dist}-mean-${mean.toFixed(1)}.json`;
      const body = { preset: "paper", dists: [dist], seeds: 10, epochs: 3, set: { "dt-mean": mean, "dt-max": round4(2 * mean) }, vary: { "dt-sd": CVS.map((cv) => round4(cv * mean)) }, jobs: 2 };
      writeFileSync(join(protocol, name), `${JSON.stringify(body, null, 2)}\n`);
    }
  }
  console.log(`best ${picks[0]}, worst ${picks[1]}: wrote ${2 * MEANS.length} study files into docs/protocol`);
} else {
  console.error("usage: node scripts/study-protocol.mjs plan | inverted DIR | map SUMMARY.json");
  process.exitCode = 2;
}

#!/usr/bin/env node
// Figures and per-seed tables of the stability study (docs/study-protocol.md), through the
// study package's charts. After `pnpm build`.
//   node scripts/study-figures.mjs seeds STUDY_FOLDER OUT.csv
//       per run and epoch, from the run folders' run.json and metrics.jsonl: configuration,
//       seed, epoch, test accuracy, and whether the run failed (collapsed or failed to learn)
//   node scripts/study-figures.mjs curves SEEDS.csv OUT.svg [--config A --config B ...]
//       per-seed test accuracy curves (one panel per configuration, failed runs in red)
//   node scripts/study-figures.mjs map OUT_DIR SUMMARY_FOLDER...
//       the stability map from the map cells' summary.json files (committed under
//       results/study/protocol/F-map-*): OUT_DIR/map.csv and OUT_DIR/map.svg
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const study = await import(join(root, "packages/study/dist/node.js"));
const { SEEDS_HEADER, failuresByConfig, readSeeds, toCsv } = await import("./lib/study-files.mjs");

const [command, ...rest] = process.argv.slice(2);
const usage = () => {
  console.error("usage: node scripts/study-figures.mjs seeds STUDY_FOLDER OUT.csv | curves SEEDS.csv OUT.svg [--config NAME]... | map OUT_DIR SUMMARY_FOLDER...");
  process.exit(2);
};

/** Every run folder of a study folder (runs/<config>/seed-<s>) with a run.json. */
function runFolders(dir) {
  const runs = join(dir, "runs");
  return readdirSync(runs).flatMap((c) => readdirSync(join(runs, c)).map((s) => join(runs, c, s)));
}

function seeds(dir, out) {
  const rows = [];
  let count = 0;
  for (const folder of runFolders(dir)) {
    const run = JSON.parse(readFileSync(join(folder, "run.json"), "utf8"));
    if (run.status === "crashed") throw new Error(`${folder}: crashed; rerun the study before drawing it`);
    const metrics = readFileSync(join(folder, "metrics.jsonl"), "utf8")
      .split("\n")
      .filter((l) => l.trim() !== "")
      .map((l) => JSON.parse(l))
      .filter((m) => typeof m.testAccuracy === "number");
    const result = { config: run.config, seed: run.seed, status: run.status, message: run.message, seconds: run.seconds, epochs: metrics.map((m) => ({ epoch: m.epoch, testAccuracy: m.testAccuracy, freeResidual: m.freeResidual })) };
    const failed = study.collapsed(result) || study.failedToLearn(result);
    for (const m of metrics) rows.push([run.config, run.seed, m.epoch, m.testAccuracy, failed ? 1 : 0]);
    if (metrics.length === 0) rows.push([run.config, run.seed, 0, "", failed ? 1 : 0]); // diverged in its first epoch
    count++;
  }
  rows.sort((a, b) => String(a[0]).localeCompare(String(b[0])) || a[1] - b[1] || a[2] - b[2]);
  study.writeFileAtomic(out, toCsv([SEEDS_HEADER.split(","), ...rows]));
  console.log(`wrote ${out}: ${count} runs, ${rows.length} epochs`);
}

async function curves(file, out, wanted) {
  const points = readSeeds(file).filter((p) => p.testAccuracy !== null);
  const all = [...new Set(points.map((p) => p.config))];
  const configs = wanted.length === 0 ? all : wanted;
  for (const c of configs) if (!all.includes(c)) throw new Error(`--config: "${c}" is not in ${file}; it has ${all.join(", ")}`);
  const chosen = points.filter((p) => configs.includes(p.config));
  study.writeFileAtomic(out, await study.renderSvg(study.seedCurvesSpec(chosen, configs)));
  console.log(`wrote ${out}: ${configs.length} configurations, ${new Set(chosen.map((p) => `${p.config}|${p.seed}`)).size} runs`);
}

/** The dt mean and sd of a summary row: the variant's values over the study's `set`. */
function settingOf(definition, run) {
  const get = (k) => Number(run.variant[k] ?? definition.set[k]);
  return { mean: get("dt-mean"), sd: get("dt-sd") };
}

async function map(outDir, folders) {
  const cells = [];
  const epochs = new Set();
  const datasets = new Set();
  for (const dir of folders) {
    const s = JSON.parse(readFileSync(join(dir, "summary.json"), "utf8"));
    const failures = failuresByConfig(dir, s);
    epochs.add(s.definition.epochs);
    datasets.add(s.definition.dataset);
    for (const row of s.rows) {
      const run = s.runs.find((r) => r.config === row.config);
      const { mean, sd } = settingOf(s.definition, run);
      const dist = run.dist;
      if (row.crashed > 0) throw new Error(`${dir}: ${row.config} has ${row.crashed} crashed run(s); rerun the study first`);
      cells.push({ dist, dtMean: mean, cv: dist === "constant" ? 0 : sd / mean, runs: row.runs, failures: failures.get(row.config), worstAccuracy: row.accuracyWorst ?? null, meanAccuracy: row.accuracyMean ?? null, folder: dir, config: row.config });
    }
  }
  const dists = [...new Set(cells.map((c) => c.dist))].sort((a, b) => (a === "constant" ? -1 : b === "constant" ? 1 : 0));
  const csv = [["dist", "dt_mean", "cv", "runs", "failures", "worst_accuracy", "mean_accuracy"], ...cells.map((c) => [c.dist, c.dtMean, c.cv.toFixed(4), c.runs, c.failures, c.worstAccuracy ?? "", c.meanAccuracy ?? ""])];
  study.writeFileAtomic(join(outDir, "map.csv"), toCsv(csv));
  const svg = await study.renderSvg(study.stabilityMapSpec(cells, { dists, title: `Stability map: ${[...epochs].join(" / ")} epochs, ${[...new Set(cells.map((c) => c.runs))].join(" / ")} seeds per cell, data ${[...datasets].join(" / ")}` }));
  study.writeFileAtomic(join(outDir, "map.svg"), svg);
  console.log(`wrote ${join(outDir, "map.csv")} and map.svg: ${cells.length} cells of ${dists.join(", ")}`);
}

if (command === "seeds" && rest.length === 2) seeds(rest[0], rest[1]);
else if (command === "curves" && rest.length >= 2) {
  const wanted = rest.flatMap((a, i) => (rest[i - 1] === "--config" ? [a] : []));
  await curves(rest[0], rest[1], wanted);
} else if (command === "map" && rest.length >= 2) await map(rest[0], rest.slice(1));
else usage();

#!/usr/bin/env node
// Per run of a study folder: the classes its final network never predicts on the test split
// (a plateau of the hard sigmoid's output layer: an output unit stuck at 0 or below its
// rivals for every digit). Reads the run folders' model.safetensors; after `pnpm build`.
//   node scripts/study-silent-classes.mjs STUDY_FOLDER OUT.csv
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const { loadCheckpoint } = await import(join(root, "packages/ep/dist/node.js"));
const { createEvaluator } = await import(join(root, "packages/ep/dist/index.js"));
const { createCost, createEnergy } = await import(join(root, "packages/energy/dist/index.js"));
const study = await import(join(root, "packages/study/dist/node.js"));
const { toCsv } = await import("./lib/study-files.mjs");
const [dir, out] = process.argv.slice(2);
if (dir === undefined || out === undefined) {
  console.error("usage: node scripts/study-silent-classes.mjs STUDY_FOLDER OUT.csv");
  process.exit(2);
}
const rows = [["config", "seed", "test_accuracy", "silent_classes", "silent"]];
const dataCache = new Map();
for (const c of readdirSync(join(dir, "runs")).sort()) {
  for (const s of readdirSync(join(dir, "runs", c)).sort()) {
    const folder = join(dir, "runs", c, s);
    const run = JSON.parse(readFileSync(join(folder, "run.json"), "utf8"));
    if (run.status !== "ok") continue;
    const model = join(folder, "model.safetensors");
    const { config, snapshot } = await loadCheckpoint(model);
    const { epochsDone, minibatches, ...rest } = config;
    const spec = { ...study.specFromRecord(rest), init: model, epochs: 1 };
    const key = JSON.stringify([spec.dataset, spec.trainSize, spec.testSize]);
    if (!dataCache.has(key)) dataCache.set(key, await study.loadRunData(spec));
    // a backend per run: its memory holds one network and its buffers, and goes with it
    const prepared = study.prepareRun({ spec, data: dataCache.get(key), backend: await study.runBackend("wasm"), init: snapshot });
    const { test } = prepared.data;
    const evaluator = createEvaluator({ network: prepared.network, energy: createEnergy(spec.energy, spec.activation), cost: createCost(spec.cost), config: { t1: spec.t1, dynamics: prepared.trainer.config.dynamics } });
    const predicted = evaluator.predict(test.images, test.count);
    const counts = new Array(10).fill(0);
    let correct = 0;
    predicted.forEach((p, i) => {
      counts[p]++;
      if (p === test.labels[i]) correct++;
    });
    const silent = counts.flatMap((n, k) => (n === 0 ? [k] : []));
    rows.push([run.config, run.seed, correct / test.count, silent.join(" "), silent.length]);
  }
}
study.writeFileAtomic(out, toCsv(rows));
console.log(`wrote ${out}: ${rows.length - 1} runs`);

#!/usr/bin/env node
// The statistics of the pre-registered stability study (docs/study-protocol.md), from study
// folders' summary.json (run folders are not needed):
//   node scripts/study-stats.mjs [--json] FOLDER...        per folder, per setting: every
//       distribution against `constant` of the same setting: the sd ratio of the final test
//       accuracy (H1, H4), the difference of means (H3, H4), failures; bootstrap intervals,
//       one-sided bootstrap p-values, Holm within the folder's setting
//   node scripts/study-stats.mjs --pool [--json] FOLDER... failures pooled over the folders
//       (H2): one-sided Fisher exact test per distribution, Holm, the rate difference's interval
// Bootstrap: 10,000 resamples of the seeds within each arm, independently, generator
// createRng(0) of @hts/distributions; 95 % percentile intervals. After `pnpm build`.
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const { createRng } = await import(join(root, "packages/distributions/dist/index.js"));
const { fisherGreater, holm, mean, sd } = await import("./lib/statistics.mjs");
const { failuresByConfig } = await import("./lib/study-files.mjs");
const RESAMPLES = 10_000;
const MARGIN = 0.5; // H3: points of mean accuracy
const args = process.argv.slice(2);
const json = args.includes("--json");
const pool = args.includes("--pool");
const folders = args.filter((a) => !a.startsWith("--"));
if (folders.length === 0) {
  console.error("usage: node scripts/study-stats.mjs [--pool] [--json] FOLDER...");
  process.exit(2);
}

/** The project's seeded generator (xoroshiro128+), so that every interval can be reproduced. */
function rng(seed) {
  const r = createRng(seed);
  return () => r.uniform();
}
const resample = (v, next) => Array.from(v, () => v[Math.floor(next() * v.length)]);
const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.round(q * (sorted.length - 1))))];

function readStudy(folder) {
  const s = JSON.parse(readFileSync(join(folder, "summary.json"), "utf8"));
  const failures = failuresByConfig(folder, s);
  const groups = new Map(); // variant -> dist -> { finals, failures, runs }
  for (const row of s.rows) {
    const run = s.runs.find((r) => r.config === row.config);
    const variant = JSON.stringify(run?.variant ?? {});
    const dist = run?.dist ?? row.config;
    if (!groups.has(variant)) groups.set(variant, new Map());
    const finals = s.runs.filter((r) => r.config === row.config && r.status === "ok").map((r) => 100 * r.finalTestAccuracy);
    groups.get(variant).set(dist, { finals, failures: failures.get(row.config) ?? 0, runs: row.runs - row.crashed });
  }
  return groups;
}

function compare(folder) {
  const out = [];
  for (const [variant, dists] of readStudy(folder)) {
    const base = dists.get("constant");
    if (!base) continue;
    const rows = [];
    const next = rng(0);
    for (const [dist, arm] of dists) {
      if (dist === "constant" || arm.finals.length < 2 || base.finals.length < 2) continue;
      const logRatio = [];
      const diff = [];
      for (let b = 0; b < RESAMPLES; b++) {
        const d = resample(arm.finals, next);
        const c = resample(base.finals, next);
        logRatio.push(Math.log(sd(d) / sd(c)));
        diff.push(mean(d) - mean(c));
      }
      logRatio.sort((a, b) => a - b);
      diff.sort((a, b) => a - b);
      const frac = (v, f) => (1 + v.filter(f).length) / (v.length + 1);
      rows.push({
        dist,
        n: arm.finals.length,
        nBaseline: base.finals.length,
        sdRatio: sd(arm.finals) / sd(base.finals),
        sdRatioCi: [Math.exp(quantile(logRatio, 0.025)), Math.exp(quantile(logRatio, 0.975))],
        pSmallerSd: frac(logRatio, (x) => x >= 0),
        meanDiff: mean(arm.finals) - mean(base.finals),
        meanDiffCi: [quantile(diff, 0.025), quantile(diff, 0.975)],
        pNonInferior: frac(diff, (x) => x <= -MARGIN),
        pMeanDiff: Math.min(1, 2 * Math.min(frac(diff, (x) => x <= 0), frac(diff, (x) => x >= 0))),
        failures: arm.failures,
        failuresBaseline: base.failures,
      });
    }
    const h1 = holm(rows.map((r) => r.pSmallerSd));
    const h3 = holm(rows.map((r) => r.pNonInferior));
    const hm = holm(rows.map((r) => r.pMeanDiff));
    rows.forEach((r, i) => Object.assign(r, { holmSmallerSd: h1[i], holmNonInferior: h3[i], holmMeanDiff: hm[i] }));
    out.push({ folder, variant: JSON.parse(variant), rows });
  }
  return out;
}

function pooled(list) {
  const totals = new Map();
  for (const folder of list) {
    for (const dists of readStudy(folder).values()) {
      for (const [dist, arm] of dists) {
        const t = totals.get(dist) ?? { failures: 0, runs: 0 };
        t.failures += arm.failures;
        t.runs += arm.runs;
        totals.set(dist, t);
      }
    }
  }
  const base = totals.get("constant");
  const next = rng(0);
  const rows = [];
  for (const [dist, t] of totals) {
    if (dist === "constant") continue;
    const diffs = [];
    for (let b = 0; b < RESAMPLES; b++) {
      let fd = 0;
      let fc = 0;
      for (let i = 0; i < t.runs; i++) if (next() < t.failures / t.runs) fd++;
      for (let i = 0; i < base.runs; i++) if (next() < base.failures / base.runs) fc++;
      diffs.push(fd / t.runs - fc / base.runs);
    }
    diffs.sort((a, b) => a - b);
    rows.push({
      dist,
      failures: t.failures,
      runs: t.runs,
      failuresBaseline: base.failures,
      runsBaseline: base.runs,
      rateDiff: t.failures / t.runs - base.failures / base.runs,
      rateDiffCi: [quantile(diffs, 0.025), quantile(diffs, 0.975)],
      pFewerFailures: fisherGreater(base.failures, base.runs, t.failures, t.runs),
    });
  }
  const h = holm(rows.map((r) => r.pFewerFailures));
  rows.forEach((r, i) => Object.assign(r, { holmFewerFailures: h[i] }));
  return { folders: list, rows };
}

const f2 = (x) => x.toFixed(2);
const f3 = (x) => x.toFixed(3);
if (pool) {
  const r = pooled(folders);
  if (json) console.log(JSON.stringify(r));
  else {
    console.log(`# failures pooled over ${folders.join(", ")}\n`);
    console.log("| distribution | failures | constant | rate difference [95 % CI] | Fisher p (fewer) | Holm |");
    console.log("| --- | --- | --- | --- | --- | --- |");
    for (const x of r.rows) console.log(`| ${x.dist} | ${x.failures}/${x.runs} | ${x.failuresBaseline}/${x.runsBaseline} | ${f3(x.rateDiff)} [${f3(x.rateDiffCi[0])}, ${f3(x.rateDiffCi[1])}] | ${f3(x.pFewerFailures)} | ${f3(x.holmFewerFailures)} |`);
  }
} else {
  const all = folders.flatMap(compare);
  if (json) console.log(JSON.stringify(all));
  else {
    for (const g of all) {
      console.log(`# ${g.folder} ${JSON.stringify(g.variant)}\n`);
      console.log("| distribution | seeds | sd ratio [95 % CI] | p (smaller sd), Holm | mean difference, points [95 % CI] | p (non-inferior, margin 0.5), Holm | p (difference), Holm | failures (constant) |");
      console.log("| --- | --- | --- | --- | --- | --- | --- | --- |");
      for (const x of g.rows) {
        console.log(
          `| ${x.dist} | ${x.n} / ${x.nBaseline} | ${f2(x.sdRatio)} [${f2(x.sdRatioCi[0])}, ${f2(x.sdRatioCi[1])}] | ${f3(x.pSmallerSd)}, ${f3(x.holmSmallerSd)} | ${f2(x.meanDiff)} [${f2(x.meanDiffCi[0])}, ${f2(x.meanDiffCi[1])}] | ${f3(x.pNonInferior)}, ${f3(x.holmNonInferior)} | ${f3(x.pMeanDiff)}, ${f3(x.holmMeanDiff)} | ${x.failures} (${x.failuresBaseline}) |`,
        );
      }
      console.log("");
    }
  }
}

// Reading the study's committed files (summary.json, seeds.csv) for the study's scripts.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** Rows of fields as CSV text (RFC 4180 quoting), one line per row. */
export function toCsv(rows) {
  const field = (v) => (/[",\n]/.test(String(v)) ? `"${String(v).replaceAll('"', '""')}"` : String(v));
  return `${rows.map((r) => r.map(field).join(",")).join("\n")}\n`;
}

export const SEEDS_HEADER = "config,seed,epoch,test_accuracy,failed";

/**
 * The rows of a seeds.csv written by `study-figures.mjs seeds`: one per run and completed epoch
 * (a run with no completed epoch has one row with epoch 0 and no accuracy). `failed`: the run
 * collapsed or failed to learn.
 */
export function readSeeds(file) {
  const lines = readFileSync(file, "utf8").split("\n").filter((l) => l !== "");
  const split = (l) => [...l.matchAll(/("(?:[^"]|"")*"|[^,]*)(,|$)/g)].slice(0, -1).map((m) => (m[1].startsWith('"') ? m[1].slice(1, -1).replaceAll('""', '"') : m[1]));
  const header = split(lines[0]).join(",");
  if (header !== SEEDS_HEADER) throw new Error(`${file}: header is ${header}, expected ${SEEDS_HEADER} (written by study-figures.mjs seeds)`);
  return lines.slice(1).map((l) => {
    const [config, seed, epoch, acc, failed] = split(l);
    return { config, seed: Number(seed), epoch: Number(epoch), testAccuracy: acc === "" ? null : Number(acc), failed: failed === "1" };
  });
}

/**
 * Failed runs per configuration of a study folder, as the protocol counts them: a run fails
 * when it collapsed or failed to learn (the union: a run that learned and fell back to chance
 * is both, and counts once). From the folder's seeds.csv; without one, from summary.json's
 * counts where they cannot overlap (one of the two is 0), else an error.
 */
export function failuresByConfig(folder, summary) {
  const csv = join(folder, "seeds.csv");
  const out = new Map();
  if (existsSync(csv)) {
    for (const r of readSeeds(csv)) {
      const c = out.get(r.config) ?? { failed: new Set(), seeds: new Set() };
      c.seeds.add(r.seed);
      if (r.failed) c.failed.add(r.seed);
      out.set(r.config, c);
    }
    return new Map([...out].map(([k, v]) => [k, v.failed.size]));
  }
  for (const row of summary.rows) {
    if (row.collapses > 0 && row.failedToLearn > 0) throw new Error(`${folder}: ${row.config} has both collapses and failed-to-learn runs; their union needs the folder's seeds.csv (study-figures.mjs seeds)`);
    out.set(row.config, row.collapses + row.failedToLearn);
  }
  return out;
}

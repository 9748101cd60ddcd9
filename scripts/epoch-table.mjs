// Prints a Markdown table of per-epoch test accuracy from the metrics.jsonl of one or
// more `hts train --out DIR` runs:  node scripts/epoch-table.mjs NAME=DIR [NAME=DIR ...]
import { readFileSync } from "node:fs";
import { join } from "node:path";

const runs = process.argv.slice(2).map((arg) => {
  const [name, dir] = arg.includes("=") ? arg.split("=") : [arg, arg];
  const lines = readFileSync(join(dir, "metrics.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
  return { name, lines };
});
const epochs = Math.max(...runs.map((r) => r.lines.length));
const pct = (x) => (typeof x === "number" ? `${(100 * x).toFixed(2)}` : "-");
console.log(`| epoch | ${runs.map((r) => `${r.name}: train % | ${r.name}: test %`).join(" | ")} |`);
console.log(`| --- | ${runs.map(() => "--- | ---").join(" | ")} |`);
for (let e = 0; e < epochs; e++) {
  const cells = runs.map((r) => {
    const l = r.lines[e] ?? {};
    return `${pct(l.trainAccuracy)} | ${pct(l.testAccuracy)}`;
  });
  console.log(`| ${e + 1} | ${cells.join(" | ")} |`);
}
const secs = runs.map((r) => r.lines.reduce((s, l) => s + (l.trainSeconds ?? 0) + (l.evalSeconds ?? 0), 0));
console.log(`| seconds | ${secs.map((s) => `${s.toFixed(0)} |`).join(" ")}`);

// `hts check-gradient --json` for every combination of energy, activation, update rule and
// cost that the library accepts (and the refusal of the others), as a Markdown table:
//   node scripts/check-gradient-table.mjs        (after `pnpm build`)
import { spawnSync } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const main = join(resolve(dirname(fileURLToPath(import.meta.url)), ".."), "apps/cli/dist/main.js");
const min = (xs) => Math.min(...xs);
const max = (xs) => Math.max(...xs);
console.log("| energy | activation | rule | cost | symmetric beta 0.01: lowest cosine | its largest relative error | one-sided beta 0.01: lowest cosine | its largest relative error | GDU: largest relative error (k <= 20) | verdict |");
console.log("| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | --- |");
for (const energy of ["hopfield", "primitive"]) {
  for (const activation of ["hard-sigmoid", "sigmoid", "tanh"]) {
    for (const dynamics of ["gradient", "leaky"]) {
      for (const cost of ["mse", "ce"]) {
        const r = spawnSync("node", [main, "check-gradient", "--energy", energy, "--activation", activation, "--dynamics", dynamics, "--cost", cost, "--json"], { encoding: "utf8" });
        const head = `| ${energy} | ${activation} | ${dynamics} | ${cost} |`;
        if (r.status === 2) {
          console.log(`${head} | | | | | refused (exit 2) |`);
          continue;
        }
        const d = JSON.parse(r.stdout.trim().split("\n").pop());
        const row = (nudge) => d.ep.find((e) => e.nudge === nudge && e.beta === 0.01).layers;
        const sym = row("symmetric");
        const one = row("one-sided");
        const gdu = max(d.gdu.layers.map((l) => max(l.relError)));
        const f = (x) => x.toExponential(2);
        console.log(
          `${head} ${min(sym.map((l) => l.cosine)).toFixed(8)} | ${f(max(sym.map((l) => l.relError)))} | ${min(one.map((l) => l.cosine)).toFixed(6)} | ${f(max(one.map((l) => l.relError)))} | ${f(gdu)} | ${d.targets.passed ? "sound, targets hold" : `targets fail: ${d.targets.failures.join("; ")}`} |`,
        );
      }
    }
  }
}

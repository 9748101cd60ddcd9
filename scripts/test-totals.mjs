// Sums the vitest JSON reports of every workspace package and prints
// "N passed, N failed, N skipped" as the last line. Exits 1 when a test failed, when a
// package with tests wrote no report, or when no test ran at all.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const roots = ["packages", "apps", "tools"];
const singles = ["examples"];
let passed = 0;
let failed = 0;
let skipped = 0;
let missing = 0;
const dirs = [
  ...roots.filter((r) => existsSync(r)).flatMap((r) => readdirSync(r).map((n) => join(r, n))),
  ...singles.filter((d) => existsSync(d)),
];
{
  for (const dir of dirs) {
    if (!existsSync(join(dir, "test"))) continue;
    const file = join(dir, ".vitest", "results.json");
    if (!existsSync(file)) {
      console.log(`${dir}: no test report (${file})`);
      missing++;
      continue;
    }
    const r = JSON.parse(readFileSync(file, "utf8"));
    const s = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
    console.log(`${dir}: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${s} skipped`);
    passed += r.numPassedTests;
    // A test file that failed to load counts as one failure even though no test in it ran.
    failed += r.numFailedTests > 0 ? r.numFailedTests : (r.numFailedTestSuites ?? 0);
    skipped += s;
  }
}
if (missing > 0) failed += missing;
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);

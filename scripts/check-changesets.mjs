// Every publishable package changed since the last release must be named in a changeset.
// The last release is the last commit made by `changeset version` ("Version packages"),
// or the first commit of the repository. Prints what it found; exits 1 on a missing one.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const git = (...args) => execFileSync("git", args, { encoding: "utf8" }).trim();
const released = git("log", "--format=%H", "--grep=^Version packages", "-n", "1");
const base = released || git("rev-list", "--max-parents=0", "HEAD").split("\n").pop();
const changed = git("diff", "--name-only", base, "HEAD").split("\n").filter(Boolean);

const dirs = ["packages", "apps"].flatMap((r) => (existsSync(r) ? readdirSync(r).map((n) => join(r, n)) : []));
const publishable = dirs
  .filter((d) => existsSync(join(d, "package.json")))
  .map((d) => ({ dir: d, pkg: JSON.parse(readFileSync(join(d, "package.json"), "utf8")) }))
  .filter(({ pkg }) => !pkg.private);

const named = new Set();
for (const f of existsSync(".changeset") ? readdirSync(".changeset") : []) {
  if (!f.endsWith(".md") || f === "README.md") continue;
  const front = /^---\n([\s\S]*?)\n---/.exec(readFileSync(join(".changeset", f), "utf8"))?.[1] ?? "";
  for (const m of front.matchAll(/^["']?([^"':]+)["']?\s*:/gm)) named.add(m[1].trim());
}

let missing = 0;
for (const { dir, pkg } of publishable) {
  const touched = changed.filter((f) => f.startsWith(`${dir}/`) && !/\/(test|CHANGELOG\.md)/.test(f.slice(dir.length)));
  if (touched.length === 0) continue;
  const ok = named.has(pkg.name);
  if (!ok) missing++;
  console.log(`${ok ? "ok     " : "MISSING"} ${pkg.name}: ${touched.length} file(s) changed since ${base.slice(0, 10)}${ok ? "" : " and no changeset names it (add one under .changeset/)"}`);
}
process.exit(missing ? 1 : 0);

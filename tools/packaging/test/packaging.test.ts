import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { beforeAll, describe, expect, it } from "vitest";

/**
 * Every library package: `pnpm pack` makes a tarball that passes publint and
 * "are the types wrong" (ESM only), installs with npm into an empty project together with
 * only the tarballs of its sibling dependencies, and runs its README quick start there.
 */
const root = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const bin = (name: string) => join(root, "tools", "packaging", "node_modules", ".bin", name);
const packages = ["distributions", "kernels", "energy", "datasets", "ep", "study"] as const;
const work = mkdtempSync(join(tmpdir(), "hts-pack-"));
const tarballs = new Map<string, string>();
const manifests = new Map<string, { name: string; dependencies?: Record<string, string> }>();

function run(cmd: string, args: string[], cwd: string): string {
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8", env: { ...process.env, npm_config_yes: "true" } });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} (in ${cwd}) failed with ${r.status}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** The first ```ts block under "## Quick start", transpiled to plain JavaScript. */
function quickStart(pkg: string): string {
  const md = readFileSync(join(root, "packages", pkg, "README.md"), "utf8");
  const section = md.split(/^## /m).find((s) => s.startsWith("Quick start"));
  const code = section ? /```ts\n([\s\S]*?)```/.exec(section)?.[1] : undefined;
  if (!code) throw new Error(`packages/${pkg}/README.md has no \`\`\`ts block under "## Quick start"`);
  return ts.transpileModule(code, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText;
}

beforeAll(() => {
  // The README's way: scripts/pack.mjs writes hts-<name>.tgz per package.
  const dest = join(work, "tarballs");
  execFileSync("node", [join(root, "scripts", "pack.mjs"), dest], { stdio: "pipe" });
  for (const pkg of packages) {
    tarballs.set(pkg, join(dest, `hts-${pkg}.tgz`));
    manifests.set(pkg, JSON.parse(readFileSync(join(root, "packages", pkg, "package.json"), "utf8")));
  }
});

/** The README's `npm install /tmp/hts/...` line, with /tmp/hts in this test's folder. */
function installLine(pkg: string): string[] {
  const md = readFileSync(join(root, "packages", pkg, "README.md"), "utf8");
  const section = md.split(/^## /m).find((s) => s.startsWith("Install")) ?? "";
  const line = section.split("\n").find((l) => l.startsWith("npm install /tmp/hts/"));
  if (!line) throw new Error(`packages/${pkg}/README.md has no "npm install /tmp/hts/..." line under "## Install"`);
  return line
    .split(/\s+/)
    .slice(2)
    .map((a) => a.replace(/^\/tmp\/hts\//, `${join(work, "tarballs")}/`));
}

/** Folders under `dir` that hold a compiled native module (a node-gyp build). */
function nativeBuilds(dir: string): string[] {
  const found: string[] = [];
  const walk = (d: string, depth: number) => {
    if (depth > 8) return;
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (!e.isDirectory()) continue;
      const p = join(d, e.name);
      if (e.name === "Release" && d.endsWith("build")) found.push(p);
      else walk(p, depth + 1);
    }
  };
  walk(dir, 0);
  return found;
}

describe.each(packages.map((p) => [p]))("@hts/%s", (pkg) => {
  it("passes publint (strict)", () => {
    const out = run(bin("publint"), ["--strict", tarballs.get(pkg) as string], root);
    expect(out).toMatch(/All good!/);
  });

  it("passes are-the-types-wrong (ESM only)", () => {
    run(bin("attw"), [tarballs.get(pkg) as string, "--profile", "esm-only", "--format", "table-flipped"], root);
  });

  it("installs as its README says (its tarball and its siblings'), compiling nothing, and runs its README quick start", () => {
    const project = join(work, `use-${pkg}`);
    mkdirSync(project);
    writeFileSync(join(project, "package.json"), JSON.stringify({ name: `use-${pkg}`, private: true, type: "module" }));
    // The README installs the tarball of the package and of the workspace packages it
    // depends on, transitively: no more, no fewer.
    const need = new Set<string>();
    const visit = (p: string) => {
      if (need.has(p)) return;
      need.add(p);
      for (const dep of Object.keys(manifests.get(p)?.dependencies ?? {})) {
        if (dep.startsWith("@hts/")) visit(dep.slice("@hts/".length));
      }
    };
    visit(pkg);
    const args = installLine(pkg);
    expect(new Set(args)).toEqual(new Set([...need].map((p) => tarballs.get(p) as string)));
    const started = performance.now();
    run("npm", ["install", ...args], project);
    const seconds = (performance.now() - started) / 1000;
    console.log(`npm install of @hts/${pkg} (${need.size} tarball(s)): ${seconds.toFixed(1)} s`);
    // No native build by default: gl (headless-gl) comes only with gpu.js, an opt-in peer.
    expect(existsSync(join(project, "node_modules", "gl"))).toBe(false);
    expect(nativeBuilds(join(project, "node_modules"))).toEqual([]);
    writeFileSync(join(project, "quick-start.mjs"), quickStart(pkg));
    const out = run("node", ["quick-start.mjs"], project);
    expect(typeof out).toBe("string");
  });
});

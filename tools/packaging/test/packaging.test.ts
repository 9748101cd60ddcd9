import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
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
  const dest = join(work, "tarballs");
  mkdirSync(dest);
  for (const pkg of packages) {
    const dir = join(root, "packages", pkg);
    const before = new Set(readdirSync(dest));
    execFileSync("npx", ["-y", "pnpm@12.4.2", "pack", "--pack-destination", dest], { cwd: dir, stdio: "pipe" });
    const made = readdirSync(dest).find((f) => !before.has(f));
    if (!made) throw new Error(`pnpm pack made no tarball for ${pkg}`);
    tarballs.set(pkg, join(dest, made));
    manifests.set(pkg, JSON.parse(readFileSync(join(dir, "package.json"), "utf8")));
  }
});

describe.each(packages.map((p) => [p]))("@hts/%s", (pkg) => {
  it("passes publint (strict)", () => {
    const out = run(bin("publint"), ["--strict", tarballs.get(pkg) as string], root);
    expect(out).toMatch(/All good!/);
  });

  it("passes are-the-types-wrong (ESM only)", () => {
    run(bin("attw"), [tarballs.get(pkg) as string, "--profile", "esm-only", "--format", "table-flipped"], root);
  });

  it("installs alone from its tarball (and its siblings' only) and runs its README quick start", () => {
    const project = join(work, `use-${pkg}`);
    mkdirSync(project);
    writeFileSync(join(project, "package.json"), JSON.stringify({ name: `use-${pkg}`, private: true, type: "module" }));
    // The tarball of the package and of the workspace packages it depends on, transitively.
    const need = new Set<string>();
    const visit = (p: string) => {
      if (need.has(p)) return;
      need.add(p);
      for (const dep of Object.keys(manifests.get(p)?.dependencies ?? {})) {
        if (dep.startsWith("@hts/")) visit(dep.slice("@hts/".length));
      }
    };
    visit(pkg);
    run("npm", ["install", "--no-audit", "--no-fund", "--omit=optional", ...[...need].map((p) => tarballs.get(p) as string)], project);
    writeFileSync(join(project, "quick-start.mjs"), quickStart(pkg));
    const out = run("node", ["quick-start.mjs"], project);
    expect(typeof out).toBe("string");
  });
});

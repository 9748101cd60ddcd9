#!/usr/bin/env node
// Packs every library package (packages/*, built first) into one folder, as
// hts-<name>.tgz without the version, so that a project can install them before they are
// on npm: `npm install /tmp/hts/hts-ep.tgz ...`. Usage: node scripts/pack.mjs [DIR]
// (default /tmp/hts). Prints one line per tarball.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const dest = resolve(process.argv[2] ?? "/tmp/hts");
mkdirSync(dest, { recursive: true });
for (const dir of readdirSync(join(root, "packages")).sort()) {
  const manifest = JSON.parse(readFileSync(join(root, "packages", dir, "package.json"), "utf8"));
  if (manifest.private) continue;
  const scratch = mkdtempSync(join(tmpdir(), "hts-pack-"));
  execFileSync("npx", ["-y", "pnpm@12.4.2", "pack", "--pack-destination", scratch], { cwd: join(root, "packages", dir), stdio: "pipe" });
  const [made] = readdirSync(scratch);
  if (!made) throw new Error(`pnpm pack made no tarball for ${manifest.name}`);
  const target = join(dest, `${manifest.name.replace(/^@/, "").replace("/", "-")}.tgz`);
  renameSync(join(scratch, made), target);
  rmSync(scratch, { recursive: true, force: true });
  console.log(`${manifest.name}@${manifest.version}: ${target}`);
}

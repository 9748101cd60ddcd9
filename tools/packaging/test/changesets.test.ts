import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const script = join(root, "scripts", "check-changesets.mjs");

function check(cwd: string) {
  return spawnSync("node", [script], { cwd, encoding: "utf8" });
}

describe("every change to a package comes with a changeset", () => {
  it("holds for this repository", () => {
    const r = check(root);
    expect(r.status, r.stdout + r.stderr).toBe(0);
  });

  it("fails for a package changed without a changeset, passes once one names it", () => {
    const dir = mkdtempSync(join(tmpdir(), "hts-changeset-"));
    const git = (...args: string[]) => execFileSync("git", args, { cwd: dir, encoding: "utf8" });
    git("init", "-q");
    git("config", "user.email", "ci@example.invalid");
    git("config", "user.name", "ci");
    mkdirSync(join(dir, "packages", "a", "src"), { recursive: true });
    mkdirSync(join(dir, ".changeset"));
    writeFileSync(join(dir, "packages", "a", "package.json"), JSON.stringify({ name: "@x/a", version: "1.0.0" }));
    writeFileSync(join(dir, "packages", "a", "src", "index.ts"), "export const a = 1;\n");
    git("add", "-A");
    git("commit", "-qm", "first");
    writeFileSync(join(dir, "packages", "a", "src", "index.ts"), "export const a = 2;\n");
    git("commit", "-qam", "change a");
    const missing = check(dir);
    expect(missing.status).toBe(1);
    expect(missing.stdout).toMatch(/MISSING @x\/a/);
    writeFileSync(join(dir, ".changeset", "a.md"), '---\n"@x/a": patch\n---\n\nChange a.\n');
    git("add", "-A");
    git("commit", "-qm", "changeset");
    expect(check(dir).status).toBe(0);
  });
});

// The README's quick start, run as written against the built package: its `// ...` comments
// at the end of console.log lines are what those lines must print.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..");
const readme = readFileSync(join(root, "README.md"), "utf8");
const section = readme.split(/^## /m).find((s) => s.startsWith("Quick start")) ?? "";
const code = /```ts\n([\s\S]*?)```/.exec(section)?.[1] ?? "";

describe("README quick start", () => {
  it("has a ts block under Quick start that imports the package", () => {
    expect(code).toMatch(/from "@hts\/study"/);
    expect(code).toMatch(/from "@hts\/study\/node"/);
  });

  it("runs and prints what its comments say", () => {
    const js = ts
      .transpileModule(code, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } })
      .outputText.replaceAll('"@hts/study/node"', JSON.stringify(pathToFileURL(join(root, "dist", "node.js")).href))
      .replaceAll('"@hts/study"', JSON.stringify(pathToFileURL(join(root, "dist", "index.js")).href));
    // Inside the package, so that its dependencies resolve as they do for a user.
    const dir = join(root, ".vitest");
    mkdirSync(dir, { recursive: true });
    const file = join(dir, "readme-quick-start.mjs");
    writeFileSync(file, js);
    const out = execFileSync(process.execPath, [file], { encoding: "utf8" }).trim().split("\n");
    const expected = code
      .split("\n")
      .filter((l) => /console\.log\(/.test(l))
      .map((l) => /\/\/ (.*)$/.exec(l)?.[1]);
    expect(expected.every((e) => typeof e === "string")).toBe(true);
    expect(out).toEqual(expected);
  }, 120_000);
});

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, expect, it, vi } from "vitest";

// Runs the README's quick start as written, with the package import pointed at the
// sources, and checks what it prints against values worked out by hand:
// drive = s0 W1 = [1 -1; 1.25 0.5], v = drive - 0.5, s1 + dt (.) v = [0.5625 -0.25; 0.59375 0.5],
// and the clip to [0, 1] turns -0.25 into 0.

const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
const dir = mkdtempSync(join(tmpdir(), "kernels-readme-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function quickStart(): string {
  const section = readme.slice(readme.indexOf("## Quick start"));
  const match = /```ts\n([\s\S]*?)```/.exec(section);
  if (!match?.[1]) throw new Error("README: no ts block under ## Quick start");
  return match[1];
}

/** Writes a README block to `name` in the scratch folder, imports it, and returns what it logged. */
async function runLogged(name: string, code: string): Promise<unknown[][]> {
  const file = join(dir, name);
  writeFileSync(file, code);
  const log = vi.spyOn(console, "log").mockImplementation(() => {});
  try {
    await import(file);
    return log.mock.calls.map((args) => [...args]);
  } finally {
    log.mockRestore();
  }
}

it("the README quick start runs and prints what its comments say", async () => {
  const src = fileURLToPath(new URL("../src/index.ts", import.meta.url));
  const code = quickStart().replace('from "@hts/kernels"', `from ${JSON.stringify(src)}`);
  expect(code).toContain(src);
  const calls = await runLogged("quick-start.ts", code);
  expect(calls).toHaveLength(2);
  const [name, reason] = calls[0] as [string, string];
  // auto picks the first available candidate: gpu-webgl on a hardware GPU (with a display),
  // else wasm-f32 wherever WebAssembly SIMD runs.
  expect(["gpu-webgl", "wasm-f32", "cpu-f32"]).toContain(name);
  expect(reason).toMatch(new RegExp(`^auto: picked ${name}`));
  expect(calls[1]).toEqual([[0.5625, 0, 0.59375, 0.5]]);
  // The comment in the README shows the same numbers.
  expect(quickStart()).toContain("// [ 0.5625, 0, 0.59375, 0.5 ]");
});

it("the README's conformance kit block runs and prints what its comment says", async () => {
  const section = readme.slice(readme.indexOf("`checkBackend(backend)`"));
  const code = (/```ts\n([\s\S]*?)```/.exec(section)?.[1] ?? "")
    .replace('from "@hts/kernels/testing"', `from ${JSON.stringify(fileURLToPath(new URL("../src/testing.ts", import.meta.url)))}`)
    .replace('from "@hts/kernels"', `from ${JSON.stringify(fileURLToPath(new URL("../src/index.ts", import.meta.url)))}`);
  expect(code).toContain("checkBackend(createCpuBackend())");
  const claimed = /console\.log\(report\.ok, report\.checks\.length\); \/\/ (\w+) (\d+)/.exec(code);
  expect(claimed).not.toBeNull();
  const calls = await runLogged("kit.ts", code);
  expect(calls).toEqual([[claimed?.[1] === "true", Number(claimed?.[2])]]);
});

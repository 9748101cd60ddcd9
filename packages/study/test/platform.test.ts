import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const src = join(import.meta.dirname, "..", "src");

/** Every module the file reaches through relative imports (static and dynamic), with its import specifiers. */
function graph(entry: string): Map<string, string[]> {
  const seen = new Map<string, string[]>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    const text = readFileSync(join(src, file), "utf8");
    const specs = [...text.matchAll(/(?:from|import)\s*\(?\s*"([^"]+)"/g)].map((m) => m[1] as string);
    seen.set(file, specs);
    for (const s of specs) if (s.startsWith("./")) visit(s.slice(2).replace(/\.js$/, ".ts"));
  };
  visit(entry);
  return seen;
}

describe("entry points", () => {
  it("the root entry reaches no node: module (it runs in a browser); the node entry does", () => {
    const root = graph("index.ts");
    expect(root.size).toBeGreaterThan(8);
    for (const [file, specs] of root) expect(specs.filter((s) => s.startsWith("node:") || s.endsWith("/node")), file).toEqual([]);
    const node = [...graph("node.ts").values()].flat();
    expect(node.some((s) => s.startsWith("node:"))).toBe(true);
  });
});

// The two code blocks of README.md, verbatim but for the import path; the first test
// checks that they still match the README, the others that they do what it says.

// readme:quick-start:begin
import { clamp, createRng, distributionFromJSON, lognormal, sampleLayers, summarize } from "../src/index.js";

// mu 0.3, sigma 0.1, clipped to [1e-3, 0.5] as in the paper's Figure 1
const dist = clamp(lognormal({ mean: 0.3, sd: 0.1 }), { min: 1e-3, max: 0.5, mode: "clip" });

// one Float32Array of dt per layer 1..L (here 500 hidden neurons and 10 outputs)
const rng = createRng(42);
const [hidden, output] = sampleLayers(dist, rng, [500, 10]);

// count, mean, sd, range and the fraction piled up at each bound
const stats = summarize(hidden!, { min: 1e-3, max: 0.5 });

// record the distribution with the run; rebuild it later and draw the same values
const record = JSON.stringify(dist);
const again = distributionFromJSON(JSON.parse(record));
const replay = sampleLayers(again, createRng(42), [500, 10]);
// readme:quick-start:end

// readme:interface:begin
import type { Distribution } from "../src/index.js";

// dt is 0.1 or 0.4 with equal probability
const twoPoint: Distribution = {
  name: "two-point",
  params: { low: 0.1, high: 0.4 },
  mean: 0.25,
  sd: 0.15,
  sample(rng, out) {
    for (let i = 0; i < out.length; i++) out[i] = rng.uniform() < 0.5 ? 0.1 : 0.4;
    return out;
  },
  toJSON() {
    return { name: "two-point", params: { low: 0.1, high: 0.4 } };
  },
};
// readme:interface:end

// readme:kit:begin
import { checkDistribution } from "../src/testing.js";

const report = checkDistribution(twoPoint, { draws: 20_000 });
console.log(report.ok); // true
console.log(report.checks.map((c) => c.name).join(", ")); // finite, positive, mean, sd, reproducible, float32, json
// readme:kit:end

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { createDistribution } from "../src/index.js";

function region(text: string, tag: string): string {
  const begin = text.indexOf(`// readme:${tag}:begin\n`);
  const end = text.indexOf(`// readme:${tag}:end`);
  return text.slice(begin + `// readme:${tag}:begin\n`.length, end).trim();
}

function readmeBlock(readme: string, heading: string): string {
  const section = readme.slice(readme.indexOf(`## ${heading}`));
  const start = section.indexOf("```ts\n") + "```ts\n".length;
  return section.slice(start, section.indexOf("```", start)).trim().replaceAll('"@hts/distributions"', '"../src/index.js"').replaceAll('"@hts/distributions/testing"', '"../src/testing.js"');
}

describe("README examples (seed 42)", () => {
  it("are the code this file runs", () => {
    const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
    const self = readFileSync(new URL(import.meta.url), "utf8");
    expect(readmeBlock(readme, "Quick start")).toBe(region(self, "quick-start"));
    expect(readmeBlock(readme, "The interface to implement")).toBe(region(self, "interface"));
    expect(readmeBlock(readme, "Conformance kit")).toBe(region(self, "kit"));
  });

  it("conformance kit: the two-point distribution passes, with the checks the README names", () => {
    const kit = region(readFileSync(new URL(import.meta.url), "utf8"), "kit");
    expect(report.ok).toBe(/console\.log\(report\.ok\); \/\/ (\w+)/.exec(kit)?.[1] === "true");
    expect(report.checks.map((c) => c.name).join(", ")).toBe(/join\(", "\)\); \/\/ (.+)/.exec(kit)?.[1]);
  });

  it("conformance kit: an unclamped normal(0.3, 0.5) fails positive, with the README's share of negative draws", () => {
    const r = checkDistribution(createDistribution("normal", { mean: 0.3, sd: 0.5 }), { draws: 20_000 });
    expect(r.checks.find((c) => c.name === "positive")?.ok).toBe(false);
    const share = Number(/(\d+) of 20000 draws are <= 0/.exec(r.checks.find((c) => c.name === "positive")?.detail ?? "")?.[1]) / 20_000;
    const claimed = Number(/about (\d+) % of its draws/.exec(readFileSync(new URL("../README.md", import.meta.url), "utf8"))?.[1]) / 100;
    expect(Math.abs(share - claimed)).toBeLessThan(0.01);
  });

  it("quick start: two layers inside the clip bounds, summarized, replayed from the JSON record", () => {
    expect(hidden).toHaveLength(500);
    expect(output).toHaveLength(10);
    expect(stats.count).toBe(500);
    expect(stats.min).toBeGreaterThanOrEqual(1e-3);
    expect(stats.max).toBeLessThanOrEqual(0.5);
    expect(JSON.parse(record)).toEqual({
      name: "lognormal",
      params: dist.params,
      clamp: { min: 0.001, max: 0.5, mode: "clip" },
    });
    expect(replay).toEqual([hidden, output]);
  });

  it("interface: a hand-written distribution works with clamp and sampleLayers", () => {
    const clamped = clamp(twoPoint, { min: 0.2, max: 0.5 });
    const [layer] = sampleLayers(clamped, createRng(42), [1000]);
    const values = new Set(layer);
    expect(values).toEqual(new Set([Math.fround(0.2), Math.fround(0.4)]));
    expect(clamped.toJSON()).toEqual({ ...twoPoint.toJSON(), clamp: { min: 0.2, max: 0.5, mode: "clip" } });
  });
});

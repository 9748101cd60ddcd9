import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { hts, tempDir } from "./helpers.js";
import { allElements, markGroups, parseXml } from "./parse.js";

describe("hts sample --plot", () => {
  it("draws the histogram of one distribution with the same chart", async () => {
    const path = join(tempDir(), "cauchy.svg");
    const r = await hts("sample", "--dt-dist", "cauchy", "--count", "100000", "--plot", path);
    expect(r.code).toBe(0);
    const svg = parseXml(readFileSync(path, "utf8"));
    expect(svg.name).toBe("svg");
    const panels = markGroups(svg, "rect");
    expect(panels).toHaveLength(1);
    expect(panels[0]?.children.filter((p) => p.attrs.fill === "#e45756")).toHaveLength(2);
    expect(allElements(svg).some((e) => e.name === "text" && e.text === "cauchy: 10.2% at 0.001, 14.9% at 0.5")).toBe(true);
  });

  it("the SVG check itself refuses malformed XML", () => {
    expect(() => parseXml("<svg><g></svg>")).toThrow(/does not match/);
    expect(() => parseXml("<svg a=1/>")).toThrow(/malformed attribute/);
    expect(() => parseXml("<svg>a & b</svg>")).toThrow(/bare &/);
    expect(() => parseXml("<svg/><svg/>")).toThrow(/second root/);
    expect(parseXml('<?xml version="1.0"?><svg x="1"><g/>&amp;</svg>').children).toHaveLength(1);
  });

  it("refuses a file name that is not .svg", async () => {
    const r = await hts("sample", "--plot", "out.png");
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--plot: expected a file name ending in \.svg, got "out.png"/);
  });
});

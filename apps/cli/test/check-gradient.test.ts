import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { hts, tempDir } from "./helpers.js";
import { allElements, markGroups, parseXml } from "./parse.js";

/** The JSON report of `hts check-gradient --json` (the fields the tests read). */
interface Report {
  combination: { energy: string; activation: string; dynamics: string; cost: string };
  sizes: number[];
  classes: number;
  examples: number;
  finiteDifference: { converged: boolean; freeResidual: number; maxResidual: number };
  ep: { beta: number; nudge: string; layers: { layer: string; cosine: number; relError: number; norm: number }[]; freeResidual: number; nudgedResidual: number }[];
  gdu: { steps: number; beta: number; nudge: string; max: number; forwardMismatch: number; estimateMismatch: number; layers: { layer: string; relError: number[]; max: number }[] } | null;
  targets: { passed: boolean; cosinePassed: boolean; gduPassed: boolean | null; converged: boolean; failures: string[] };
}

async function check(...args: string[]): Promise<{ code: number; report: Report; stderr: string }> {
  const r = await hts("check-gradient", "--json", ...args);
  const lines = r.stdout.trim().split("\n");
  expect(lines).toHaveLength(1);
  return { code: r.code, report: JSON.parse(lines[0] as string) as Report, stderr: r.stderr };
}

const row = (r: Report, nudge: string, beta: number) => {
  const found = r.ep.find((x) => x.nudge === nudge && x.beta === beta);
  expect(found, `${nudge} ${beta}`).toBeDefined();
  return found as Report["ep"][number];
};

const COMBOS: [string, string, string][] = [
  ["hopfield", "hard-sigmoid", "gradient"],
  ["hopfield", "sigmoid", "gradient"],
  ["hopfield", "tanh", "gradient"],
  ["hopfield", "hard-sigmoid", "leaky"],
  ["primitive", "hard-sigmoid", "leaky"],
  ["primitive", "sigmoid", "leaky"],
  ["primitive", "tanh", "leaky"],
  ["primitive", "hard-sigmoid", "gradient"],
];

describe("hts check-gradient", () => {
  it("the default combination meets its targets: the full report, the tables and the plot", async () => {
    const plot = join(tempDir(), "check.svg");
    const { code, report: r, stderr } = await check("--plot", plot);
    expect(code).toBe(0);
    expect(r.combination).toEqual({ energy: "hopfield", activation: "hard-sigmoid", dynamics: "leaky", cost: "mse" });
    expect(r.sizes).toEqual([6, 5, 4]);
    expect(r.examples).toBe(4);
    expect(r.ep.map((x) => `${x.nudge} ${x.beta}`)).toEqual(
      ["one-sided", "symmetric"].flatMap((n) => [0.2, 0.1, 0.05, 0.02, 0.01, 0.005].map((b) => `${n} ${b}`)),
    );
    const sym = row(r, "symmetric", 0.01);
    expect(sym.layers.map((l) => l.layer)).toEqual(["W1", "b1", "W2", "b2", "all"]);
    for (const l of sym.layers) {
      expect(l.cosine, l.layer).toBeGreaterThanOrEqual(0.999);
      expect(l.relError, l.layer).toBeLessThan(1e-3);
    }
    // The errors fall with beta: about linearly one-sided, quadratically symmetric.
    const all = (n: string, b: number) => row(r, n, b).layers.find((l) => l.layer === "all")?.relError as number;
    expect(all("one-sided", 0.005) / all("one-sided", 0.01)).toBeCloseTo(0.5, 1);
    expect(all("symmetric", 0.005) / all("symmetric", 0.01)).toBeCloseTo(0.25, 1);
    expect(all("symmetric", 0.2)).toBeGreaterThan(all("symmetric", 0.005) * 100);
    expect(r.finiteDifference.converged).toBe(true);
    expect(r.gdu?.steps).toBe(20);
    expect(r.gdu?.nudge).toBe("symmetric");
    expect(r.gdu?.layers.map((l) => [l.layer, l.relError.length])).toEqual([
      ["W1", 20],
      ["b1", 20],
      ["W2", 20],
      ["b2", 20],
    ]);
    expect(r.gdu?.max).toBeLessThan(1e-3);
    expect(r.gdu?.forwardMismatch).toBeLessThan(1e-12);
    expect(r.gdu?.estimateMismatch).toBeLessThan(1e-9);
    expect(r.targets).toMatchObject({ passed: true, cosinePassed: true, gduPassed: true, converged: true, failures: [] });

    expect(stderr).toMatch(/^hts check-gradient: hopfield energy \+ hard-sigmoid \+ leaky rule \+ mse cost$/m);
    expect(stderr).toMatch(/^cosine similarity\nnudge +beta +T2 +W1 +b1 +W2 +b2 +all$/m);
    expect(stderr).toMatch(/^symmetric +0\.01 +\d+ +(1\.00000000|0\.9999\d+) +/m);
    expect(stderr).toMatch(/^\(b\) GDU \(Ernoult et al\. 2019\): cumulative EP updates of the first k nudged steps \(symmetric, beta 0\.001\)/m);
    expect(stderr).toMatch(/^20 +\S+ +\S+ +\S+ +\S+$/m);
    expect(stderr).toMatch(/^ {2}GDU: relative error <= 0\.001 at every k: ok \(max /m);

    const svg = parseXml(readFileSync(plot, "utf8"));
    expect(svg.name).toBe("svg");
    // Panel 1: a BPTT line per tensor (4) and the EP points; panel 2: a line per nudging (2) and its points.
    expect(markGroups(svg, "line")).toHaveLength(4 + 2);
    expect(markGroups(svg, "symbol")).toHaveLength(2);
    const texts = allElements(svg).filter((e) => e.name === "text").map((e) => e.text);
    expect(texts).toContain("GDU: cumulative updates (symmetric, beta 0.001), projected on g_BPTT(K)");
    expect(texts).toContain("EP vs finite differences, all tensors");
    expect(texts).toEqual(expect.arrayContaining(["W1", "b1", "W2", "b2", "one-sided", "symmetric"]));
  });

  it.each(COMBOS.flatMap(([e, a, d]) => ["mse", "ce"].map((c) => [`${e} + ${a} + ${d} + ${c}`, e, a, d, c] as const)))(
    "%s: symmetric beta 0.01 within cosine 0.999 of finite differences, GDU within 1e-3",
    async (_n, energy, activation, dynamics, cost) => {
      const { code, report: r } = await check("--energy", energy, "--activation", activation, "--dynamics", dynamics, "--cost", cost, "--betas", "0.01");
      expect(code).toBe(0);
      expect(r.combination).toEqual({ energy, activation, dynamics, cost });
      const sym = row(r, "symmetric", 0.01);
      expect(sym.layers.map((l) => l.layer)).toEqual(cost === "ce" ? ["W1", "b1", "Wout", "bout", "all"] : ["W1", "b1", "W2", "b2", "all"]);
      for (const l of sym.layers) expect(l.cosine, l.layer).toBeGreaterThanOrEqual(0.999);
      // One-sided at the same beta is measurably biased: the check resolves O(beta).
      expect(row(r, "one-sided", 0.01).layers.find((l) => l.layer === "all")?.relError).toBeGreaterThan(1e-3);
      expect(r.gdu?.max).toBeLessThan(1e-3);
      expect(r.targets.passed).toBe(true);
    },
  );

  it("exits 1 naming the target when one does not hold", async () => {
    const gdu = await check("--betas", "0.01", "--nudge", "one-sided", "--gdu-beta", "0.5");
    expect(gdu.code).toBe(1);
    expect(gdu.report.targets).toMatchObject({ passed: false, gduPassed: false, cosinePassed: true });
    expect(gdu.report.gdu?.max).toBeGreaterThan(1e-3);
    expect(gdu.stderr).toMatch(/^hts check-gradient: target not met: GDU: the EP and BPTT curves of \w+ differ by \S+ \(relative\), above 0\.001$/m);

    const cosine = await check("--betas", "0.2", "--target-beta", "0.2", "--min-cosine", "0.99999", "--gdu-steps", "0");
    expect(cosine.code).toBe(1);
    expect(cosine.report.gdu).toBeNull();
    expect(cosine.report.targets).toMatchObject({ passed: false, cosinePassed: false, gduPassed: null });
    expect(cosine.stderr).toMatch(/target not met: symmetric beta 0.2: the cosine of \w+ with the finite-difference gradient is /);

    const short = await check("--betas", "0.01", "--max-steps", "50", "--gdu-steps", "0");
    expect(short.code).toBe(1);
    expect(short.report.targets.converged).toBe(false);
    expect(short.stderr).toMatch(/target not met: not converged to residual 1e-13/);
  });

  it("refuses a combination without a theoretical basis with the library's reason", async () => {
    const r = await hts("check-gradient", "--energy", "hopfield", "--activation", "sigmoid", "--dynamics", "leaky");
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/^hts check-gradient: --energy hopfield --activation sigmoid --dynamics leaky --cost mse: hopfield energy \+ sigmoid \+ leaky rule \+ mse cost is not sound: .*; use the gradient rule/);
  });

  it.each([
    [["--betas", "0.01,0"], /^hts check-gradient: --betas: expected a comma-separated list of numbers in \(0, 10\], got "0\.01,0"$/],
    [["--nudge", "random-sign"], /^hts check-gradient: --nudge: expected one of one-sided, symmetric, got "random-sign"$/],
    [["--arch", "6"], /^hts check-gradient: --arch: expected at least two layer sizes/],
    [["--arch", "6,4", "--cost", "ce"], /^hts check-gradient: --arch: with --cost ce the last entry is the read-out's classes/],
    [["--examples", "0"], /^hts check-gradient: --examples: expected an integer in \[1, 10000\], got "0"$/],
    [["--gdu-steps", "-1"], /^hts check-gradient: --gdu-steps: expected an integer in \[0, 100000\], got "-1"$/],
    [["--gdu-beta", "0"], /^hts check-gradient: --gdu-beta: expected a finite number > 0 and <= 10, got "0"$/],
    [["--fd-step", "abc"], /^hts check-gradient: --fd-step: expected a finite number > 0 and <= 0\.1, got "abc"$/],
    [["--min-cosine", "2"], /^hts check-gradient: --min-cosine: expected a finite number >= -1 and <= 1, got "2"$/],
    [["--dt-dist", "bogus"], /^hts check-gradient: --dt-dist: /],
    [["--dt-max", "0.0001"], /^hts check-gradient: --dt-max: expected a number > --dt-min/],
    [["--plot", "out.png"], /^hts check-gradient: --plot: expected a file name ending in \.svg, got "out\.png"$/],
    [["--bogus"], /^hts check-gradient: unknown option --bogus/],
  ])("bad input %j is one line naming the flag, exit 2", async (args, message) => {
    const r = await hts("check-gradient", ...(args as string[]));
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr.trim()).toMatch(message as RegExp);
  });

  it("--help lists the options; hts --help lists the command", async () => {
    const r = await hts("check-gradient", "--help");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: hts check-gradient \[options\]/);
    for (const flag of ["--energy NAME", "--arch SIZES", "--betas LIST", "--gdu-steps K", "--gdu-beta X", "--nudge KIND", "--dt-dist NAME", "--plot FILE.svg", "--json"]) {
      expect(r.stdout).toContain(flag);
    }
    expect(r.stdout).toMatch(/--arch SIZES +.*\[default: 6,5,4\]/);
    expect(r.stdout).toMatch(/--dt-mean X +.*\[default: 0\.05\]/);
    expect((await hts("--help")).stdout).toMatch(/^ {2}check-gradient +Check the EP estimate/m);
  });
});

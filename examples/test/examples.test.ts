import { describe, expect, it } from "vitest";
import { main as countingBackend } from "../src/counting-backend.js";
import { main as customEnergy } from "../src/leaky-hopfield-energy.js";
import { main as twoPopulation } from "../src/two-population.js";

const quiet = () => {};

describe("examples", () => {
  it("a custom dt distribution (two populations) passes the kit and trains", async () => {
    const r = await twoPopulation(quiet);
    expect(r.kitOk).toBe(true);
    expect(r.dtFractionFast).toBeGreaterThan(0.2);
    expect(r.dtFractionFast).toBeLessThan(0.4);
    expect(r.accuracy).toBeGreaterThan(0.6);
  });

  it("a custom energy passes the gradient checks and trains", async () => {
    const r = await customEnergy(quiet);
    expect(r.kitOk).toBe(true);
    expect(r.accuracy).toBeGreaterThan(0.6);
  });

  it("a wrapped backend trains to the same weights and reads back per phase, not per step", async () => {
    const r = await countingBackend(quiet);
    expect(r.same).toBe(true);
    // 50 relaxation steps: a read-back per step would be 50 or more.
    expect(r.readBacks).toBeLessThan(20);
    expect(r.total).toBeGreaterThan(50 * 5);
  });
});

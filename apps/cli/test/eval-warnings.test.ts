import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { hts, tempDir } from "./helpers.js";

describe("hts eval warns when the test digits overlap the model's training digits", () => {
  it("counts the overlap for other --train-size, and is quiet for the run's own sizes", async () => {
    const dir = tempDir();
    const t = await hts("train", "--epochs", "1", "--train-size", "500", "--test-size", "200", "--t1", "20", "--t2", "5", "--out", dir);
    expect(t.code, t.stderr).toBe(0);
    const model = join(dir, "model.safetensors");
    // Test digits p[300..2300) of the seeded permutation; the model trained on p[0..500).
    const other = await hts("eval", "--model", model, "--train-size", "300", "--json");
    expect(other.code, other.stderr).toBe(0);
    expect(other.stderr).toMatch(/hts eval: warning: 200 of the 2000 test digits are among the 500 that .* was trained \(or validated\) on; evaluate with its run's --train-size 500 --test-size 200/);
    expect(JSON.parse(other.stdout).warnings).toHaveLength(1);
    const same = await hts("eval", "--model", model, "--train-size", "500", "--test-size", "200", "--json");
    expect(same.code, same.stderr).toBe(0);
    expect(same.stderr).not.toMatch(/warning/);
    expect(JSON.parse(same.stdout).warnings).toEqual([]);
    // Full MNIST's test files are not the training pool: no warning.
    const mnist = await hts("eval", "--model", model, "--dataset", "mnist", "--test-size", "100", "--json");
    expect(mnist.code, mnist.stderr).toBe(0);
    expect(JSON.parse(mnist.stdout).warnings).toEqual([]);
  }, 120_000);
});

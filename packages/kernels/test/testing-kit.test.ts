import { describe, expect, it } from "vitest";
import { type Backend, createCpuBackend, createReferenceBackend } from "../src/index.js";
import { checkBackend } from "../src/testing.js";
import { createWasmBackend } from "../src/wasm-backend.js";

describe("@hts/kernels/testing: checkBackend", () => {
  it.each([
    ["cpu-f32", createCpuBackend],
    ["reference-f64", createReferenceBackend],
    ["wasm-f32", () => createWasmBackend()],
  ] as [string, () => Backend | Promise<Backend>][])("passes %s", async (_name, make) => {
    const r = await checkBackend(await make());
    expect(r.checks.filter((c) => !c.ok)).toEqual([]);
    expect(r.checks.length).toBeGreaterThan(20);
  });

  it("fails a backend whose gemm is off by 1e-3", async () => {
    const inner = createCpuBackend();
    const broken: Backend = new Proxy(inner, {
      get(target, key, receiver) {
        if (key === "gemm") {
          return (a: never, b: never, out: never, o: never) => {
            target.gemm(a, b, out, { ...(o as object), alpha: ((o as { alpha?: number })?.alpha ?? 1) * 1.001 });
          };
        }
        const v = Reflect.get(target, key, receiver);
        return typeof v === "function" ? v.bind(target) : v;
      },
    });
    const r = await checkBackend(broken);
    expect(r.ok).toBe(false);
    // the fused operations' checks against the reference run a product with a short inner
    // dimension first: they fail too (3 activations x 9 cases); their exact checks (fused
    // against the composition on the same broken backend) still agree; the squared error's
    // gradient runs no product, and passes (4 rates)
    const againstReference = r.checks.map((c) => c.name).filter((n) => n.startsWith("fused ") && n.endsWith("(against the reference)"));
    const fusedAgainstReference = againstReference.filter((n) => !n.startsWith("fused squaredErrorGradient "));
    expect(fusedAgainstReference).toHaveLength(27);
    expect(againstReference.length - fusedAgainstReference.length).toBe(4);
    expect(r.checks.filter((c) => !c.ok).map((c) => c.name)).toEqual([
      "gemm transA=false transB=false",
      "gemm transA=false transB=true",
      "gemm transA=true transB=false",
      "gemm transA=true transB=true",
      ...fusedAgainstReference,
    ]);
  });
});

import { describe, expect, it } from "vitest";
import type { ActivationKind, Backend, Matrix } from "../src/index.js";
import { BACKEND_PREFERENCES, createBackend, createGpuBackend, createReferenceBackend, KernelError } from "../src/node.js";
import { gpuBackendForSuite } from "./gpu-env.js";
import { randomValues, seededUniform } from "./helpers.js";

// What the conformance suite does not cover for the gpu.js backend: aliasing of out with
// an input in every element-wise method (gemm refuses it), the read-back accounting, the reasons given when no context
// can be made, and the choice createBackend makes.

const gpu = await gpuBackendForSuite("gpu backend");
const ref = createReferenceBackend();

async function rejection(p: Promise<unknown>): Promise<KernelError> {
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(KernelError);
  return error as KernelError;
}

/** Runs `fn` with DISPLAY set to `value` (or unset), restoring it afterwards. */
async function withDisplay<T>(value: string | undefined, fn: () => Promise<T>): Promise<T> {
  const saved = process.env.DISPLAY;
  if (value === undefined) delete process.env.DISPLAY;
  else process.env.DISPLAY = value;
  try {
    return await fn();
  } finally {
    if (saved === undefined) delete process.env.DISPLAY;
    else process.env.DISPLAY = saved;
  }
}

describe("gpu: reasons when no context can be made", () => {
  it("lists gpu among the preferences, after auto", () => {
    expect(BACKEND_PREFERENCES.slice(0, 2)).toEqual(["auto", "gpu"]);
  });

  it.runIf(process.platform === "linux")("prefer gpu with DISPLAY unset throws HTS_BACKEND_UNAVAILABLE naming what is missing", async () => {
    const e = await withDisplay(undefined, () => rejection(createBackend({ prefer: "gpu" })));
    expect(e.code).toBe("HTS_BACKEND_UNAVAILABLE");
    expect(e.parameter).toBe("prefer");
    expect(e.value).toBe("gpu");
    // Either gl is not built here, or it is and the display is what is missing.
    expect(e.message).toMatch(/^createBackend: the gpu backend is not available: /);
    expect(e.message).toMatch(/DISPLAY is unset|gl \(headless-gl\) is not (built|installed)|gpu\.js package is not installed/);
  });

  it.runIf(process.platform === "linux")("auto with DISPLAY unset falls back and says why it skipped the GPU", async () => {
    const choice = await withDisplay(undefined, () => createBackend());
    expect(choice.backend.name).not.toMatch(/^gpu/);
    expect(choice.reason).toMatch(/^auto: picked \S+, the best backend available here/);
    expect(choice.reason).toMatch(/skipped gpu: /);
  });

  it("gpu.js's browser modes are refused in Node with the reason", async () => {
    const e = await rejection(createGpuBackend({ mode: "webgl2" }));
    expect(e.code).toBe("HTS_BACKEND_UNAVAILABLE");
    expect(e.message).toMatch(/needs a browser; in Node only headlessgl runs on a GPU/);
  });
});

if (gpu) {
  const be = gpu;

  describe(`${be.name} on ${be.renderer}`, () => {
    it("describes itself: mode, renderer, software or not", () => {
      expect(be.name).toBe("gpu-webgl");
      expect(be.mode).toBe("headlessgl");
      expect(be.precision).toBe("float32");
      expect(be.renderer.length).toBeGreaterThan(0);
      expect(be.software).toBe(/llvmpipe|softpipe|swiftshader/i.test(be.renderer));
      expect(be.description).toContain(be.renderer);
      console.log(`gpu backend: ${be.description}`);
    });

    it("createBackend({ prefer: 'gpu' }) gives it, with the renderer in the reason", async () => {
      const choice = await createBackend({ prefer: "gpu" });
      expect(choice.backend.name).toBe("gpu-webgl");
      expect(choice.reason).toMatch(/^gpu: requested; gpu\.js 2\.24\.1 headlessgl on /);
      await (choice.backend as typeof be).destroy();
    });

    it("auto picks a hardware GPU, and skips a software renderer saying so", async () => {
      const choice = await createBackend();
      if (be.software) {
        expect(choice.backend.name).not.toMatch(/^gpu/);
        expect(choice.reason).toContain(`skipped gpu: only a software renderer is available (${be.renderer}), not a GPU`);
      } else {
        expect(choice.backend.name).toBe("gpu-webgl");
        await (choice.backend as typeof be).destroy();
      }
    });

    const rand = seededUniform(21);
    const pair = (rows: number, cols: number, lo = -1, hi = 1): [Matrix, Matrix] => {
      const v = randomValues(rand, rows * cols, lo, hi);
      return [be.matrix(rows, cols, v), ref.matrix(rows, cols, v)];
    };
    const close = (a: Matrix, b: Matrix) => {
      const got = be.read(a);
      const want = ref.read(b);
      for (let i = 0; i < want.length; i++) {
        expect(Math.abs((got[i] as number) - (want[i] as number))).toBeLessThanOrEqual(1e-5 * Math.sqrt(50) * (1 + Math.abs(want[i] as number)));
      }
    };

    // The energies call mul(da, o, o) and the relaxer activate(w, w): out may be an input.
    it.each<[string, (b: Backend, x: Matrix, y: Matrix, d: Matrix) => Matrix]>([
      [
        "activate(x, x)",
        (b, x) => {
          b.activate("tanh" as ActivationKind, x, x);
          return x;
        },
      ],
      [
        "activateDerivative(x, x)",
        (b, x) => {
          b.activateDerivative("sigmoid", x, x);
          return x;
        },
      ],
      [
        "mul(a, b, b)",
        (b, x, y) => {
          b.mul(x, y, y);
          return y;
        },
      ],
      [
        "axpby(.., a, .., b, a)",
        (b, x, y) => {
          b.axpby(0.5, x, -2, y, x);
          return x;
        },
      ],
      [
        "eulerStep(s, v, dt, s)",
        (b, x, y, d) => {
          b.eulerStep(x, y, d, x, { scale: -1, clip: [0, 1] });
          return x;
        },
      ],
      [
        "softmaxRows(x, x)",
        (b, x) => {
          b.softmaxRows(x, x);
          return x;
        },
      ],
      [
        "copy(x, y) then fill(x)",
        (b, x, y) => {
          b.copy(x, y);
          b.fill(x, 3);
          return y;
        },
      ],
    ])("out aliasing an input: %s", (_label, op) => {
      const [x, xr] = pair(6, 50);
      const [y, yr] = pair(6, 50);
      const [d, dr] = pair(1, 50, 0.01, 0.5);
      close(op(be, x, y, d), op(ref, xr, yr, dr));
    });

    it("refuses gemm with out aliasing an input, naming out (the contract of every backend)", () => {
      const [x] = pair(50, 50);
      const [s] = pair(50, 50);
      const error = (() => {
        try {
          be.gemm(x, s, x, { transB: true, alpha: 0.1, beta: 0.5 });
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(error).toBeInstanceOf(KernelError);
      expect((error as KernelError).code).toBe("HTS_INVALID_ARGUMENT");
      expect((error as KernelError).parameter).toBe("out");
    });

    it("compute methods read nothing back; each read and reduction reads back once", () => {
      const [a] = pair(20, 500);
      const [b] = pair(20, 500);
      const [w] = pair(500, 10);
      const out = be.matrix(20, 10);
      const before = be.readBacks;
      for (let i = 0; i < 10; i++) {
        be.gemm(a, w, out, { beta: i === 0 ? 0 : 1 });
        be.activate("hard-sigmoid", a, b);
        be.eulerStep(a, b, be.matrix(1, 500), a);
      }
      expect(be.readBacks).toBe(before);
      be.maxAbsDiff(a, b);
      be.findNonFinite(a);
      be.argmaxRows(out);
      be.read(out);
      expect(be.readBacks).toBe(before + 4);
    });

    it("disposed and replaced textures are freed (a long loop does not run out of memory)", () => {
      const [a] = pair(200, 500);
      const t = be.matrix(200, 500);
      for (let i = 0; i < 300; i++) be.axpby(0.999, a, 0.001, t, t);
      be.dispose(t);
      expect(be.findNonFinite(a)).toBe(-1);
    });
  });
}

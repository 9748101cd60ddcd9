import type { Backend } from "./backend.js";
import { createCpuBackend, createReferenceBackend } from "./cpu-backend.js";
import { KernelError } from "./errors.js";
import type { GpuLoader } from "./gpu-backend.js";

/**
 * What a platform adds to {@link createBackend}: the platform-neutral root entry has none
 * of it; `createBackend` of `@hts/kernels/node` passes Node's (headless-gl for the GPU).
 */
export interface BackendPlatform {
  /** Loads gpu.js with the platform's WebGL (Node: headless-gl); see `GpuBackendOptions.loadGpu`. */
  readonly loadGpu?: GpuLoader;
}

/** What {@link createBackend} may pick. */
export type BackendPreference = "auto" | "gpu" | "wasm" | "cpu" | "reference";

/** The backend chosen and, in words, why: report it to the user. */
export interface BackendChoice {
  readonly backend: Backend;
  readonly reason: string;
}

/** The preferences {@link createBackend} accepts. */
export const BACKEND_PREFERENCES: readonly BackendPreference[] = ["auto", "gpu", "wasm", "cpu", "reference"];

/**
 * One way to make a backend. `load` resolves to a backend, or to the reason it cannot be
 * made here (a missing module, no GPU context, ...); heavy backends import their code
 * lazily inside `load`, so that a CPU-only install never loads them.
 */
export interface BackendCandidate {
  readonly name: Exclude<BackendPreference, "auto">;
  load(platform?: BackendPlatform): Promise<Backend | { readonly unavailable: string }>;
}

/** WebAssembly SIMD (`wasm-f32`), or why it is not available in this engine. */
async function loadWasm(): Promise<Backend | { readonly unavailable: string }> {
  const { createWasmBackend, wasmUnavailableReason } = await import("./wasm-backend.js");
  const why = wasmUnavailableReason();
  return why === null ? createWasmBackend() : { unavailable: why };
}

/**
 * The gpu.js backend, or why it cannot be made here (no native gl module, no X display, no
 * WebGL2, only gpu.js's CPU fallback...). gpu.js itself is imported inside, lazily. For
 * `auto`, a software renderer (llvmpipe, SwiftShader) does not count as a GPU.
 */
function gpuCandidate(allowSoftwareRenderer: boolean): BackendCandidate {
  return {
    name: "gpu",
    async load(platform: BackendPlatform = {}) {
      const { createGpuBackend } = await import("./gpu-backend.js");
      try {
        return await createGpuBackend({ allowSoftwareRenderer, ...(platform.loadGpu ? { loadGpu: platform.loadGpu } : {}) });
      } catch (error) {
        if (error instanceof KernelError && error.code === "HTS_BACKEND_UNAVAILABLE") {
          return { unavailable: error.message.replace(/^createGpuBackend: /, "") };
        }
        throw error;
      }
    },
  };
}

/** What a backend runs on, when it says (the GPU backend names its renderer). */
function about(backend: Backend): string {
  const description = (backend as { description?: unknown }).description;
  return typeof description === "string" ? `; ${description}` : "";
}

/**
 * The candidates `auto` tries, best first; the first that loads wins. The list ends with
 * the plain float32 CPU backend, which is always available.
 */
export const AUTO_ORDER: readonly BackendCandidate[] = [
  gpuCandidate(false),
  { name: "wasm", load: loadWasm },
  { name: "cpu", load: async () => createCpuBackend() },
];

const EXPLICIT: Readonly<Record<Exclude<BackendPreference, "auto">, BackendCandidate>> = {
  gpu: gpuCandidate(true),
  wasm: { name: "wasm", load: loadWasm },
  cpu: { name: "cpu", load: async () => createCpuBackend() },
  reference: { name: "reference", load: async () => createReferenceBackend() },
};

/**
 * Picks a backend: `gpu` (float32, gpu.js kernels on a WebGL context: headless-gl in Node,
 * WebGL2 in browsers; a software renderer is accepted when asked for by name), `wasm`
 * (float32, WebAssembly SIMD kernels), `cpu` (float32, plain
 * loops), `reference` (float64 plain loops, slow, exact), or `auto` (the best available, trying {@link AUTO_ORDER} in turn). The choice is returned
 * with a reason, never made silently (in Node, the GPU needs the `platform` that
 * `createBackend` of `@hts/kernels/node` passes: from the root entry it is skipped, saying so); an explicit preference that cannot be honoured is an
 * `HTS_BACKEND_UNAVAILABLE` error saying what is missing, not a fallback.
 */
export async function createBackend(options: { prefer?: BackendPreference; platform?: BackendPlatform } = {}): Promise<BackendChoice> {
  const platform = options.platform ?? {};
  const prefer = options.prefer ?? "auto";
  if (prefer === "auto") {
    const skipped: string[] = [];
    for (const candidate of AUTO_ORDER) {
      const r = await candidate.load(platform);
      if ("unavailable" in r) skipped.push(`${candidate.name}: ${r.unavailable}`);
      else {
        const why = skipped.length ? ` (skipped ${skipped.join("; ")})` : "";
        return { backend: r, reason: `auto: picked ${r.name}, the best backend available here${about(r)}${why}` };
      }
    }
    throw new KernelError("HTS_BACKEND_UNAVAILABLE", `createBackend: no backend could be made: ${skipped.join("; ")}`, {
      parameter: "prefer",
      value: prefer,
      expected: "an available backend",
    });
  }
  const candidate = (EXPLICIT as Record<string, BackendCandidate | undefined>)[prefer as string];
  if (candidate === undefined) {
    throw new KernelError(
      "HTS_INVALID_ARGUMENT",
      `createBackend: prefer must be one of ${BACKEND_PREFERENCES.join(", ")}, got ${JSON.stringify(prefer)}`,
      { parameter: "prefer", value: prefer, expected: BACKEND_PREFERENCES.join(" | ") },
    );
  }
  const r = await candidate.load(platform);
  if ("unavailable" in r) {
    throw new KernelError("HTS_BACKEND_UNAVAILABLE", `createBackend: the ${prefer} backend is not available: ${r.unavailable}`, {
      parameter: "prefer",
      value: prefer,
      expected: "an available backend",
    });
  }
  return { backend: r, reason: `${prefer}: requested${about(r)}` };
}

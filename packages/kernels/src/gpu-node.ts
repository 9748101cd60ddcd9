import { createRequire } from "node:module";
import type { GpuJsClass } from "./gpu-backend.js";

const SETUP = "run scripts/gpu-setup.sh from the repository (Debian packages, then the gl build)";

interface WebGlLike {
  getExtension(name: string): { destroy?: () => void } | null;
}

function firstLine(error: unknown): string {
  return String((error as Error)?.message ?? error).split("\n")[0] as string;
}

/**
 * Node only: finds gpu.js and its optional native module `gl` (headless-gl), checks that
 * a WebGL context can be made (on Linux headless-gl needs an X display, e.g. Xvfb), and
 * returns gpu.js's `GPU` class, or what is missing, in words: the `loadGpu` that
 * `@hts/kernels/node` passes to `createGpuBackend`. Nothing runs until the GPU is asked for.
 */
export async function loadHeadlessGl(): Promise<{ readonly GPU: GpuJsClass } | { readonly unavailable: string }> {
  const req = createRequire(import.meta.url);
  let gpuPath: string;
  try {
    gpuPath = req.resolve("gpu.js");
  } catch (error) {
    return { unavailable: `the gpu.js package is not installed (${firstLine(error)})` };
  }
  // gl is gpu.js's optional dependency: resolve it from gpu.js's own location.
  const fromGpu = createRequire(gpuPath);
  let makeContext: (w: number, h: number, o?: object) => WebGlLike | null;
  try {
    makeContext = fromGpu("gl") as typeof makeContext;
  } catch (error) {
    const code = (error as { code?: string }).code;
    const missing = code === "MODULE_NOT_FOUND" && /'gl'/.test(firstLine(error));
    return {
      unavailable: missing
        ? `the optional native module gl (headless-gl) is not installed: ${SETUP}`
        : `the optional native module gl (headless-gl) is not built (${firstLine(error)}): ${SETUP}`,
    };
  }
  if (process.platform === "linux" && !process.env.DISPLAY) {
    return {
      unavailable: 'no X display: DISPLAY is unset, and headless-gl needs an X server on Linux (run under xvfb-run -a -s "-screen 0 1280x1024x24"; scripts/gpu-setup.sh installs Xvfb)',
    };
  }
  let context: WebGlLike | null = null;
  try {
    context = makeContext(1, 1);
  } catch (error) {
    return { unavailable: `headless-gl could not create a WebGL context: ${firstLine(error)}` };
  }
  if (context === null) {
    const where = process.env.DISPLAY ? ` on DISPLAY=${process.env.DISPLAY}` : "";
    return { unavailable: `headless-gl could not create a WebGL context${where} (X server not reachable, or no GLX)` };
  }
  context.getExtension("STACKGL_destroy_context")?.destroy?.();
  let mod: { GPU?: GpuJsClass & { readonly isHeadlessGLSupported?: boolean } };
  try {
    mod = req("gpu.js") as typeof mod;
  } catch (error) {
    return { unavailable: `gpu.js could not be loaded: ${firstLine(error)}` };
  }
  if (mod.GPU === undefined) return { unavailable: "gpu.js has no GPU export" };
  if (mod.GPU.isHeadlessGLSupported !== true) {
    return { unavailable: "gpu.js reports headless-gl unsupported (no float textures or no context)" };
  }
  return { GPU: mod.GPU };
}

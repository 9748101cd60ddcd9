import type { GpuBackend } from "./gpu-backend.js";
import { createGpuBackend } from "./node.js";
import { KernelError } from "./errors.js";

/** What {@link gpuForTests} found: a GPU backend, or why there is none. */
export type GpuForTests =
  | { readonly backend: GpuBackend; readonly display: string | undefined; readonly reason?: undefined }
  | { readonly backend?: undefined; readonly display: string | undefined; readonly reason: string };

let display: Promise<string | undefined> | undefined;

/**
 * Node on Linux, for tests: when `DISPLAY` is unset and Xvfb is installed, starts one
 * private Xvfb server for this process (killed when the process exits) and sets `DISPLAY`
 * to it, so that headless-gl can make a context. Resolves to the display in use, or
 * undefined when there is none (not Linux, or no Xvfb). Elsewhere it does nothing.
 */
export function ensureDisplay(): Promise<string | undefined> {
  display ??= startDisplay();
  return display;
}

async function startDisplay(): Promise<string | undefined> {
  if (process.platform !== "linux") return undefined;
  if (process.env.DISPLAY) return process.env.DISPLAY;
  const { spawn } = await import("node:child_process");
  return new Promise((resolve) => {
    // -displayfd: Xvfb picks a free display number and writes it to fd 3 once it is ready.
    const child = spawn("Xvfb", ["-displayfd", "3", "-screen", "0", "1280x1024x24", "-nolisten", "tcp"], {
      stdio: ["ignore", "ignore", "ignore", "pipe"],
    });
    const timer = setTimeout(() => finish(undefined), 15_000);
    let text = "";
    const finish = (number: string | undefined) => {
      clearTimeout(timer);
      if (number === undefined) child.kill();
      else {
        process.env.DISPLAY = `:${number}`;
        process.once("exit", () => child.kill());
        child.unref();
        (child.stdio[3] as unknown as { destroy(): void }).destroy();
      }
      resolve(number === undefined ? undefined : `:${number}`);
    };
    child.once("error", () => finish(undefined));
    child.once("exit", () => finish(undefined));
    (child.stdio[3] as NodeJS.ReadableStream).on("data", (chunk: Buffer) => {
      text += chunk.toString();
      const match = /^(\d+)\n/.exec(text);
      if (match) finish(match[1]);
    });
  });
}

/**
 * For test suites that need the GPU backend: makes sure there is a display (see
 * {@link ensureDisplay}), then creates the backend once per process (a software renderer
 * is accepted). Resolves to the backend, or to the reason it cannot be made, which a suite
 * reports as a skip outside CI and as a failure when the environment variable `CI` is set.
 */
export async function gpuForTests(): Promise<GpuForTests> {
  const shown = await ensureDisplay();
  try {
    return { backend: await createGpuBackend(), display: shown };
  } catch (error) {
    if (error instanceof KernelError && error.code === "HTS_BACKEND_UNAVAILABLE") {
      return { reason: error.message.replace(/^createGpuBackend: /, ""), display: shown };
    }
    throw error;
  }
}

/** True when the environment variable `CI` is set (to anything but "" or "false"): GPU tests must run. */
export function gpuRequired(): boolean {
  const ci = process.env.CI;
  return ci !== undefined && ci !== "" && ci !== "false" && ci !== "0";
}

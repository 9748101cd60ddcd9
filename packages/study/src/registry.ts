import { clamp, createDistribution, DISTRIBUTION_NAMES, type Distribution } from "@hts/distributions";
import { createEnergy, ENERGIES, type Energy } from "@hts/energy";
import { type ActivationKind, BACKEND_PREFERENCES, type BackendChoice, type BackendPlatform, type BackendPreference, createBackend } from "@hts/kernels";
import { invalidField, refuse } from "./errors.js";
import type { RunDtSpec } from "./spec.js";

/** Makes a distribution from the dt settings of a run (mean, sd, nu); the clamp is applied after it. */
export type DistributionFactory = (params: { readonly mean: number; readonly sd: number; readonly nu: number }) => Distribution;
/** Makes an energy for an activation. */
export type EnergyFactory = (activation: ActivationKind) => Energy;
/** Makes a backend (and says why it was chosen). */
export type BackendFactory = () => BackendChoice | Promise<BackendChoice>;

const distributions = new Map<string, DistributionFactory>();
const energies = new Map<string, EnergyFactory>();
const backends = new Map<string, BackendFactory>();

function checkName(kind: string, name: unknown, builtIn: readonly string[]): asserts name is string {
  if (typeof name !== "string" || !/^[a-z0-9][a-z0-9._-]*$/i.test(name)) invalidField("name", name, `a ${kind} name of letters, digits, '.', '_' or '-'`);
  if (builtIn.includes(name)) invalidField("name", name, `a name that is not a built-in ${kind} (${builtIn.join(", ")})`);
}
function checkFactory(factory: unknown): void {
  if (typeof factory !== "function") invalidField("factory", factory, "a function");
}

/**
 * Registers a dt distribution under `name`, so that a RunSpec's `dt.dist` may name it (this
 * process only: a worker of an executor registers it through the spec's `imports`). A later
 * registration of the same name replaces it; built-in names cannot be replaced.
 */
export function registerDistribution(name: string, factory: DistributionFactory): void {
  checkName("distribution", name, DISTRIBUTION_NAMES);
  checkFactory(factory);
  distributions.set(name, factory);
}

/** Registers an energy under `name`, so that a RunSpec's `energy` may name it (see {@link registerDistribution}). */
export function registerEnergy(name: string, factory: EnergyFactory): void {
  checkName("energy", name, ENERGIES);
  checkFactory(factory);
  energies.set(name, factory);
}

/** Registers a backend under `name`, so that a RunSpec's `backend` may name it (see {@link registerDistribution}). */
export function registerBackend(name: string, factory: BackendFactory): void {
  checkName("backend", name, BACKEND_PREFERENCES);
  checkFactory(factory);
  backends.set(name, factory);
}

/** @internal */
export function hasDistribution(name: string): boolean {
  return (DISTRIBUTION_NAMES as readonly string[]).includes(name) || distributions.has(name);
}
/** @internal */
export function hasEnergy(name: string): boolean {
  return (ENERGIES as readonly string[]).includes(name) || energies.has(name);
}
/** @internal */
export function hasBackend(name: string): boolean {
  return (BACKEND_PREFERENCES as readonly string[]).includes(name) || backends.has(name);
}

/** The names a RunSpec may use for a kind of component: the built-in ones, then the registered ones. */
export function registeredNames(kind: "distribution" | "energy" | "backend"): string[] {
  if (kind === "distribution") return [...DISTRIBUTION_NAMES, ...distributions.keys()];
  if (kind === "energy") return [...ENERGIES, ...energies.keys()];
  return [...BACKEND_PREFERENCES, ...backends.keys()];
}

/**
 * The clamped dt distribution of a run's dt settings, from the built-in factory
 * (`createDistribution`) or a registered one. A bad setting throws a `StudyError` naming the
 * field (`dt.mean`, `dt.sd`...).
 */
export function runDistribution(dt: Omit<RunDtSpec, "fromInit"> & { fromInit?: boolean }): Distribution {
  try {
    const custom = distributions.get(dt.dist);
    const base = custom
      ? custom({ mean: dt.mean, sd: dt.sd, nu: dt.nu })
      : createDistribution(dt.dist, dt.dist === "student-t" ? { mean: dt.mean, sd: dt.sd, nu: dt.nu } : { mean: dt.mean, sd: dt.sd });
    return clamp(base, { min: dt.min, max: dt.max, mode: dt.clamp });
  } catch (e) {
    const err = e as { parameter?: string; value?: unknown; expected?: string; message: string };
    const fields: Record<string, string> = { name: "dist", dist: "dist", mean: "mean", sd: "sd", nu: "nu", min: "min", max: "max", mode: "clamp" };
    const field = `dt.${fields[err.parameter ?? "name"] ?? "dist"}`;
    return refuse(field, err.value, err.expected ?? "valid dt settings", err.message);
  }
}

/** The energy a RunSpec names, built in or registered. */
export function runEnergy(name: string, activation: ActivationKind): Energy {
  const custom = energies.get(name);
  return custom ? custom(activation) : createEnergy(name, activation);
}

/**
 * The backend a RunSpec names: a registered one, else `createBackend({ prefer, platform })`
 * of `@hts/kernels` (in Node, `@hts/study/node` passes Node's platform: headless-gl for the
 * GPU, worker threads for wasm).
 */
export async function runBackend(name: string, platform?: BackendPlatform): Promise<BackendChoice> {
  const custom = backends.get(name);
  return custom ? await custom() : await createBackend({ prefer: name as BackendPreference, ...(platform ? { platform } : {}) });
}

import type { ActivationKind } from "@hts/kernels";
import type { Energy } from "./energy.js";
import { EnergyError } from "./errors.js";
import { hopfieldEnergy, primitiveEnergy } from "./layered-energy.js";

/** The energies built in, by name. */
export const ENERGIES = ["hopfield", "primitive"] as const;
/** A built-in energy's name. */
export type EnergyName = (typeof ENERGIES)[number];

/** The built-in energy called `name` with the given activation. */
export function createEnergy(name: string, activation: ActivationKind = "hard-sigmoid"): Energy {
  if (name === "hopfield") return hopfieldEnergy({ activation });
  if (name === "primitive") return primitiveEnergy({ activation });
  throw new EnergyError(
    "HTS_INVALID_ARGUMENT",
    `createEnergy: energy must be one of ${ENERGIES.join(", ")}, got ${JSON.stringify(name)}`,
    { parameter: "energy", value: name, expected: ENERGIES.join(" | ") },
  );
}

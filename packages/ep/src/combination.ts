import type { Cost, Energy } from "@hts/energy";
import { EpError, invalid } from "./errors.js";
import type { Network } from "./network.js";
import type { Dynamics } from "./relaxation.js";

/**
 * Refuses a combination of components without a theoretical basis: an update rule whose
 * fixed point is not a stationary point of the energy (the energy says so through
 * `checkDynamics`), or a cost with a read-out on a network without one (and the reverse).
 */
export function checkCombination(energy: Energy, cost: Cost, dynamics: Dynamics, network: Network): void {
  const combo = `${energy.name} energy + ${energy.activation} + ${dynamics} rule + ${cost.name} cost`;
  const why = energy.checkDynamics?.(dynamics) ?? null;
  if (why !== null) {
    throw new EpError("HTS_UNSOUND_COMBINATION", `${combo} is not sound: ${why}`, { parameter: "dynamics", value: dynamics, expected: "a rule whose fixed point is a stationary point of the energy" });
  }
  if (cost.readout && network.readout === null) {
    throw new EpError("HTS_UNSOUND_COMBINATION", `${combo}: the ${cost.name} cost reads the last relaxed layer through read-out weights, but the network has none (create it with readoutClasses)`, {
      parameter: "network",
      value: "no read-out",
      expected: "a network with a read-out",
    });
  }
  if (!cost.readout && network.readout !== null) {
    throw new EpError("HTS_UNSOUND_COMBINATION", `${combo}: the network has a read-out, which the ${cost.name} cost does not use (it reads the output layer); create the network without readoutClasses`, {
      parameter: "network",
      value: "a read-out",
      expected: "a network without a read-out",
    });
  }
  if ((network.sizes[network.sizes.length - 1] as number) < 2 && !cost.readout) {
    invalid("createTrainer", "sizes", network.sizes, "an output layer of at least 2 classes");
  }
}

import { cauchy } from "./cauchy.js";
import { constant } from "./constant.js";
import type { Distribution } from "./distribution.js";
import { exponential } from "./exponential.js";
import { gamma } from "./gamma.js";
import { laplace } from "./laplace.js";
import { lognormal } from "./lognormal.js";
import { DISTRIBUTION_NAMES, type DistributionName, isDistributionName } from "./names.js";
import { normal } from "./normal.js";
import { pareto } from "./pareto.js";
import { studentT } from "./student-t.js";
import { uniform } from "./uniform.js";
import { invalidArgument, requireObject } from "./validate.js";
import { weibull } from "./weibull.js";

/** Options of {@link createDistribution}: the moments, and nu for student-t. */
export interface CreateDistributionOptions {
  /** Target mean mu (location for student-t and cauchy). */
  readonly mean: number;
  /** Target sd sigma (scale for student-t and cauchy); not used by constant and exponential. */
  readonly sd?: number;
  /** Degrees of freedom; student-t only (default 3). */
  readonly nu?: number;
}

/**
 * Maps a name from {@link DISTRIBUTION_NAMES} (as typed on the command line) to its
 * factory. `sd` is dropped for `constant` and `exponential`, which have no sd parameter;
 * `nu` is accepted only for `student-t`.
 *
 * @throws DistributionError `HTS_INVALID_ARGUMENT` for an unknown name (the message lists
 *   the names), `nu` with another distribution, or parameters the factory rejects.
 */
export function createDistribution(name: DistributionName | string, options: CreateDistributionOptions): Distribution {
  if (!isDistributionName(name)) {
    throw invalidArgument("createDistribution", "name", name, `one of ${DISTRIBUTION_NAMES.join(", ")}`);
  }
  const o = requireObject("createDistribution", "options", options);
  if (o.nu !== undefined && name !== "student-t") {
    throw invalidArgument("createDistribution", "nu", o.nu, `undefined for ${name} (nu is a parameter of student-t only)`);
  }
  const mean = o.mean as number;
  const sd = o.sd as number;
  switch (name) {
    case "constant":
      return constant({ mean });
    case "uniform":
      return uniform({ mean, sd });
    case "normal":
      return normal({ mean, sd });
    case "lognormal":
      return lognormal({ mean, sd });
    case "gamma":
      return gamma({ mean, sd });
    case "weibull":
      return weibull({ mean, sd });
    case "laplace":
      return laplace({ mean, sd });
    case "exponential":
      return exponential({ mean });
    case "pareto":
      return pareto({ mean, sd });
    case "student-t":
      return o.nu === undefined ? studentT({ mean, sd }) : studentT({ mean, sd, nu: o.nu as number });
    case "cauchy":
      return cauchy({ mean, sd });
  }
}

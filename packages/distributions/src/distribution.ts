import type { Rng } from "./rng.js";

/** A JSON value: what `JSON.stringify` writes and `JSON.parse` reads back unchanged. */
export type JsonValue =
  | null
  | boolean
  | number
  | string
  | readonly JsonValue[]
  | { readonly [key: string]: JsonValue };

/** The parameters of a distribution: a plain JSON object (inputs and derived values). */
export type DistributionParams = { readonly [key: string]: JsonValue };

/**
 * How {@link clamp} treats a value outside `[min, max]`: `"clip"` sets it to the nearest
 * bound (mass piles up at the bounds), `"resample"` draws it again (a truncated
 * distribution).
 */
export type ClampMode = "clip" | "resample";

/** The resolved bounds and mode of a clamped distribution, as recorded in its JSON. */
export interface ClampSpec {
  /** Lower bound, included, > 0. */
  readonly min: number;
  /** Upper bound, included, > min. */
  readonly max: number;
  /** What happens to a value outside the bounds. */
  readonly mode: ClampMode;
}

/**
 * The serialized form of a distribution: enough to rebuild it with
 * `distributionFromJSON` and draw exactly the same values from the same generator state.
 */
export interface DistributionJSON {
  /** The distribution family, e.g. `"lognormal"`. */
  readonly name: string;
  /** Inputs (`mean`, `sd`, ...) and the derived parameters, as plain JSON. */
  readonly params: DistributionParams;
  /** Present when the distribution is clamped. */
  readonly clamp?: ClampSpec;
}

/**
 * A distribution of per-neuron time steps. This is the interface to implement to swap
 * in your own distribution: fill `out` from `rng` only, so that the same generator state
 * gives the same values.
 *
 * @typeParam P - the shape of {@link Distribution.params}.
 */
export interface Distribution<P extends DistributionParams = DistributionParams> {
  /** The family name, e.g. `"lognormal"`; a clamped distribution keeps its family's name. */
  readonly name: string;
  /** Inputs and derived parameters, frozen plain JSON. */
  readonly params: P;
  /**
   * Fills `out` with independent draws, consuming `rng`, and returns `out`. Values are
   * computed in float64; a `Float32Array` stores them rounded to float32.
   */
  sample<T extends Float64Array | Float32Array>(rng: Rng, out: T): T;
  /** A plain object `{ name, params, clamp? }` that `JSON.stringify` writes faithfully. */
  toJSON(): DistributionJSON;
  /** The analytic mean; undefined where it does not exist or is not finite (cauchy). */
  readonly mean?: number | undefined;
  /** The analytic standard deviation; undefined where it is not finite (cauchy, student-t with nu <= 2). */
  readonly sd?: number | undefined;
  /** The bounds of a clamped distribution; undefined when not clamped. */
  readonly clamp?: ClampSpec | undefined;
}

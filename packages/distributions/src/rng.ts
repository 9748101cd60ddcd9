import { uniformFloat64 } from "pure-rand/distribution/uniformFloat64";
import { uniformInt } from "pure-rand/distribution/uniformInt";
import { xoroshiro128plusFromState } from "pure-rand/generator/xoroshiro128plus";
import type { JumpableRandomGenerator } from "pure-rand/types/JumpableRandomGenerator";
import { DistributionError } from "./errors.js";

/** The saved state of an {@link Rng}: plain JSON, enough to replay the exact same draws. */
export interface RngState {
  readonly algorithm: "xoroshiro128+";
  readonly state: readonly number[];
}

/**
 * A seeded pseudo-random generator (xoroshiro128+ from `pure-rand`). Its state can be
 * saved with {@link Rng.getState} and restored with {@link restoreRng}; the same seed gives
 * the same sequence on every machine and JavaScript engine (integer arithmetic only). Seeds are expanded with SplitMix32.
 */
export interface Rng {
  /** A uniform double in [0, 1), a multiple of 2^-53. */
  uniform(): number;
  /** A uniform integer in [min, max], both included. */
  int(min: number, max: number): number;
  /** The current state, as plain JSON. */
  getState(): RngState;
  /** An independent generator 2^64 draws further on (for parallel streams). */
  jump(): Rng;
}

class XoroshiroRng implements Rng {
  readonly #gen: JumpableRandomGenerator;
  constructor(gen: JumpableRandomGenerator) {
    this.#gen = gen;
  }
  uniform(): number {
    return uniformFloat64(this.#gen);
  }
  int(min: number, max: number): number {
    return uniformInt(this.#gen, min, max);
  }
  getState(): RngState {
    return { algorithm: "xoroshiro128+", state: [...this.#gen.getState()] };
  }
  jump(): Rng {
    const copy = this.#gen.clone() as JumpableRandomGenerator;
    copy.jump();
    return new XoroshiroRng(copy);
  }
}

/** Creates a generator from an integer seed in [0, 2^32). */
export function createRng(seed: number): Rng {
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new DistributionError(
      "HTS_INVALID_ARGUMENT",
      `createRng: seed must be an integer in [0, 4294967295], got ${String(seed)}`,
      { parameter: "seed", value: seed, expected: "integer in [0, 4294967295]" },
    );
  }
  // pure-rand's own seeding puts the seed almost verbatim into the state, so the first
  // draws of small seeds are poor; expand the seed with SplitMix32 instead (integer ops only).
  let x = seed >>> 0;
  const words: number[] = [];
  for (let i = 0; i < 4; i++) {
    x = (x + 0x9e3779b9) | 0;
    let z = x;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    words.push((z ^ (z >>> 16)) | 0);
  }
  if (!words.some((w) => w !== 0)) words[0] = 1;
  return new XoroshiroRng(xoroshiro128plusFromState(words));
}

/** Restores a generator saved with {@link Rng.getState}; it continues the same sequence. */
export function restoreRng(saved: RngState): Rng {
  const ok =
    saved !== null &&
    typeof saved === "object" &&
    saved.algorithm === "xoroshiro128+" &&
    Array.isArray(saved.state) &&
    saved.state.length === 4 &&
    saved.state.every((v) => Number.isInteger(v) && v >= -0x80000000 && v <= 0xffffffff);
  if (!ok) {
    throw new DistributionError(
      "HTS_INVALID_ARGUMENT",
      `restoreRng: state must be { algorithm: "xoroshiro128+", state: [4 x int32] }, got ${JSON.stringify(saved)}`,
      { parameter: "state", value: saved, expected: 'an RngState from Rng.getState()' },
    );
  }
  return new XoroshiroRng(xoroshiro128plusFromState(saved.state));
}

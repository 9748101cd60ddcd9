import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CheckpointError, decodeSafetensors, encodeSafetensors } from "../src/safetensors.js";

/** Property tests of the safetensors reader: arbitrary or damaged bytes give a result or a CheckpointError, never a crash. */
function decodeOrCheckpointError(bytes: Uint8Array): void {
  try {
    const r = decodeSafetensors(bytes, "fuzz.safetensors");
    for (const t of r.tensors.values()) expect(t.data.length).toBe(t.shape.reduce((a, b) => a * b, 1));
  } catch (e) {
    expect(e).toBeInstanceOf(CheckpointError);
    expect((e as CheckpointError).message).toMatch(/fuzz\.safetensors/);
  }
}

describe("safetensors reader fuzz", () => {
  it("arbitrary bytes (4,000 inputs, seed 3)", () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 96 }), decodeOrCheckpointError), { numRuns: 4000, seed: 3 });
  });

  it("arbitrary headers with a valid length prefix (3,000 inputs, seed 4)", () => {
    fc.assert(
      fc.property(fc.json(), fc.uint8Array({ maxLength: 32 }), (header, tail) => {
        const h = new TextEncoder().encode(header);
        const bytes = new Uint8Array(8 + h.length + tail.length);
        new DataView(bytes.buffer).setBigUint64(0, BigInt(h.length), true);
        bytes.set(h, 8);
        bytes.set(tail, 8 + h.length);
        decodeOrCheckpointError(bytes);
      }),
      { numRuns: 3000, seed: 4 },
    );
  });

  it("valid files with one byte changed or the end cut (3,000 inputs, seed 5)", () => {
    const tensor = fc
      .tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 4 }))
      .chain(([r, c]) => fc.tuple(fc.constant([r, c]), fc.float32Array({ minLength: r * c, maxLength: r * c, noNaN: true })));
    fc.assert(
      fc.property(fc.array(tensor, { minLength: 1, maxLength: 3 }), fc.nat(), fc.nat({ max: 255 }), fc.nat(), (tensors, pos, value, cut) => {
        const input: Record<string, { dtype: "F32"; shape: number[]; data: Float32Array }> = {};
        tensors.forEach(([shape, data], i) => {
          input[`t${i}`] = { dtype: "F32", shape: [...shape], data };
        });
        const file = encodeSafetensors(input, { config: "{}" });
        const back = decodeSafetensors(file, "ok.safetensors");
        expect([...back.tensors.keys()]).toEqual(Object.keys(input));
        const mutated = file.slice();
        mutated[pos % mutated.length] = value;
        decodeOrCheckpointError(mutated);
        decodeOrCheckpointError(file.subarray(0, cut % file.length));
      }),
      { numRuns: 3000, seed: 5 },
    );
  });
});

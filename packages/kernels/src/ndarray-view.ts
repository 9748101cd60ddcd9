import ndarray from "ndarray";
import type { NdArray } from "ndarray";
import type { Backend, FloatArray, Matrix } from "./backend.js";

/** Reads `m` from its backend and returns it as a rows x cols `ndarray` view. */
export function toNdarray(backend: Backend, m: Matrix): NdArray<FloatArray> {
  return ndarray(backend.read(m), [m.rows, m.cols]);
}

/** Uploads a 2-D `ndarray` (any strides) into a new matrix of `backend`. */
export function fromNdarray(backend: Backend, array: NdArray<FloatArray | number[]>): Matrix {
  const [rows, cols] = array.shape as [number, number];
  const values = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) values[i * cols + j] = array.get(i, j);
  return backend.matrix(rows, cols, values);
}

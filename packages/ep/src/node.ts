/**
 * Node-only entry of `@hts/ep`: safetensors files and checkpoints on the file system
 * (atomic writes). The root entry `@hts/ep` is platform-neutral and works on bytes
 * (`encodeSafetensors`, `decodeSafetensors`, `encodeCheckpoint`, `decodeCheckpoint`).
 * This entry re-exports the whole root, so a Node program can import everything from here.
 *
 * @packageDocumentation
 */
import { randomBytes } from "node:crypto";
import { open, readFile, rename, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
export * from "./index.js";

import { type Checkpoint, checkpointFromContent, encodeCheckpoint } from "./checkpoint.js";
import type { Network, NetworkSnapshot } from "./network.js";
import { decodeSafetensorsNamed, encodeSafetensors, type SafetensorsContent, type SafetensorsInput } from "./safetensors.js";

/** Writes bytes to `path` atomically: temporary file in the same folder, flushed, renamed over `path`. */
async function writeAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const dir = dirname(path);
  const temp = join(dir, `.${basename(path)}.tmp-${process.pid}-${randomBytes(6).toString("hex")}`);
  let created = false;
  try {
    const handle = await open(temp, "wx", 0o644);
    created = true;
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
    created = false;
  } catch (error) {
    if (created) await unlink(temp).catch(() => undefined);
    throw error;
  }
  // Make the rename itself durable; not every platform can sync a folder, which is harmless.
  try {
    const folder = await open(dir, "r");
    try {
      await folder.sync();
    } finally {
      await folder.close();
    }
  } catch {
    // Best effort only: the file's content is already on disk.
  }
}


/**
 * Writes tensors to a safetensors file atomically: the bytes go to a temporary file in the
 * same folder (`.<name>.tmp-<pid>-<random>`), which is flushed to disk and then renamed
 * over `path`. Readers see either the old file or the complete new one; on failure the
 * temporary file is removed and `path` is left as it was.
 *
 * @param path - The file to write.
 * @param tensors - As for {@link encodeSafetensors}.
 * @param metadata - As for {@link encodeSafetensors}.
 * @throws {@link CheckpointError} for bad tensors or metadata, or the file system's own
 *   error (e.g. `ENOENT` when the folder does not exist).
 */
export async function writeSafetensorsFile(
  path: string,
  tensors: SafetensorsInput,
  metadata?: Readonly<Record<string, string>>,
): Promise<void> {
  await writeAtomic(path, encodeSafetensors(tensors, metadata));
}

/**
 * Reads and decodes a safetensors file (see `decodeSafetensors`).
 *
 * @param path - The file to read.
 * @throws {@link CheckpointError} `HTS_CHECKPOINT_FORMAT` for a malformed file, or the
 *   file system's own error (e.g. `ENOENT`).
 */
export async function readSafetensorsFile(path: string): Promise<SafetensorsContent> {
  const bytes = new Uint8Array(await readFile(path));
  return decodeSafetensorsNamed(bytes, path, "readSafetensorsFile");
}

/**
 * Writes the network as a safetensors checkpoint, atomically (temporary file, then rename):
 * the bytes of `encodeCheckpoint(network, config)` from `@hts/ep`.
 */
export async function saveCheckpoint(path: string, network: Network | NetworkSnapshot, config: unknown = null): Promise<void> {
  await writeAtomic(path, encodeCheckpoint(network, config));
}

/** Reads and validates a checkpoint written by {@link saveCheckpoint} (or any tool using its layout). */
export async function loadCheckpoint(path: string): Promise<Checkpoint> {
  return checkpointFromContent(await readSafetensorsFile(path), path);
}

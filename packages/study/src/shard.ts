import { refuse } from "./errors.js";

/** Share `index` (1-based) of `count`: see {@link shareOf}. */
export interface Shard {
  readonly index: number;
  readonly count: number;
}

/**
 * Reads `I/N` (1 <= I <= N), e.g. `2/8`; anything else is a `StudyError` whose parameter
 * is `parameter`.
 */
export function parseShard(text: string, parameter = "shard"): Shard {
  const expected = "I/N with integers 1 <= I <= N, e.g. 2/8";
  const m = /^\s*(\d{1,9})\s*\/\s*(\d{1,9})\s*$/.exec(text);
  if (!m) refuse(parameter, text, expected, `expected ${expected}, got ${JSON.stringify(text)}`);
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1) refuse(parameter, text, expected, `expected ${expected}, got ${JSON.stringify(text)} (N must be at least 1)`);
  if (index < 1 || index > count) refuse(parameter, text, expected, `expected ${expected}, got ${JSON.stringify(text)} (I must be between 1 and ${count})`);
  return { index, count };
}

/**
 * The runs of share `index` of `count`: the k-th run of the plan (0-based, in the plan's
 * order: seeds outermost, configurations in order) belongs to share (k mod count) + 1. The
 * split depends only on the study's definition, so every process of an array job computes
 * the same one, and consecutive runs (different configurations) land on different shares.
 */
export function shareOf<T>(plan: readonly T[], shard: Shard): T[] {
  return plan.filter((_, k) => k % shard.count === shard.index - 1);
}

/** Quotes a word for a POSIX shell. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** Options of {@link sbatchScript}. */
export interface SbatchOptions {
  /** The command that runs `hts` on the cluster's nodes, e.g. `node /shared/hts/apps/cli/dist/main.js` (a `HTS` variable overrides it when submitting). */
  readonly hts: string;
  /** The arguments of `hts study` for every share (the study folder included, as an absolute path), without --shard. */
  readonly args: readonly string[];
  /** Tasks of the array: one share each. */
  readonly tasks: number;
  /** The job's name in the queue. */
  readonly name: string;
  /** Give every task `--jobs $SLURM_CPUS_PER_TASK` (when the arguments set no --jobs). */
  readonly jobsFromSlurm: boolean;
}

/**
 * A Slurm array job script: task I of N runs `hts study ... --shard I/N`
 * (`SLURM_ARRAY_TASK_ID`, `SLURM_ARRAY_TASK_COUNT`; an array that does not start at 1 is
 * shifted by `SLURM_ARRAY_TASK_MIN`). Edit `--array` to use fewer tasks than runs.
 */
export function sbatchScript(options: SbatchOptions): string {
  const args = options.args.map(shellQuote).join(" ");
  return `#!/bin/bash
# A Slurm array job written by hts study --sbatch: task I of N runs share I of the study's
# grid (hts study --shard I/N) into one study folder on a shared file system. The split is
# by the run's place in the plan (run k belongs to share k mod N + 1), so --array may be
# changed to any number of tasks. Submit it, then write the summaries once every task is done:
#   jobid=$(sbatch --parsable ${options.name}.sbatch)
#   sbatch --dependency=afterok:$jobid --wrap "${options.hts} study ${args.replace(/"/g, '\\"')}"
#SBATCH --job-name=${options.name}
#SBATCH --array=1-${options.tasks}
#SBATCH --cpus-per-task=1
set -euo pipefail
HTS=\${HTS:-${options.hts}}
share=$((SLURM_ARRAY_TASK_ID - \${SLURM_ARRAY_TASK_MIN:-1} + 1))
exec $HTS study ${args}${options.jobsFromSlurm ? ` --jobs "\${SLURM_CPUS_PER_TASK:-1}"` : ""} --shard "$share/$SLURM_ARRAY_TASK_COUNT"
`;
}

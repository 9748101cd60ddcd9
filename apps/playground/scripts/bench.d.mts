export interface BenchSettings { arch: number[]; batch: number; t1: number; t2: number }
export interface BenchFigure { kind: "wasm-1" | "wasm-threads" | "gpu"; backend: string | null; threads: number; reason: string; samplesPerSecond: number | null }
export interface BenchResult { settings: BenchSettings; seconds: number; repeats: number; rounds: { node: { backend: string; samplesPerSecond: number }; browser: BenchFigure[] }[] }
export interface BenchRow { figure: string; backend: string | null; threads: number; reason: string; median: number | null; min: number | null; max: number | null; overNode: number | null }
export function runBench(options?: { repeats?: number; seconds?: number; chromium?: string; settings?: BenchSettings; log?: (line: string) => void }): Promise<BenchResult>;
export function summarize(result: BenchResult): BenchRow[];

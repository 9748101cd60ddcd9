import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    reporters: ["default", ["json", { outputFile: ".vitest/results.json" }]],
    // Training in a browser on a shared machine: generous limits (a loaded 2-core host runs these 3-5 times slower).
    testTimeout: 600_000,
    hookTimeout: 600_000,
  },
});

import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Fixtures that fail on purpose, run by their own tests through their own config.
    exclude: ["test/fixtures/**", "**/node_modules/**"],
    globalSetup: ["test/support/globalSetup.ts"],
    // The process runs in a zone far from the business zone (Europe/Moscow) and from the
    // database's (set per test database), so a rule that leaks either one fails.
    env: { TZ: "America/Los_Angeles" },
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
    fileParallelism: true,
    maxWorkers: 2
  }
})

import { defineConfig } from "@playwright/test";
import { ADMIN } from "./admin";

// `cargo xtask test` builds the server and passes its path, a free port and a temporary database.
const port = Number(process.env.E2E_PORT ?? 3100);
const baseURL = `http://127.0.0.1:${port}`;

export default defineConfig({
  testDir: "./tests",
  fullyParallel: false,
  workers: 1,
  forbidOnly: !!process.env.CI,
  retries: 0,
  reporter: [["list"]],
  timeout: 30_000,
  expect: { timeout: 10_000 },
  use: {
    baseURL,
    trace: "retain-on-failure",
    // Times are shown in the viewer's zone: the same on every machine (specs that are about
    // zones set their own).
    timezoneId: "UTC",
    browserName: "chromium",
    launchOptions: {
      // Debian's Chromium: Playwright's own browser download is not reachable from our machines.
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      // Without the networking flags Chromium floods the closed network with connection attempts.
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
      ],
    },
  },
  webServer: {
    command: `${process.env.SERVER_BIN ?? "../target/server/server"} serve`,
    url: `${baseURL}/api/health`,
    timeout: 120_000,
    reuseExistingServer: false,
    stdout: "pipe",
    stderr: "pipe",
    env: {
      BIND: `127.0.0.1:${port}`,
      DATABASE_URL: process.env.E2E_DATABASE_URL ?? "sqlite://../target/e2e/e2e.db",
      RUST_LOG: "warn",
      // Creates the admin the tests sign in as (tests/fixtures.ts), on a database without users.
      ADMIN_EMAIL: ADMIN.email,
      ADMIN_PASSWORD: ADMIN.password,
      // The sandbox's debug endpoints (fault injection), for the signed-in admin only.
      SANDBOX_DEBUG: "on",
    },
  },
});

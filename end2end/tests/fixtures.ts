import * as fs from "node:fs";
import * as path from "node:path";
import { test as base, expect } from "@playwright/test";
import { ADMIN } from "../admin";

export { ADMIN };

// Every test starts signed in as the admin (one sign-in per worker, kept as a storage state), and
// `request` sends the session cookie and this site's Origin, as the app's own pages do. A test
// that needs to be signed out uses `test.use({ storageState: { cookies: [], origins: [] } })`.
//
// Every test fails if the page logs an error or throws: a healthy app is silent. A test that
// provokes an error on purpose opts out with `test.use({ allowConsoleErrors: true })`.
export const test = base.extend<
  { allowConsoleErrors: boolean; consoleErrors: string[] },
  { adminState: string }
>({
  adminState: [
    async ({ playwright }, use, workerInfo) => {
      const baseURL = workerInfo.project.use.baseURL!;
      const file = path.join(workerInfo.project.outputDir, ".auth", `admin-${workerInfo.workerIndex}.json`);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      const context = await playwright.request.newContext({ baseURL, extraHTTPHeaders: { Origin: baseURL } });
      const res = await context.post("/api/login", { data: ADMIN });
      expect(res.status(), "the test admin signs in").toBe(200);
      await context.storageState({ path: file });
      await context.dispose();
      await use(file);
    },
    { scope: "worker" },
  ],
  storageState: ({ adminState }, use) => use(adminState),
  request: async ({ playwright, baseURL, storageState }, use) => {
    const context = await playwright.request.newContext({
      baseURL,
      storageState,
      extraHTTPHeaders: { Origin: new URL(baseURL!).origin },
    });
    await use(context);
    await context.dispose();
  },
  allowConsoleErrors: [false, { option: true }],
  consoleErrors: [
    async ({ page, allowConsoleErrors }, use) => {
      const errors: string[] = [];
      page.on("console", (msg) => {
        if (msg.type() === "error") errors.push(msg.text());
      });
      page.on("pageerror", (err) => errors.push(err.message));
      await use(errors);
      if (!allowConsoleErrors) expect(errors, "console errors").toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };

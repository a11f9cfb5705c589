import { test, expect, ADMIN } from "./fixtures";

// The first visit downloads only the shell and the campaign list; every other page's code (sign-in
// included) comes in its own chunks the first time that page is opened.

const wasmRequests = (page: import("@playwright/test").Page) => {
  const seen: string[] = [];
  page.on("request", (req) => {
    const path = new URL(req.url()).pathname;
    if (path.endsWith(".wasm")) seen.push(path);
  });
  return seen;
};

test("the list loads without the wizard's code, which comes, in one batch of parallel requests, when the wizard opens", async ({ page }) => {
  const wasm = wasmRequests(page);
  await page.goto("/campaigns");
  await expect(page.getByRole("button", { name: "+ Campaign" }).first()).toBeVisible();
  expect(wasm).toEqual(["/pkg/app_bg.wasm"]);

  // Pointing at "+ Campaign" starts the wizard's download before the click.
  await page.getByRole("button", { name: "+ Campaign" }).first().hover();
  await expect.poll(() => wasm.length).toBeGreaterThan(1);

  await page.getByRole("button", { name: "+ Campaign" }).first().click();
  await expect(page).toHaveURL(/\/edit\/when$/);
  await page.getByLabel("Campaign name").fill(`Split ${Date.now().toString(36)}`);
  await expect(page.getByRole("heading", { name: "When" })).toBeVisible();
  const opening = wasm.slice(1);
  // One loader fetches the wizard's module and every shared chunk it needs at once (see
  // `cargo xtask size`, which lists them): printed so that the figure can be quoted.
  console.log(`Opening the wizard fetched ${opening.length} WASM files, in parallel`);
  expect(opening.length).toBeGreaterThan(0);

  // The wizard's steps came together: moving between them downloads nothing more.
  const afterWhen = wasm.length;
  await page.getByRole("link", { name: /^Who/ }).click();
  await expect(page).toHaveURL(/\/edit\/who$/);
  await expect(page.getByRole("button", { name: "Add past behaviour condition" }).first()).toBeVisible();
  expect(wasm.length).toBe(afterWhen);

  // The Segments page reuses what it shares with the wizard (the segment builder).
  await page.getByRole("link", { name: "Segments" }).click();
  await expect(page.getByRole("heading", { name: "Segments", level: 1 })).toBeVisible();
  console.log(`Then the Segments page fetched ${wasm.length - afterWhen} more`);

  // Another part of the app brings its own code.
  const afterSegments = wasm.length;
  await page.getByRole("link", { name: "Settings" }).click();
  await expect(page.getByRole("heading", { name: "Settings", level: 1 })).toBeVisible();
  expect(wasm.length).toBeGreaterThan(afterSegments);
  expect(new Set(wasm).size, "no file is downloaded twice").toBe(wasm.length);
});

test("signing in downloads the sign-in page's own small chunk; the list needs none", async ({ browser, baseURL }) => {
  const context = await browser.newContext({ baseURL, storageState: { cookies: [], origins: [] } });
  const page = await context.newPage();
  const wasm = wasmRequests(page);
  await page.goto("/login");
  await expect(page.getByRole("button", { name: "Sign in" })).toBeVisible();
  expect(wasm[0]).toBe("/pkg/app_bg.wasm");
  expect(wasm.length).toBeGreaterThan(1);
  await page.getByLabel("E-mail address").fill(ADMIN.email);
  await page.getByLabel("Password").fill(ADMIN.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("button", { name: "+ Campaign" }).first()).toBeVisible();
  await context.close();
});

test.describe("when a page's code cannot be downloaded", () => {
  // The refused download is logged by the browser and by the chunk loader.
  test.use({ allowConsoleErrors: true });

  test("the page says so and Reload brings it", async ({ page }) => {
    await page.goto("/campaigns");
    await expect(page.getByRole("button", { name: "+ Campaign" }).first()).toBeVisible();
    await page.route(/\/pkg\/(?!app_bg).*\.wasm$/, (route) => route.abort("connectionrefused"));

    await page.getByRole("link", { name: "Settings" }).click();
    const alert = page.getByRole("alert").filter({ hasText: "This page could not be downloaded" });
    await expect(alert).toBeVisible();
    // The app is still alive: the rest of the shell works.
    await page.getByRole("link", { name: "Campaigns" }).click();
    await expect(page.getByRole("button", { name: "+ Campaign" }).first()).toBeVisible();

    await page.getByRole("link", { name: "Settings" }).click();
    await expect(alert).toBeVisible();
    await page.unroute(/\/pkg\/(?!app_bg).*\.wasm$/);
    await alert.getByRole("button", { name: "Reload" }).click();
    await expect(page.getByRole("heading", { name: "Settings", level: 1 })).toBeVisible();
  });
});

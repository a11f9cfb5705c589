import { test, expect } from "./fixtures";
import { newCampaign } from "./wizard-helpers";

// The first visit downloads only the shell, the campaign list and sign-in; every other page's
// code comes in its own chunk the first time that page is opened.

const wasmRequests = (page: import("@playwright/test").Page) => {
  const seen: string[] = [];
  page.on("request", (req) => {
    const path = new URL(req.url()).pathname;
    if (path.endsWith(".wasm")) seen.push(path);
  });
  return seen;
};

test("the campaign list loads without the wizard's code, which comes when the wizard opens", async ({ page }) => {
  const wasm = wasmRequests(page);
  await page.goto("/campaigns");
  await expect(page.getByRole("button", { name: "+ Campaign" }).first()).toBeVisible();
  expect(wasm).toEqual(["/pkg/app_bg.wasm"]);

  // Pointing at "+ Campaign" starts the wizard's download before the click.
  await page.getByRole("button", { name: "+ Campaign" }).first().hover();
  await expect.poll(() => wasm.length).toBeGreaterThan(1);

  await newCampaign(page, `Split ${Date.now().toString(36)}`);
  await expect(page.getByRole("heading", { name: "When" })).toBeVisible();
  const wizardChunks = wasm.filter((p) => p !== "/pkg/app_bg.wasm");
  expect(wizardChunks.length).toBeGreaterThan(0);

  // The wizard's steps came together: moving between them downloads nothing more.
  const afterWhen = wasm.length;
  await page.getByRole("link", { name: /^Who/ }).click();
  await expect(page).toHaveURL(/\/edit\/who$/);
  await expect(page.getByRole("button", { name: "Add past behaviour condition" }).first()).toBeVisible();
  expect(wasm.length).toBe(afterWhen);

  // Another part of the app brings its own code.
  await page.getByRole("link", { name: "Settings" }).click();
  await expect(page.getByRole("heading", { name: "Settings", level: 1 })).toBeVisible();
  expect(wasm.length).toBeGreaterThan(afterWhen);
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

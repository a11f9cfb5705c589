import { test, expect } from "./fixtures";

test("the shell renders with navigation and the server's health in the footer", async ({ page }) => {
  await page.goto("/");
  await expect(page).toHaveURL(/\/campaigns$/);
  await expect(page.getByRole("banner").getByText("Facebook Audiences")).toBeVisible();
  const nav = page.getByRole("navigation", { name: "Main" });
  for (const name of ["Campaigns", "Segments", "Data", "Settings"]) {
    await expect(nav.getByRole("link", { name })).toBeVisible();
  }
  await expect(page.getByRole("heading", { level: 1, name: "Campaigns" })).toBeVisible();

  const health = await (await page.request.get("/api/health")).json();
  await expect(page.getByRole("contentinfo")).toContainText(`Server ${health.version} · SQLite`);
});

test("navigation moves between pages and marks the current one", async ({ page }) => {
  await page.goto("/campaigns");
  const nav = page.getByRole("navigation", { name: "Main" });

  await nav.getByRole("link", { name: "Segments" }).click();
  await expect(page).toHaveURL(/\/segments$/);
  await expect(page.getByRole("heading", { level: 1, name: "Segments" })).toBeVisible();
  await expect(nav.getByRole("link", { name: "Segments" })).toHaveAttribute("aria-current", "page");
  await expect(page).toHaveTitle("Segments · Facebook Audiences");

  await nav.getByRole("link", { name: "Settings" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Settings" })).toBeVisible();

  await page.goBack();
  await expect(page.getByRole("heading", { level: 1, name: "Segments" })).toBeVisible();
});

test("a deep link to a client route loads that page directly", async ({ page }) => {
  const res = await page.goto("/settings");
  expect(res?.status()).toBe(200);
  await expect(page.getByRole("heading", { level: 1, name: "Settings" })).toBeVisible();
  await expect(page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Settings" }))
    .toHaveAttribute("aria-current", "page");
});

test("an unknown route shows the not-found page inside the shell", async ({ page }) => {
  await page.goto("/no/such/page");
  await expect(page.getByRole("heading", { level: 1, name: "Page not found" })).toBeVisible();
  await expect(page.getByText("/no/such/page")).toBeVisible();
  await page.getByRole("link", { name: "Go to Campaigns" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Campaigns" })).toBeVisible();
});

test.describe("when the server cannot be reached", () => {
  // This test expects the failed request to be logged by the browser.
  test.use({ allowConsoleErrors: true });

  test("the footer says so instead of the version", async ({ page }) => {
    await page.route("**/api/health", (route) => route.abort("connectionrefused"));
    await page.goto("/campaigns");
    await expect(page.getByRole("contentinfo").getByRole("alert")).toContainText("Server unreachable");
  });
});

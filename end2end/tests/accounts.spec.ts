import { test, expect, ADMIN } from "./fixtures";

test.describe("signed out", () => {
  test.use({ storageState: { cookies: [], origins: [] } });
  // Reaching a page without a session is a 401, which the browser logs.
  test.use({ allowConsoleErrors: true });

  test("a page asks for sign-in, brings the user back, and log out ends the session", async ({ page }) => {
    await page.goto("/campaigns?q=spring");
    await expect(page).toHaveURL(/\/login\?next=\/campaigns%3Fq%3Dspring$/);
    await expect(page.getByRole("heading", { level: 1, name: "Sign in" })).toBeVisible();

    await page.getByLabel("E-mail address").fill(ADMIN.email);
    await page.getByLabel("Password").fill("not the password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page.getByRole("alert").filter({ hasText: "wrong" })).toBeVisible();

    await page.getByLabel("Password").fill(ADMIN.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page).toHaveURL(/\/campaigns\?q=spring$/);
    const banner = page.getByRole("banner");
    await expect(banner).toContainText(ADMIN.email);
    await expect(banner).toContainText("Admin");

    await banner.getByRole("button", { name: "Log out" }).click();
    await expect(page).toHaveURL(/\/login$/);
    await page.goto("/campaigns");
    await expect(page).toHaveURL(/\/login\?next=/);
  });
});

test("a viewer sees the campaigns but no button that changes them", async ({ browser, request, baseURL }) => {
  const unique = Date.now().toString(36);
  const created = await request.post("/api/campaigns", { data: { name: `Viewer check ${unique}` } });
  expect(created.status()).toBe(201);
  const email = `viewer-${unique}@example.com`;
  const password = "viewer-password";
  const user = await request.post("/api/users", { data: { email, password, role: "viewer" } });
  expect(user.status()).toBe(201);

  const context = await browser.newContext({ baseURL, storageState: { cookies: [], origins: [] } });
  const page = await context.newPage();
  await page.goto("/login");
  await page.getByLabel("E-mail address").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/campaigns$/);
  await expect(page.getByRole("banner")).toContainText("Viewer");

  const row = page.getByRole("row").filter({ hasText: `Viewer check ${unique}` });
  await expect(row).toBeVisible();
  await expect(row.getByRole("button")).toHaveCount(0);
  await expect(row.getByRole("link")).toHaveCount(0);
  await expect(page.getByRole("button", { name: "+ Campaign" })).toHaveCount(0);
  // No admin pages in the navigation either.
  await expect(page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Users" })).toHaveCount(0);
  await context.close();
});

test("an admin adds a user and creates an API key shown once", async ({ page }) => {
  const unique = Date.now().toString(36);
  await page.goto("/users");
  await expect(page.getByRole("heading", { level: 1, name: "Users" })).toBeVisible();
  await page.getByLabel("E-mail address").fill(`marketer-${unique}@example.com`);
  await page.getByLabel("Initial password").fill("marketer-password");
  await page.getByRole("button", { name: "Add user" }).click();
  await expect(page.getByRole("row").filter({ hasText: `marketer-${unique}@example.com` })).toBeVisible();

  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "API keys" }).click();
  await page.getByLabel("New key name").fill(`Backend ${unique}`);
  await page.getByRole("button", { name: "Create key" }).click();
  await expect(page.getByRole("status").filter({ hasText: "will not be shown again" })).toContainText("fba_");
  await expect(page.getByRole("row").filter({ hasText: `Backend ${unique}` })).toBeVisible();

  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Audit log" }).click();
  await expect(page.getByRole("row").filter({ hasText: `Backend ${unique}` }).first()).toBeVisible();
});

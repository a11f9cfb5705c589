import { test, expect } from "./fixtures";
import { dailyFromNewYear, publishedCampaign, uploadCohort } from "./campaign-api";

// "Run now" and "Dry run" from the campaign list: in each published campaign's "Sync" menu, for
// those who may edit, with what came of it said above the list.

const unique = Date.now().toString(36);
const row = (page: import("@playwright/test").Page, name: string) =>
  page.getByRole("row", { name: new RegExp(`^${name}`) });

test("a dry run and a run now from the list say what they did", async ({ page, request }) => {
  const cohort = `list-runs-${unique}`;
  const name = `List runs ${unique}`;
  await uploadCohort(request, cohort);
  const created = await publishedCampaign(request, name, dailyFromNewYear("UTC", "09:00"), cohort);
  await page.goto("/campaigns");
  const sync = row(page, name).getByRole("button", { name: `Sync ${name}` });
  const feedback = page.getByTestId("run-feedback");

  await test.step("the Sync menu opens with both actions, and Escape closes it", async () => {
    await expect(sync).toHaveAttribute("aria-expanded", "false");
    await sync.click();
    await expect(sync).toHaveAttribute("aria-expanded", "true");
    await expect(row(page, name).getByRole("button", { name: `Run now ${name}` })).toBeVisible();
    await page.keyboard.press("Escape");
    await expect(sync).toHaveAttribute("aria-expanded", "false");
    await expect(sync).toBeFocused();
    await expect(row(page, name).getByRole("button", { name: `Run now ${name}` })).toBeHidden();
  });

  await test.step("Dry run: who would be added, and nothing sent", async () => {
    await sync.click();
    await row(page, name).getByRole("button", { name: `Dry run ${name}` }).click();
    await expect(feedback).toHaveText(
      `“${name}”: Dry run: 3 in the segment; 3 would be added and 0 removed. Nothing was sent to Facebook. See it in its sync runs Dismiss`,
    );
    await expect(feedback).toHaveAttribute("role", "status");
    // The menu closed; the audience on Facebook is untouched: the list still has no sync.
    await expect(sync).toHaveAttribute("aria-expanded", "false");
    await expect(row(page, name).getByTestId("last-sync")).toHaveText("—");
    await feedback.getByRole("button", { name: "Dismiss" }).click();
    await expect(feedback).toHaveCount(0);
  });

  await test.step("Run now: queued, and the list shows the run", async () => {
    await sync.click();
    await row(page, name).getByRole("button", { name: `Run now ${name}` }).click();
    await expect(feedback).toContainText(`“${name}” is queued to run now.`);
    await expect(row(page, name).getByTestId("last-sync")).toHaveText(/^(Queued|Running|Succeeded)/);
    await feedback.getByRole("link", { name: "Follow it in its sync runs" }).click();
    await expect(page).toHaveURL(new RegExp(`/campaigns/${created.id}/stats$`));
    const runs = page.getByRole("region", { name: "Sync runs" }).getByTestId("run");
    await expect(runs.first()).toContainText("Run now");
    await expect(runs.nth(1)).toContainText("Dry run");
  });
});

test.describe("refusals", () => {
  // The server's refusal is a 409, which the browser logs as a failed resource.
  test.use({ allowConsoleErrors: true });

  test("Run now waits for a resume, and a list gone stale gets the server's reason", async ({ page, request }) => {
    const name = `List refusal ${unique}`;
    const created = await publishedCampaign(request, name, dailyFromNewYear("UTC", "09:00"));
    const paused = `List paused ${unique}`;
    const other = await publishedCampaign(request, paused, dailyFromNewYear("UTC", "09:00"));
    expect((await request.post(`/api/campaigns/${other.id}/pause`)).status()).toBe(200);

    await page.goto("/campaigns");
    // A paused campaign offers only the dry run.
    await row(page, paused).getByRole("button", { name: `Sync ${paused}` }).click();
    await expect(row(page, paused).getByRole("button", { name: `Dry run ${paused}` })).toBeVisible();
    await expect(row(page, paused).getByRole("button", { name: `Run now ${paused}` })).toHaveCount(0);

    // Paused by someone else after the list was read: the server refuses, in words.
    expect((await request.post(`/api/campaigns/${created.id}/pause`)).status()).toBe(200);
    await row(page, name).getByRole("button", { name: `Sync ${name}` }).click();
    await row(page, name).getByRole("button", { name: `Run now ${name}` }).click();
    const feedback = page.getByTestId("run-feedback");
    await expect(feedback).toHaveAttribute("role", "alert");
    await expect(feedback).toContainText(
      `“${name}”: The run could not be started: A campaign that is paused cannot run now. Resume it first.`,
    );
  });
});

test("a viewer has no Sync menu", async ({ browser, request, baseURL }) => {
  const name = `List viewer ${unique}`;
  await publishedCampaign(request, name, dailyFromNewYear("UTC", "09:00"));
  const email = `list-viewer-${unique}@example.com`;
  const password = "viewer-password";
  expect((await request.post("/api/users", { data: { email, password, role: "viewer" } })).status()).toBe(201);
  const context = await browser.newContext({ baseURL, storageState: { cookies: [], origins: [] } });
  const page = await context.newPage();
  await page.goto("/login");
  await page.getByLabel("E-mail address").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/campaigns$/);
  await expect(row(page, name)).toBeVisible();
  await expect(row(page, name).getByRole("button")).toHaveCount(0);
  await context.close();
});

import { test, expect } from "./fixtures";

// How pages load what they show: busy while an answer is on its way, a slow answer never replaces
// a newer one, and "Retry" asks again.

test("the list is busy until its answer arrives, and a slow answer to an old search never replaces a newer one", async ({ page, request }) => {
  const unique = Date.now().toString(36);
  const name = `Out of order ${unique}`;
  expect((await request.post("/api/campaigns", { data: { name } })).status()).toBe(201);

  // The first search's answer (nothing matches it) is held back until the second one is shown.
  let releaseSlow!: () => void;
  const slowHeld = new Promise<void>((resolve) => (releaseSlow = resolve));
  await page.route(/\/api\/campaigns\?.*q=nothing-matches/, async (route) => {
    await slowHeld;
    await route.continue();
  });

  await page.goto(`/campaigns?q=nothing-matches-${unique}`);
  const list = page.getByRole("region", { name: "Campaign list" });
  await expect(list).toHaveAttribute("aria-busy", "true");
  await expect(list).toContainText("Loading campaigns…");
  await expect(page.getByLabel("Search by name")).toHaveValue(`nothing-matches-${unique}`);
  await page.getByLabel("Search by name").fill(name);
  await expect(list.getByRole("link", { name })).toBeVisible();
  // The newest search has its answer: the list is no longer busy, whatever is still on its way.
  await expect(list).toHaveAttribute("aria-busy", "false");

  const slowAnswer = page.waitForResponse(/\/api\/campaigns\?.*q=nothing-matches/);
  releaseSlow();
  await slowAnswer;
  // Give the late answer every chance to land; it must be dropped.
  await page.waitForTimeout(300);
  await expect(list.getByRole("link", { name })).toBeVisible();
  await expect(page.getByText("No campaigns match these filters.")).toHaveCount(0);
  await expect(list).toHaveAttribute("aria-busy", "false");
});

test.describe("when the server comes back", () => {
  // The first, refused request is logged by the browser.
  test.use({ allowConsoleErrors: true });

  test("Retry in the footer asks again and shows the server", async ({ page, request }) => {
    await page.route("**/api/health", (route) => route.abort("connectionrefused"));
    await page.goto("/campaigns");
    const footer = page.getByRole("contentinfo");
    await expect(footer.getByRole("alert")).toContainText("Server unreachable");

    await page.unroute("**/api/health");
    await footer.getByRole("button", { name: "Retry" }).click();
    const health = await (await request.get("/api/health")).json();
    await expect(footer).toContainText(`Server ${health.version} · SQLite`);
    await expect(footer.getByRole("alert")).toHaveCount(0);
  });
});

import { test, expect } from "./fixtures";

test.describe("editing a campaign that changed elsewhere", () => {
  // The stale save is answered with a 409, which the browser logs as a failed resource.
  test.use({ allowConsoleErrors: true });

  test("a stale save says so and offers a reload instead of overwriting", async ({ page, request }) => {
    const created = await (await request.post("/api/campaigns", { data: { name: "Shared draft" } })).json();
    await page.goto(`/campaigns/${created.id}/edit/what`);
    await expect(page.getByLabel("Campaign name")).toHaveValue("Shared draft");

    // Another tab saves first.
    const other = await request.put(`/api/campaigns/${created.id}`, {
      data: { name: "Renamed elsewhere", version: created.version },
    });
    expect(other.status()).toBe(200);

    await page.getByLabel("Campaign name").fill("My rename");
    const alert = page.getByRole("alert").filter({ hasText: "changed in another tab" });
    await expect(alert).toBeVisible();
    await alert.getByRole("button", { name: "Reload" }).click();
    await expect(page.getByLabel("Campaign name")).toHaveValue("Renamed elsewhere");
  });
});

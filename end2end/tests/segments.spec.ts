import { test, expect } from "./fixtures";

// Customer data in, segments out: a CSV import (with a bad row), the catalog in the Who step's
// suggestions, the live estimate, and a saved segment picked in a campaign.

const unique = Date.now().toString(36);
const city = `Pune${unique}`;

test("imported profiles feed the builder's suggestions, the estimate and a saved segment", async ({ page }) => {
  test.setTimeout(120_000);
  const segmentName = `Imported ${unique}`;

  await test.step("a CSV import reports the bad row by its line and imports the others", async () => {
    await page.goto("/segments");
    await page.getByRole("link", { name: "Import profiles (CSV)" }).click();
    await expect(page.getByRole("heading", { level: 1, name: "Import profiles" })).toBeVisible();
    const csv = [
      "identity,Email,City",
      `a-${unique},a-${unique}@example.com,${city}`,
      `b-${unique},not-an-email,${city}`,
      `c-${unique},c-${unique}@example.com,${city}`,
      `d-${unique},d-${unique}@example.com,Delhi`,
    ].join("\n");
    await page.getByLabel("CSV file").setInputFiles({
      name: "profiles.csv",
      mimeType: "text/csv",
      buffer: Buffer.from(csv),
    });
    await expect(page.getByRole("status")).toHaveText("4 of 4 rows sent; 3 profiles imported.");
    const report = page.getByRole("table", { name: "Rows not imported" });
    await expect(report.getByRole("row")).toHaveCount(2);
    await expect(report.getByRole("row").nth(1)).toContainText("3");
    await expect(report).toContainText("not a valid e-mail address");
  });

  await test.step("the Who step suggests the catalog's properties and estimates the reach", async () => {
    await page.goto("/campaigns");
    await page.getByRole("button", { name: "+ Campaign" }).first().click();
    await expect(page).toHaveURL(/\/campaigns\/\d+\/edit\/when$/);
    await page.getByLabel("Campaign name").fill(`Segments ${unique}`);
    await page.getByRole("link", { name: /^Who/ }).click();
    await expect(page.locator('datalist#catalog-profile-properties option[value="City"]')).toHaveCount(1);
    await page.getByRole("button", { name: "Add user property condition" }).click();
    await page.getByLabel("User property").fill("City");
    await page.getByLabel("Condition").selectOption("equals");
    await page.getByLabel("Value").fill(city);
    await expect(page.getByTestId("estimated-reach")).toHaveText(/^2 of \d+ users$/);
    await expect(page.getByRole("complementary", { name: "Estimated audience size" })).toContainText(
      `a-${unique}, c-${unique}`,
    );
  });

  await test.step("the audience is saved as a segment, listed with its size", async () => {
    await page.getByLabel("Save this audience as a segment").fill(segmentName);
    await page.getByRole("button", { name: "Save as segment" }).click();
    await expect(page.getByText(`Saved as “${segmentName}”.`)).toBeVisible();
    await page.goto("/segments");
    await expect(page.getByRole("row", { name: new RegExp(segmentName) })).toContainText("2");
  });

  await test.step("the saved segment is picked in another campaign", async () => {
    await page.goto("/campaigns");
    await page.getByRole("button", { name: "+ Campaign" }).first().click();
    await page.getByLabel("Campaign name").fill(`Saved ${unique}`);
    await page.getByRole("link", { name: /^Who/ }).click();
    await page.getByRole("button", { name: "Add saved segment" }).click();
    await page.getByLabel("Saved segment").selectOption({ label: `${segmentName} (2 users)` });
    await expect(page.getByTestId("estimated-reach")).toHaveText(/^2 of \d+ users$/);
  });
});

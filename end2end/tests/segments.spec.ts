import { test, expect } from "./fixtures";
import type { APIRequestContext } from "@playwright/test";

// Customer data in, segments out: a CSV import (with a bad row), the catalog in the Who step's
// suggestions, the live estimate, and a saved segment picked in a campaign.

const unique = Date.now().toString(36);
const city = `Pune${unique}`;

test("imported profiles feed the builder's suggestions, the estimate and a saved segment", async ({ page }) => {
  test.setTimeout(120_000);
  const segmentName = `Imported ${unique}`;

  await test.step("a CSV import reports the bad row by its line and imports the others", async () => {
    await page.goto("/segments");
    await page.getByRole("link", { name: "Import data (CSV or NDJSON)" }).click();
    await expect(page.getByRole("heading", { level: 1, name: "Import data" })).toBeVisible();
    const csv = [
      "identity,Email,City",
      `a-${unique},a-${unique}@example.com,${city}`,
      `b-${unique},not-an-email,${city}`,
      `c-${unique},c-${unique}@example.com,${city}`,
      `d-${unique},d-${unique}@example.com,Delhi`,
    ].join("\n");
    await page.getByLabel("File", { exact: true }).setInputFiles({
      name: "profiles.csv",
      mimeType: "text/csv",
      buffer: Buffer.from(csv),
    });
    await expect(page.getByRole("status")).toHaveText(
      "4 rows read: 3 profiles imported, 1 not imported (listed below).",
    );
    const report = page.getByRole("table", { name: "Rows not imported" });
    await expect(report.getByRole("row")).toHaveCount(2);
    await expect(report.getByRole("row").nth(1)).toContainText("3");
    // In the file's words: its column, not the upload API's `profileData.Email`.
    await expect(report).toContainText('Column "Email" is not a valid e-mail address');
  });

  await test.step("the Who step suggests the catalog's properties and estimates the reach", async () => {
    await page.goto("/campaigns");
    await page.getByRole("button", { name: "+ Campaign" }).first().click();
    await page.getByLabel("Campaign name").fill(`Segments ${unique}`);
    await expect(page).toHaveURL(/\/campaigns\/\d+\/edit\/when$/);
    await page.getByRole("link", { name: /^Who/ }).click();
    await page.getByRole("button", { name: "Add user property condition" }).click();
    // The catalog's properties, as a combobox: typed text filters, the keyboard picks.
    const property = page.getByRole("combobox", { name: "User property" });
    await property.fill("it");
    await expect(property).toHaveAttribute("aria-expanded", "true");
    const suggestions = page.getByRole("listbox", { name: "Suggestions" });
    await expect(suggestions.getByRole("option", { name: "City", exact: true })).toBeVisible();
    const options = await suggestions.getByRole("option").allInnerTexts();
    await property.press("ArrowDown");
    await expect(property).toHaveAttribute("aria-activedescendant", /-option-0$/);
    await expect(suggestions.getByRole("option").first()).toHaveAttribute("aria-selected", "true");
    await property.press("Escape");
    await expect(property).toHaveAttribute("aria-expanded", "false");
    await property.press("ArrowDown");
    for (let i = 0; i < options.indexOf("City"); i++) await property.press("ArrowDown");
    await property.press("Enter");
    await expect(property).toHaveValue("City");
    await expect(property).toHaveAttribute("aria-expanded", "false");
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

test("events from a CSV file are imported with their time and properties; bad rows are named by column", async ({
  page,
}) => {
  const event = `Bought${unique}`;
  await page.goto("/segments/import");
  await page.getByRole("radio", { name: /^Events/ }).check();
  const csv = [
    "identity,event,timestamp,Amount",
    `ev-a-${unique},${event},2026-12-01T09:30:00+05:30,300`,
    `ev-b-${unique},${event},1796097600,12.5`,
    `ev-c-${unique},${event},last tuesday,1`,
  ].join("\n");
  await page.getByLabel("File", { exact: true }).setInputFiles({ name: "events.csv", mimeType: "text/csv", buffer: Buffer.from(csv) });
  await expect(page.getByRole("status")).toHaveText("3 rows read: 2 events imported, 1 not imported (listed below).");
  const report = page.getByRole("table", { name: "Rows not imported" });
  await expect(report.getByRole("row").nth(1)).toContainText("4");
  await expect(report).toContainText('Column "timestamp" is not a time');

  // The events arrived: the catalog counts them, with their typed property.
  const catalog = await (await page.request.get("/api/catalog")).json();
  const info = catalog.events.find((e: { name: string }) => e.name === event);
  expect(info.count).toBe(2);
  expect(info.properties).toEqual([expect.objectContaining({ name: "Amount", type: "number" })]);

  // NDJSON in the upload API's shape goes through the same page, reported by line.
  const ndjson = [
    JSON.stringify({ type: "event", identity: `ev-a-${unique}`, ts: 1796097601, evtName: event, evtData: {} }),
    JSON.stringify({ type: "profile", identity: `ev-a-${unique}`, profileData: { Email: "nope" } }),
  ].join("\n");
  await page.getByLabel("File", { exact: true }).setInputFiles({
    name: "records.ndjson",
    mimeType: "application/x-ndjson",
    buffer: Buffer.from(ndjson),
  });
  await expect(page.getByRole("status")).toHaveText("2 rows read: 1 record imported, 1 not imported (listed below).");
  await expect(report).toContainText('Column "Email" is not a valid e-mail address');
});

/** Profiles `edit-<unique>-<i>` in `cityA` (two) and `cityB` (one), and a saved segment of `cityA`. */
async function editableSegment(request: APIRequestContext, name: string, cityA: string, cityB: string) {
  const d = [cityA, cityA, cityB].map((c, i) => ({
    type: "profile",
    identity: `edit-${unique}-${name.length}-${i}`,
    profileData: { Email: `edit-${unique}-${name.length}-${i}@example.com`, City: c },
  }));
  const res = await request.post("/api/profiles/import", { data: { d } });
  expect((await res.json()).status).toBe("success");
  const created = await request.post("/api/segments", {
    data: {
      name,
      description: "Two people",
      definition: { kind: "group", combine: "all_of", rules: [
        { kind: "user_property", property: "City", condition: { type: "text", op: "equals", value: cityA } },
      ] },
    },
  });
  expect(created.status()).toBe(201);
  return (await created.json()).id as number;
}

test("a saved segment is edited with the wizard's builder, its live estimate and inline checks", async ({
  page,
  request,
}) => {
  const name = `Editable ${unique}`;
  const [cityA, cityB] = [`EditA${unique}`, `EditB${unique}`];
  await editableSegment(request, name, cityA, cityB);

  await page.goto("/segments");
  await page.getByRole("button", { name: `Edit ${name}` }).click();
  const form = page.getByRole("form", { name: `Edit “${name}”` });
  await expect(form.getByLabel("Description")).toHaveValue("Two people");
  await expect(form.getByLabel("Value")).toHaveValue(cityA);
  await expect(form.getByTestId("estimated-reach")).toHaveText(/^2 of \d+ users$/);

  await form.getByLabel("Value").fill(cityB);
  await expect(form.getByTestId("estimated-reach")).toHaveText(/^1 of \d+ users$/);
  // The rules are shared's, checked as the user types; nothing is sent while they fail.
  await form.getByLabel("Name").fill(" ");
  await expect(form.getByText("Give the segment a name.")).toBeVisible();
  await form.getByRole("button", { name: "Save segment" }).click();
  await expect(form.getByRole("alert")).toHaveText("The segment was not saved: fix the problems marked below.");
  await form.getByLabel("Value").fill("");
  await expect(form.getByTestId("estimated-reach")).toHaveCount(0);

  await form.getByLabel("Name").fill(`${name} B`);
  await form.getByLabel("Description").fill("One person");
  await form.getByLabel("Value").fill(cityB);
  await form.getByRole("button", { name: "Save segment" }).click();
  await expect(page.getByRole("status").filter({ hasText: `Saved “${name} B”.` })).toBeVisible();
  await expect(form).toHaveCount(0);
  const row = page.getByRole("row", { name: new RegExp(`${name} B`) });
  await expect(row).toContainText("One person");
  await expect(row.getByRole("cell").first()).toHaveText("1");
});

test.describe("refused segment changes", () => {
  // The refusals are 409/422 answers, which the browser logs as failed resources.
  test.use({ allowConsoleErrors: true });

  test("the server's 422 and 409 are shown in words, and a draft's deleted segment is a problem", async ({
    page,
    request,
  }) => {
    const name = `Refused ${unique}`;
    const id = await editableSegment(request, name, `RefA${unique}`, `RefB${unique}`);

    await test.step("a segment cannot include itself: the 422 is shown on the rule", async () => {
      await page.goto("/segments");
      await page.getByRole("button", { name: `Edit ${name}` }).click();
      const form = page.getByRole("form", { name: `Edit “${name}”` });
      await form.getByRole("button", { name: "Add saved segment" }).click();
      await form.getByLabel("Saved segment").selectOption({ label: `${name} (2 users)` });
      await form.getByRole("button", { name: "Save segment" }).click();
      await expect(form.getByRole("alert")).toHaveText("The segment was not saved: fix the problems marked below.");
      await expect(form.getByText("A segment cannot include itself.")).toBeVisible();
      await form.getByRole("button", { name: "Cancel" }).click();
    });

    await test.step("a draft that uses a deleted segment lists it among its problems", async () => {
      const campaign = await (
        await request.post("/api/campaigns", {
          data: {
            name: `Uses ${name}`,
            audience: { kind: "group", combine: "all_of", rules: [
              { kind: "saved_segment", segment_id: id, mode: "include" },
            ] },
          },
        })
      ).json();
      const holder = await request.post("/api/segments", {
        data: { name: `Holder ${unique}`, definition: { kind: "group", combine: "all_of", rules: [
          { kind: "saved_segment", segment_id: id, mode: "exclude" },
        ] } },
      });
      // Another saved segment uses it: 409, in words.
      page.once("dialog", (d) => d.accept());
      await page.getByRole("button", { name: `Delete ${name}` }).click();
      await expect(page.getByRole("alert").filter({ hasText: "use this segment" })).toBeVisible();
      expect((await request.delete(`/api/segments/${(await holder.json()).id}`)).status()).toBe(204);
      // Only a draft uses it now: it may go, and the draft's overview says what to fix.
      expect((await request.delete(`/api/segments/${id}`)).status()).toBe(204);
      await page.goto(`/campaigns/${campaign.id}/edit/overview`);
      await expect(page.getByRole("region", { name: "Before you can schedule" })).toContainText(
        `There is no saved segment ${id}; it may have been deleted.`,
      );
      await page.goto(`/campaigns/${campaign.id}/edit/who`);
      await expect(page.getByLabel("Saved segment")).toHaveValue(String(id));
      await expect(page.getByLabel("Saved segment").locator("option:checked")).toHaveText(
        `Deleted segment ${id} (no longer exists)`,
      );
    });
  });
});

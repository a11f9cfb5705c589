import { test, expect } from "./fixtures";
import type { Page } from "@playwright/test";

// One marketer's journey through the wizard and the list. The steps share one campaign, so they
// run in order in one test; each `test.step` names what it checks.

const nextYear = new Date().getUTCFullYear() + 1;
const unique = Date.now().toString(36);

async function waitForSave(page: Page) {
  await expect(page.getByRole("status").filter({ hasText: "All changes saved" })).toBeVisible();
}

test("a campaign is built in the wizard, survives a reload, is scheduled and managed from the list", async ({ page }) => {
  test.setTimeout(120_000);
  const name = `Spring sale ${unique}`;
  const labelName = `Promo ${unique}`;

  await test.step("+ Campaign creates a draft and opens the When step", async () => {
    await page.goto("/campaigns");
    await page.getByRole("button", { name: "+ Campaign" }).first().click();
    await expect(page).toHaveURL(/\/campaigns\/\d+\/edit\/when$/);
    await page.getByLabel("Campaign name").fill(name);
  });

  await test.step("a time in the past is an inline error", async () => {
    await page.getByRole("radio", { name: "Once, on a date" }).check();
    await page.getByLabel("Date and time").fill("2020-01-01T09:00");
    await expect(page.getByText("This date and time has already passed. Pick a time in the future.")).toBeVisible();
    await expect(page.getByRole("link", { name: /When.*has errors/ })).toBeVisible();
  });

  await test.step("a recurring schedule shows its next five runs, computed in the browser", async () => {
    await page.getByRole("radio", { name: "Recurring" }).check();
    await page.getByLabel("Time zone").selectOption("Asia/Kolkata");
    await page.getByLabel("Unit").selectOption("weeks");
    // Weeks start on the start date's weekday; make it exactly Monday and Thursday.
    for (const day of ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]) {
      await page.getByRole("checkbox", { name: day }).setChecked(day === "Monday" || day === "Thursday");
    }
    await page.getByLabel("Time of day").fill("09:30");
    await page.getByLabel("Start date").fill(`${nextYear}-03-01`);
    const preview = page.getByRole("region", { name: "Next runs" });
    await expect(preview.getByRole("listitem")).toHaveCount(5);
    await expect(preview.getByRole("listitem").first()).toHaveText(
      // In the viewer's zone (UTC in this suite), and on the schedule's clock.
      new RegExp(`^Run 1: (Mon|Thu) \\d+ Mar ${nextYear}, 04:00 UTC \\(09:30 in Asia/Kolkata\\)$`),
    );
    await expect(preview).toContainText("Runs every week");
  });

  await test.step("an end date before the start date is an inline error", async () => {
    await page.getByRole("radio", { name: "On a date", exact: true }).check();
    await page.getByLabel("End date").fill(`${nextYear}-02-01`);
    await expect(page.getByText("The end date must be on or after the start date.")).toBeVisible();
    await page.getByRole("radio", { name: "After a number of runs" }).check();
    await page.getByRole("spinbutton", { name: "Number of runs" }).fill("10");
    await expect(page.getByText("The end date must be on or after the start date.")).toHaveCount(0);
    await expect(page.getByRole("link", { name: /When.*complete/ })).toBeVisible();
    await waitForSave(page);
  });

  await test.step("a reload mid-wizard keeps everything", async () => {
    await page.reload();
    await expect(page.getByLabel("Campaign name")).toHaveValue(name);
    await expect(page.getByRole("radio", { name: "Recurring" })).toBeChecked();
    await expect(page.getByLabel("Start date")).toHaveValue(`${nextYear}-03-01`);
    await expect(page.getByRole("spinbutton", { name: "Number of runs" })).toHaveValue("10");
    await expect(page.getByRole("region", { name: "Next runs" }).getByRole("listitem")).toHaveCount(5);
  });

  await test.step("Who: an empty group is an inline error until it has a condition", async () => {
    await page.getByRole("link", { name: /^Who/ }).click();
    await expect(page).toHaveURL(/\/edit\/who$/);
    await page.getByRole("button", { name: "Add group" }).click();
    const nested = page.getByRole("group", { name: "Nested group" });
    await expect(nested.getByText("Add at least one condition to this group.")).toBeVisible();
    await nested.getByRole("button", { name: "Add past behaviour condition" }).click();
    await nested.getByLabel("Event name").fill("Charged");
    await nested.getByLabel("How often").selectOption("at_least");
    await nested.getByLabel("Times (N)").fill("2");
    await expect(page.getByText("Add at least one condition to this group.")).toHaveCount(0);
    await waitForSave(page);
  });

  await test.step("What: the ad set is picked from the Graph API lists, ids typed by hand are checked", async () => {
    await page.getByRole("link", { name: /^What/ }).click();
    await page.getByText("Enter the ids yourself").click();
    await page.getByLabel("Ad account id").fill("1234");
    await expect(page.getByText("An ad account id is “act_” followed by digits.")).toBeVisible();
    await page.getByLabel("Search ad accounts").fill("india");
    await expect(page.getByRole("radio", { name: /Acme Store US/ })).toHaveCount(0);
    await page.getByRole("radio", { name: /Acme Store India/ }).check();
    await expect(page.getByLabel("Ad account id")).toHaveValue("act_100000000000002");
    await expect(page.getByText("An ad account id is “act_” followed by digits.")).toHaveCount(0);
    // Statuses come from Facebook: the paused campaign says so.
    await expect(page.getByRole("radio", { name: /Brand Awareness \(IN\).*Paused/ })).toBeVisible();
    await page.getByRole("radio", { name: /Spring Sale \(IN\)/ }).check();
    await page.getByRole("radio", { name: /Spring Sale – set 2/ }).check();
    await expect(page.getByText(`${name} (campaign`)).toBeVisible();
    await expect(page.getByRole("link", { name: /What.*complete/ })).toBeVisible();
  });

  await test.step("Labels: a new label is created inline and added", async () => {
    await page.getByRole("link", { name: /^Labels/ }).click();
    await page.getByLabel("New label").fill(labelName);
    await page.getByRole("button", { name: "Create label" }).click();
    await expect(page.getByRole("checkbox", { name: labelName })).toBeChecked();
    await waitForSave(page);
  });

  await test.step("Overview summarises every step and schedules the campaign", async () => {
    await page.getByRole("link", { name: /^Overview/ }).click();
    await expect(page.getByText("Everything is ready.")).toBeVisible();
    await expect(page.getByText(`Every week on Mon and Thu at 09:30`)).toBeVisible();
    await expect(page.getByText(labelName)).toBeVisible();
    await page.getByRole("button", { name: "Schedule" }).click();
    await expect(page).toHaveURL(/\/campaigns$/);
  });

  const row = page.getByRole("row", { name: new RegExp(`^${name}`) });
  await test.step("the list shows it scheduled, with its next run and label", async () => {
    await expect(row).toContainText("Scheduled");
    await expect(row).toContainText("Asia/Kolkata");
    await expect(row.getByRole("cell").nth(2)).toContainText(", 04:00 UTC (09:30 in Asia/Kolkata)");
    await expect(row).toContainText(labelName);
  });

  await test.step("filtering by label keeps it and is stored in the URL", async () => {
    await page.getByLabel("Label", { exact: true }).selectOption({ label: labelName });
    await expect(page).toHaveURL(/label=\d+/);
    await expect(row).toBeVisible();
    await expect(page.getByRole("row")).toHaveCount(2);
    await page.reload();
    await expect(row).toBeVisible();
  });

  await test.step("pause and duplicate", async () => {
    await page.getByRole("button", { name: `Pause ${name}` }).click();
    await expect(row).toContainText("Paused");
    await expect(page.getByRole("button", { name: `Resume ${name}` })).toBeVisible();
    await page.getByRole("button", { name: `Duplicate ${name}` }).click();
    const copy = page.getByRole("row", { name: new RegExp(`^Copy of ${name}`) });
    await expect(copy).toContainText("Draft");
  });

  await test.step("search by name finds it", async () => {
    await page.goto("/campaigns");
    await page.getByLabel("Search by name").fill(unique);
    await expect(page).toHaveURL(new RegExp(`q=${unique}`));
    await expect(page.getByRole("row")).toHaveCount(3);
  });
});

test("the list sorts by name, status or next run, and the order survives reload", async ({ page, request }) => {
  const tag = `Sort ${Date.now().toString(36)}`;
  // Created in this order, so "Last updated" (the default) lists them the other way round.
  for (const name of [`${tag} beta`, `${tag} Alpha`, `${tag} gamma`]) {
    expect((await request.post("/api/campaigns", { data: { name } })).status()).toBe(201);
  }
  const names = () => page.getByRole("rowheader").allInnerTexts();

  await page.goto(`/campaigns?q=${encodeURIComponent(tag)}`);
  await expect(page.getByRole("rowheader")).toHaveCount(3);
  expect(await names()).toEqual([`${tag} gamma`, `${tag} Alpha`, `${tag} beta`]);

  await page.getByLabel("Sort by").selectOption({ label: "Name" });
  await expect(page).toHaveURL(/sort=name/);
  await expect.poll(names).toEqual([`${tag} Alpha`, `${tag} beta`, `${tag} gamma`]);
  await page.reload();
  await expect(page.getByRole("rowheader")).toHaveCount(3);
  expect(await names()).toEqual([`${tag} Alpha`, `${tag} beta`, `${tag} gamma`]);
});

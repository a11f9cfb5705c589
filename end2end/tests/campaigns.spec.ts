import { test, expect } from "./fixtures";
import type { Page } from "@playwright/test";

// One marketer's journey through the wizard and the list. The steps share one campaign, so they
// run in order in one test; each `test.step` names what it checks.

const nextYear = new Date().getUTCFullYear() + 1;
const unique = Date.now().toString(36);

async function waitForSave(page: Page) {
  await expect(page.getByRole("status").filter({ hasText: "All changes saved" })).toBeVisible();
}

test("a campaign is built in the wizard, survives a reload, is scheduled and managed from the list", async ({
  page,
  request,
}) => {
  test.setTimeout(120_000);
  const name = `Spring sale ${unique}`;
  const labelName = `Promo ${unique}`;

  let id = 0;
  await test.step("+ Campaign opens the When step, focused on its heading, and stores nothing until a name is typed", async () => {
    const count = async () => (await (await request.get("/api/campaigns")).json()).length as number;
    const before = await count();
    await page.goto("/campaigns");
    await page.getByRole("button", { name: "+ Campaign" }).first().click();
    await expect(page).toHaveURL(/\/campaigns\/new\/edit\/when$/);
    await expect(page.getByRole("heading", { level: 2, name: "When" })).toBeFocused();
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("Untitled campaign");
    await expect(page.getByRole("status").filter({ hasText: "Nothing to save yet" })).toBeVisible();
    // Turning back leaves no empty draft behind.
    await page.goBack();
    await expect(page.getByRole("heading", { level: 1, name: "Campaigns" })).toBeVisible();
    expect(await count()).toBe(before);

    await page.getByRole("button", { name: "+ Campaign" }).first().click();
    await page.getByLabel("Campaign name").fill(name);
    await expect(page).toHaveURL(/\/campaigns\/\d+\/edit\/when$/);
    id = Number(/\/campaigns\/(\d+)\//.exec(page.url())![1]);
    await waitForSave(page);
    expect(await count()).toBe(before + 1);
    // The page is titled with the campaign's name.
    await expect(page.getByRole("heading", { level: 1 })).toHaveText(name);
    await expect(page).toHaveTitle(new RegExp(`^${name} – When`));
  });

  await test.step("a time in the past is an inline error once the field is left", async () => {
    await page.getByRole("radio", { name: "Once, on a date" }).check();
    const at = page.getByLabel("Date and time");
    await at.fill("2020-01-01T09:00");
    const past = page.getByText("This date and time has already passed. Pick a time in the future.");
    // Not while the user is still in the field.
    await expect(past).toHaveCount(0);
    await expect(page.getByRole("link", { name: /When.*has errors/ })).toHaveCount(0);
    // (Tab would move between the date's own parts: leave the field as a whole.)
    await at.blur();
    await expect(past).toBeVisible();
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
    await page.getByLabel("End date").blur();
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

  await test.step("Next leads to Who, focused on its heading; Back returns", async () => {
    await page.getByRole("button", { name: "Next: Who" }).click();
    await expect(page).toHaveURL(/\/edit\/who$/);
    await expect(page.getByRole("heading", { level: 2, name: "Who" })).toBeFocused();
    await expect(page).toHaveTitle(new RegExp(`^${name} – Who`));
    await page.getByRole("button", { name: "Back: When" }).click();
    await expect(page).toHaveURL(/\/edit\/when$/);
    await expect(page.getByRole("heading", { level: 2, name: "When" })).toBeFocused();
    await page.getByRole("button", { name: "Next: Who" }).click();
    await expect(page).toHaveURL(/\/edit\/who$/);
  });

  await test.step("Who: an empty group is an error once Next is pressed, which stays until it has a condition", async () => {
    await page.getByRole("button", { name: "Add group" }).click();
    const nested = page.getByRole("group", { name: "Nested group" });
    const empty = nested.getByText("Add at least one condition to this group.");
    await expect(empty).toHaveCount(0);
    await page.getByRole("button", { name: "Next: What" }).click();
    await expect(page).toHaveURL(/\/edit\/who$/);
    await expect(empty).toBeVisible();
    await expect(page.getByRole("link", { name: /Who.*has errors/ })).toBeVisible();
    await nested.getByRole("button", { name: "Add past behaviour condition" }).click();
    await nested.getByLabel("Event name").fill("Charged");
    await nested.getByLabel("How often").selectOption("at_least");
    await nested.getByLabel("Times (N)").fill("2");
    await expect(page.getByText("Add at least one condition to this group.")).toHaveCount(0);
    await waitForSave(page);
  });

  await test.step("What: the ad set is picked from the Graph API lists, ids typed by hand are checked", async () => {
    await page.getByRole("button", { name: "Next: What" }).click();
    await expect(page).toHaveURL(/\/edit\/what$/);
    await page.getByText("Enter the ids yourself").click();
    await page.getByLabel("Ad account id").fill("1234");
    await page.getByLabel("Ad account id").press("Tab");
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
    await expect(page.getByText(`${name} (campaign ${id})`)).toBeVisible();
    await expect(page.getByRole("link", { name: /What.*complete/ })).toBeVisible();
  });

  await test.step("Labels: a new label is created inline and added", async () => {
    await page.getByRole("link", { name: /^Labels/ }).click();
    await page.getByLabel("New label").fill(labelName);
    await page.getByRole("button", { name: "Create label" }).click();
    await expect(page.getByRole("checkbox", { name: labelName })).toBeChecked();
    await waitForSave(page);
  });

  await test.step("Overview summarises every step, the ad set by its names, and schedules the campaign", async () => {
    await page.getByRole("button", { name: "Next: Overview" }).click();
    await expect(page.getByRole("heading", { level: 2, name: "Overview" })).toBeFocused();
    await expect(page.getByRole("heading", { name: "Before you can schedule" })).toBeVisible();
    await expect(page.getByText("Everything is ready.")).toBeVisible();
    await expect(page.getByText(`Every week on Mon and Thu at 09:30`)).toBeVisible();
    await expect(page.getByText(labelName)).toBeVisible();
    await expect(page.getByText(
      "Ad set “Spring Sale – set 2” of the Facebook campaign “Spring Sale (IN)” in the ad account “Acme Store India”.",
    )).toBeVisible();
    await expect(page.getByText(/^Ad account act_100000000000002 · campaign \d+ · ad set \d+$/)).toBeVisible();
    await page.getByRole("button", { name: "Schedule" }).click();
    await expect(page).toHaveURL(/\/campaigns$/);
  });

  await test.step("the list confirms it in a toast, with the first run in the viewer's zone and on the schedule's clock", async () => {
    const toast = page.getByRole("region", { name: "Notifications" });
    await expect(toast).toHaveText(
      new RegExp(`^Campaign “${name}” scheduled — first run (Mon|Thu) \\d+ Mar ${nextYear}, 04:00 UTC \\(09:30 in Asia/Kolkata\\)\\.`),
    );
    await toast.getByRole("button", { name: "Dismiss" }).click();
    await expect(toast.getByText("scheduled")).toHaveCount(0);
  });

  const row = page.getByRole("row", { name: new RegExp(`^${name}`) });
  await test.step("the list shows it scheduled, with its next run and label", async () => {
    await expect(row).toContainText("Scheduled");
    await expect(row).toContainText("Asia/Kolkata");
    await expect(row.getByRole("cell").nth(2)).toContainText(", 04:00 UTC (09:30 in Asia/Kolkata)");
    await expect(row).toContainText(labelName);
  });

  await test.step("the live campaign's Overview is about editing it, not scheduling", async () => {
    await page.goto(`/campaigns/${id}/edit/overview`);
    await expect(page.getByRole("heading", { level: 1 })).toHaveText(name);
    await expect(page.getByText("This campaign is live (scheduled).")).toBeVisible();
    await expect(page.getByRole("heading", { name: "Before your changes can be saved" })).toBeVisible();
    await expect(page.getByRole("heading", { name: "Before you can schedule" })).toHaveCount(0);
    await expect(page.getByRole("button", { name: "Schedule" })).toHaveCount(0);
    await page.getByRole("button", { name: "Save changes" }).click();
    await expect(page).toHaveURL(/\/campaigns$/);
    await expect(page.getByRole("region", { name: "Notifications" })).toContainText(`Changes to “${name}” saved.`);
  });

  await test.step("filtering by label keeps it and is stored in the URL", async () => {
    await page.getByLabel("Label", { exact: true }).selectOption({ label: labelName });
    await expect(page).toHaveURL(/label=\d+/);
    await expect(row).toBeVisible();
    await expect(page.getByRole("row")).toHaveCount(2);
    await page.reload();
    await expect(row).toBeVisible();
    // The menu shows the filter the URL holds.
    await expect(page.getByLabel("Label", { exact: true }).locator("option:checked")).toHaveText(labelName);
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
  // The menus show what the URL asks for, after a reload too.
  await expect(page.getByLabel("Sort by")).toHaveValue("name");
  await page.locator("#filter-status").selectOption({ label: "Draft" });
  await expect(page).toHaveURL(/status=draft/);
  await page.reload();
  await expect(page.locator("#filter-status")).toHaveValue("draft");
  await expect(page.getByLabel("Sort by")).toHaveValue("name");
});

import { test, expect } from "./fixtures";
import type { Page } from "@playwright/test";
import { adHocSegment, newCampaign, newLabel, pickAdSet, schedule, toasts, waitForSave } from "./wizard-helpers";

// One campaign of each schedule kind, built and scheduled through the UI only, each with an
// ad-hoc segment, an ad set from the Graph API sandbox and a new label; then found in the list
// with its next run (computed by the server; shown in the viewer's zone, UTC in this suite, and
// on the schedule's clock) and its label.

const nextYear = new Date().getUTCFullYear() + 1;
const unique = Date.now().toString(36);

type Kind = {
  kind: string;
  fillWhen: (page: Page) => Promise<void>;
  /** What the list's "Next run" cell shows. */
  nextRun: RegExp;
  summary: RegExp;
  /** What the toast on the list says about the first run (the viewer's zone, then the schedule's clock). */
  firstRun: string;
};

const kinds: Kind[] = [
  {
    kind: "now",
    fillWhen: async (page) => {
      await page.getByRole("radio", { name: "As soon as it is scheduled" }).check();
      await page.getByLabel("Time zone").selectOption("UTC");
      await expect(page.getByRole("region", { name: "Next runs" })).toContainText("Runs once, as soon as you publish");
    },
    nextRun: /\d{4}, \d\d:\d\d UTC$/,
    summary: /Once, as soon as published/,
    firstRun: "it runs now",
  },
  {
    kind: "once",
    fillWhen: async (page) => {
      await page.getByRole("radio", { name: "Once, on a date" }).check();
      await page.getByLabel("Time zone").selectOption("Europe/Berlin");
      await page.getByLabel("Date and time").fill(`${nextYear}-05-04T10:15`);
      await expect(page.getByRole("region", { name: "Next runs" }).getByRole("listitem")).toHaveText([
        `Run 1: ${weekday(nextYear, 5, 4)} 4 May ${nextYear}, 08:15 UTC (10:15 in Europe/Berlin)`,
      ]);
    },
    nextRun: new RegExp(`4 May ${nextYear}, 08:15 UTC \\(10:15 in Europe/Berlin\\)$`),
    summary: new RegExp(`Once on 4 May ${nextYear} at 10:15`),
    firstRun: `first run ${weekday(nextYear, 5, 4)} 4 May ${nextYear}, 08:15 UTC (10:15 in Europe/Berlin)`,
  },
  {
    kind: "multiple",
    fillWhen: async (page) => {
      await page.getByRole("radio", { name: "On several dates" }).check();
      await page.getByLabel("Time zone").selectOption("America/New_York");
      await page.getByLabel("Date and time 1").fill(`${nextYear}-06-10T08:00`);
      await page.getByLabel("Date and time 2").fill(`${nextYear}-06-03T08:00`);
      await page.getByRole("button", { name: "Add a date and time" }).click();
      await page.getByLabel("Date and time 3").fill(`${nextYear}-06-17T08:00`);
      const runs = page.getByRole("region", { name: "Next runs" }).getByRole("listitem");
      await expect(runs).toHaveCount(3);
      // Listed out of order; they run in time order.
      await expect(runs.first()).toContainText(`3 Jun ${nextYear}, 12:00 UTC (08:00 in America/New_York)`);
    },
    nextRun: new RegExp(`3 Jun ${nextYear}, 12:00 UTC \\(08:00 in America/New_York\\)$`),
    summary: new RegExp(`3 times, from 3 Jun ${nextYear} at 08:00`),
    firstRun: `first run ${weekday(nextYear, 6, 3)} 3 Jun ${nextYear}, 12:00 UTC (08:00 in America/New_York)`,
  },
  {
    kind: "recurring",
    fillWhen: async (page) => {
      await page.getByRole("radio", { name: "Recurring" }).check();
      await page.getByLabel("Time zone").selectOption("Asia/Kolkata");
      await page.getByLabel("Unit").selectOption("months");
      for (const day of ["7", "31"]) await page.getByRole("checkbox", { name: day, exact: true }).check();
      for (let d = 1; d <= 31; d++) {
        if (d !== 7 && d !== 31) await page.getByRole("checkbox", { name: String(d), exact: true }).uncheck();
      }
      await page.getByLabel("Time of day").fill("09:00");
      await page.getByLabel("Start date").fill(`${nextYear}-02-08`);
      await page.getByRole("radio", { name: "After a number of runs" }).check();
      await page.getByRole("spinbutton", { name: "Number of runs" }).fill("4");
      const runs = page.getByRole("region", { name: "Next runs" }).getByRole("listitem");
      await expect(runs).toHaveCount(4);
      // February has no 31st: that run falls on its last day.
      await expect(runs.first()).toContainText(`28 Feb ${nextYear}, 03:30 UTC (09:00 in Asia/Kolkata)`);
      await expect(runs.nth(1)).toContainText(`7 Mar ${nextYear}`);
    },
    nextRun: new RegExp(`28 Feb ${nextYear}, 03:30 UTC \\(09:00 in Asia/Kolkata\\)$`),
    summary: new RegExp(`Every month on the 7th and 31st at 09:00, from 8 Feb ${nextYear}, 4 runs`),
    firstRun: `first run ${weekday(nextYear, 2, 28)} 28 Feb ${nextYear}, 03:30 UTC (09:00 in Asia/Kolkata)`,
  },
];

function weekday(y: number, m: number, d: number) {
  return ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"][new Date(Date.UTC(y, m - 1, d)).getUTCDay()];
}

for (const k of kinds) {
  test(`a "${k.kind}" campaign is built, scheduled and listed with its next run and label`, async ({ page }) => {
    test.setTimeout(90_000);
    const name = `Kind ${k.kind} ${unique}`;
    const label = `Kind-${k.kind}-${unique}`;
    await newCampaign(page, name);
    await k.fillWhen(page);
    await expect(page.getByRole("link", { name: /When.*complete/ })).toBeVisible();
    await waitForSave(page);
    await adHocSegment(page);
    await pickAdSet(page);
    await expect(page.getByText(new RegExp(`^${name} \\(campaign \\d+\\)$`))).toBeVisible();
    await newLabel(page, label);
    await page.getByRole("link", { name: /^Overview/ }).click();
    await expect(page.getByText(k.summary)).toBeVisible();
    await schedule(page);
    await expect(toasts(page)).toContainText(`Campaign “${name}” scheduled — ${k.firstRun}.`);

    const row = page.getByRole("row", { name: new RegExp(`^${name}`) });
    await expect(row).toContainText("Scheduled");
    await expect(row.getByRole("cell").nth(2)).toHaveText(k.nextRun);
    await expect(row).toContainText(label);
    // A "Now" campaign may already have synced (the worker runs it at once): then its size shows.
    await expect(row.getByRole("cell").nth(4)).toHaveText(k.kind === "now" ? /^(—|[\d,]+)$/ : "—");
  });
}

test("the time zone starts as the ad account's, and says where it came from", async ({ page }) => {
  await test.step("no ad account chosen yet: the first connected one's zone", async () => {
    await newCampaign(page, `Zone ${unique}`);
    await page.getByRole("radio", { name: "Once, on a date" }).check();
    await expect(page.getByLabel("Time zone")).toHaveValue("America/Los_Angeles");
    await expect(page.getByTestId("time-zone-default")).toContainText(
      "time zone of the first connected ad account, Acme Store US",
    );
    await waitForSave(page);
  });

  await test.step("the ad account chosen in the What step decides", async () => {
    await newCampaign(page, `Zone IN ${unique}`);
    await pickAdSet(page);
    await waitForSave(page);
    await page.getByRole("link", { name: /^When/ }).click();
    await page.getByRole("radio", { name: "Recurring" }).check();
    await expect(page.getByLabel("Time zone")).toHaveValue("Asia/Kolkata");
    await expect(page.getByTestId("time-zone-default")).toContainText(
      "time zone of the campaign's ad account, Acme Store India",
    );
    // Another zone is the user's own choice: no "default" note.
    await page.getByLabel("Time zone").selectOption("UTC");
    await expect(page.getByTestId("time-zone-default")).toBeHidden();
    await waitForSave(page);
  });
});

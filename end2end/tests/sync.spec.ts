import { test, expect } from "./fixtures";
import type { APIRequestContext, Page } from "@playwright/test";
import { adHocSegment, newCampaign, pickAdSet, schedule, waitForSave } from "./wizard-helpers";

// Audience sync through the UI: a "Now" campaign over uploaded data is published, the background
// worker syncs it, and the run history, the sync figures and the campaign list show what it did.

const unique = Date.now().toString(36);

/** Three profiles with e-mails who did `event` yesterday. */
async function uploadPeople(request: APIRequestContext, event: string) {
  const yesterday = Math.floor(Date.now() / 1000) - 86_400;
  const d = [];
  for (const i of [1, 2, 3]) {
    const identity = `sync-${unique}-${i}`;
    d.push({ type: "profile", identity, profileData: { Email: `${identity}@example.com`, Name: `Sync ${i}` } });
    d.push({ type: "event", identity, ts: yesterday, evtName: event });
  }
  const res = await request.post("/api/profiles/import", { data: { d } });
  expect(res.status()).toBe(200);
  expect((await res.json()).status).toBe("success");
}

const figure = (scope: ReturnType<Page["locator"]>, term: string) =>
  scope.locator("div", { has: scope.page().locator("dt", { hasText: new RegExp(`^${term}$`) }) }).locator("dd");

test("a published Now campaign syncs by itself; its run, figures and list columns show the counts", async ({
  page,
  request,
}) => {
  test.setTimeout(120_000);
  const name = `Sync ${unique}`;
  const event = `Synced ${unique}`;
  await uploadPeople(request, event);

  await test.step("the campaign is built and scheduled to run now", async () => {
    await newCampaign(page, name);
    await page.getByRole("radio", { name: "As soon as it is scheduled" }).check();
    await page.getByLabel("Time zone").selectOption("UTC");
    await waitForSave(page);
    await adHocSegment(page, event);
    await expect(page.getByTestId("estimated-reach")).toHaveText(/^3 of \d+ users$/);
    await pickAdSet(page);
    await waitForSave(page);
    await schedule(page);
  });

  await test.step("the run history shows the run complete with its counts", async () => {
    await page.getByRole("link", { name: `View stats of ${name}` }).click();
    const runs = page.getByRole("region", { name: "Sync runs" });
    const run = runs.getByTestId("run").first();
    await expect(run).toContainText("Scheduled run #1");
    await expect(run.locator(".run__state")).toHaveText("Succeeded", { timeout: 30_000 });
    await expect(figure(run, "In the segment")).toHaveText("3");
    await expect(figure(run, "Added")).toHaveText("3");
    await expect(figure(run, "Removed")).toHaveText("0");
    await expect(run.getByRole("progressbar")).toHaveCount(0);

    const panel = page.getByRole("region", { name: "Audience sync" });
    await expect(figure(panel, "Audience size now")).toHaveText("3");
    await expect(figure(panel, "Users added")).toHaveText("3");
    await expect(figure(panel, "Last sync")).not.toHaveText("Not synced yet");
  });

  await test.step("a dry run shows who would change, and sends nothing", async () => {
    const runs = page.getByRole("region", { name: "Sync runs" });
    await runs.getByRole("button", { name: "Dry run" }).click();
    const result = runs.getByTestId("dry-run-result");
    await expect(result).toContainText("Dry run: 3 in the segment; 0 would be added and 0 removed.");
    await expect(result).toContainText("Nothing was sent to Facebook.");
    await expect(runs.getByTestId("run").first()).toContainText("Dry run");
  });

  await test.step("the list shows the audience size and the last sync", async () => {
    await page.goto("/campaigns");
    const row = page.getByRole("row", { name: new RegExp(`^${name}`) });
    await expect(row).toContainText("Completed");
    await expect(row.getByTestId("audience-size")).toHaveText("3");
    await expect(row.getByTestId("last-sync")).toHaveText(
      /^Succeeded (Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d{1,2} [A-Z][a-z]{2} \d{4}, \d\d:\d\d UTC · \+3 \/ −0$/,
    );
  });
});

test.describe("refused runs", () => {
  // The refusal is a 409, which the browser logs as a failed resource.
  test.use({ allowConsoleErrors: true });

  test("Run now on a draft says in words why it cannot run", async ({ page, request }) => {
    const created = await (await request.post("/api/campaigns", { data: { name: `Unpublished ${unique}` } })).json();
    await page.goto(`/campaigns/${created.id}/stats`);
    const runs = page.getByRole("region", { name: "Sync runs" });
    await expect(runs).toContainText("No runs yet.");
    await runs.getByRole("button", { name: "Run now" }).click();
    await expect(runs.getByRole("alert")).toHaveText(/^The run could not be started: .*cannot run now\. Publish it first\.$/);
  });
});

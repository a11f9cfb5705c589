import { test, expect } from "./fixtures";
import type { APIRequestContext, Page } from "@playwright/test";
import { adHocSegment, newCampaign, pickAdSet, waitForSave } from "./wizard-helpers";

// A holdout set in the wizard's Who step, shown on the Overview, and after the first sync: the
// run says how many people were held out (exactly those the documented hash picks) and the
// stats page shows the holdout panel.

const unique = Date.now().toString(36);
const PEOPLE = 24;

/** `PEOPLE` profiles who did `event` yesterday; returns their identities. */
async function uploadPeople(request: APIRequestContext, event: string): Promise<string[]> {
  const yesterday = Math.floor(Date.now() / 1000) - 86_400;
  const d = [];
  const identities = [];
  for (let i = 0; i < PEOPLE; i++) {
    const identity = `hold-${unique}-${i}`;
    identities.push(identity);
    d.push({ type: "profile", identity, profileData: { Email: `${identity}@example.com` } });
    d.push({ type: "event", identity, ts: yesterday, evtName: event });
  }
  const res = await request.post("/api/profiles/import", { data: { d } });
  expect(res.status()).toBe(200);
  expect((await res.json()).status).toBe("success");
  return identities;
}

/** docs/domain.md's holdout bucket, written again from the documentation alone. */
function bucket(campaignId: number, identity: string): number {
  const mask = (1n << 64n) - 1n;
  let h = 0xcbf29ce484222325n;
  for (const b of new TextEncoder().encode(`${campaignId}:${identity}`)) {
    h = ((h ^ BigInt(b)) * 0x100000001b3n) & mask;
  }
  h ^= h >> 33n;
  h = (h * 0xff51afd7ed558ccdn) & mask;
  h ^= h >> 33n;
  h = (h * 0xc4ceb9fe1a85ec53n) & mask;
  h ^= h >> 33n;
  return Number(h % 100n);
}

const figure = (scope: ReturnType<Page["locator"]>, term: string) =>
  scope.locator("div", { has: scope.page().locator("dt", { hasText: new RegExp(`^${term}$`) }) }).locator("dd");

test("a holdout set in the wizard is shown on the Overview, held out by the sync and compared on the stats page", async ({
  page,
  request,
}) => {
  test.setTimeout(120_000);
  const name = `Holdout ${unique}`;
  const event = `Held ${unique}`;
  const identities = await uploadPeople(request, event);
  let id = 0;

  await test.step("the Who step takes a holdout of at most 50 %", async () => {
    await newCampaign(page, name);
    id = Number(/\/campaigns\/(\d+)\//.exec(page.url())![1]);
    await page.getByRole("radio", { name: "As soon as it is scheduled" }).check();
    await page.getByLabel("Time zone").selectOption("UTC");
    await waitForSave(page);
    await adHocSegment(page, event);
    const holdout = page.getByLabel("Holdout (optional), % of the segment");
    await holdout.fill("60");
    // Said once the user leaves the field, not while they type.
    await expect(page.getByText("A holdout can be at most 50 % of the audience")).toHaveCount(0);
    await holdout.press("Tab");
    await expect(page.getByText("A holdout can be at most 50 % of the audience")).toBeVisible();
    await expect(page.getByRole("link", { name: /Who.*has errors/ })).toBeVisible();
    await holdout.fill("50");
    await expect(page.getByText("A holdout can be at most 50 % of the audience")).toHaveCount(0);
    await waitForSave(page);
  });

  await test.step("the What step's conversion goal, and the Overview shows the holdout", async () => {
    await pickAdSet(page);
    await page.getByLabel("Conversion goal event (optional)").selectOption(event);
    await waitForSave(page);
    await page.getByRole("link", { name: /^Overview/ }).click();
    await expect(page.getByText("Holdout: 50 % of the segment is never sent to Facebook, to measure the lift.")).toBeVisible();
    await expect(page.getByText("Everything is ready.")).toBeVisible();
    await page.getByRole("button", { name: "Schedule" }).click();
    await expect(page).toHaveURL(/\/campaigns$/);
  });

  await test.step("the run holds out exactly the people the documented hash picks", async () => {
    const held = identities.filter((i) => bucket(id, i) < 50).length;
    await page.getByRole("link", { name: `View stats of ${name}` }).click();
    const run = page.getByRole("region", { name: "Sync runs" }).getByTestId("run").first();
    await expect(run.locator(".run__state")).toHaveText("Succeeded", { timeout: 30_000 });
    await expect(figure(run, "Held out")).toHaveText(String(held));
    await expect(figure(run, "Sent to Facebook")).toHaveText(String(PEOPLE - held));

    const panel = page.getByRole("region", { name: "Holdout lift" });
    await expect(panel).toContainText("50 % of the segment is held out");
    await expect(panel.locator('tr[data-group="audience"] td').first()).toHaveText(String(PEOPLE - held));
    await expect(panel.locator('tr[data-group="holdout"] td').first()).toHaveText(String(held));
    await expect(panel.locator("[data-verdict]")).toHaveAttribute("data-verdict", "too_small");
    await expect(panel).toContainText("Too few people to conclude");
  });
});

import { test, expect } from "./fixtures";
import type { APIRequestContext, Page } from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";

// One person: their page (properties, masked match keys, events newest first with "Show more",
// the saved segments and campaign audiences they are in, "why in / why not?"), erasing them
// (gone from the Facebook audience at once, the audit log without their data), and Settings →
// Ads consent (a sync holds back those who did not consent, and says so).

const unique = Date.now().toString(36);
const US = "act_100000000000001";

async function importRecords(request: APIRequestContext, d: object[]) {
  const res = await request.post("/api/profiles/import", { data: { d } });
  expect(res.status()).toBe(200);
  expect((await res.json()).status).toBe("success");
}

/** A campaign of the people whose `Tier` is `tier`, published to run at once. */
async function publishNow(request: APIRequestContext, name: string, tier: string): Promise<number> {
  const fbCampaigns = await (await request.get(`/api/facebook/ad-accounts/${US}/campaigns`)).json();
  const adSet = (await (await request.get(`/api/facebook/campaigns/${fbCampaigns[0].id}/adsets`)).json())[0].id;
  const created = await (
    await request.post("/api/campaigns", {
      data: {
        name,
        schedule: { time_zone: "UTC", kind: "now" },
        audience: { kind: "user_property", property: "Tier", condition: { type: "text", op: "equals", value: tier } },
        target: { ad_account_id: US, campaign_id: fbCampaigns[0].id, ad_set_id: adSet },
      },
    })
  ).json();
  expect((await request.post(`/api/campaigns/${created.id}/publish`)).status()).toBe(200);
  return created.id;
}

/** The audience of campaign `id` once its first run (the worker's) has succeeded. */
async function syncedAudience(request: APIRequestContext, id: number): Promise<string> {
  let audience = "";
  await expect
    .poll(async () => {
      const runs = await (await request.get(`/api/campaigns/${id}/runs`)).json();
      const done = runs.find((r: { state: string }) => r.state === "succeeded");
      audience = done?.audience_id ?? "";
      return audience;
    }, { timeout: 30_000 })
    .not.toBe("");
  return audience;
}

async function externIds(request: APIRequestContext, audience: string): Promise<string[]> {
  const v = await (await request.get(`/sandbox/debug/audiences/${audience}`)).json();
  return v.rows.map((r: { EXTERN_ID: string }) => r.EXTERN_ID);
}

async function expectNoSeriousViolations(page: Page, what: string) {
  const results = await new AxeBuilder({ page }).analyze();
  const serious = results.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
  expect(serious, `axe on ${what}`).toEqual([]);
}

const figure = (scope: ReturnType<Page["locator"]>, term: string) =>
  scope.locator("div", { has: scope.page().locator("dt", { hasText: new RegExp(`^${term}$`) }) }).locator("dd");

test("a person's page shows their profile, events, memberships and why, and an admin can erase them", async ({
  page,
  request,
}) => {
  test.setTimeout(90_000);
  const who = `pp-${unique}`;
  const tier = `pp${unique}`;
  const now = Math.floor(Date.now() / 1000);
  const events = [];
  for (let i = 0; i < 22; i++) {
    events.push({ type: "event", identity: who, ts: now - 3600 + i * 60, evtName: `Step ${i}`, evtData: { Amount: i } });
  }
  await importRecords(request, [
    { type: "profile", identity: who, profileData: { Email: `${who}@example.com`, City: "Pune", Tier: tier, Age: 31 } },
    { type: "profile", identity: `${who}-2`, profileData: { Tier: tier } },
    ...events,
  ]);
  const segment = `Tier ${unique}`;
  const created = await request.post("/api/segments", {
    data: { name: segment, description: "", definition: { kind: "user_property", property: "Tier", condition: { type: "text", op: "equals", value: tier } } },
  });
  expect(created.status()).toBe(201);
  const campaign = `Person ${unique}`;
  const id = await publishNow(request, campaign, tier);
  const audience = await syncedAudience(request, id);
  expect(await externIds(request, audience)).toContain(who);

  await test.step("found from the Data page, the profile page shows what is known", async () => {
    await page.goto("/data");
    await page.getByRole("searchbox", { name: "Find a person" }).fill(`${who}@example.com`);
    await page.getByRole("button", { name: "Search" }).click();
    await page.getByRole("list", { name: "People found" }).getByRole("link", { name: who, exact: true }).click();
    await expect(page).toHaveURL(new RegExp(`/data/people/${who}$`));
    await expect(page.getByRole("heading", { level: 1, name: who })).toBeVisible();

    const props = page.getByRole("table", { name: "Profile properties" });
    await expect(props.getByRole("row", { name: /^City/ })).toContainText("text");
    await expect(props.getByRole("row", { name: /^City/ })).toContainText("Pune");
    await expect(props.getByRole("row", { name: /^Age/ })).toContainText("number");
    await expect(props.getByRole("row", { name: /^Email/ })).toContainText("p•••@example.com");
    const keys = page.getByRole("list", { name: "Facebook match keys" });
    await expect(keys).toContainText("EMAIL p•••@example.com");
    await expect(keys).toContainText("CT p•••");
    await expect(page.locator("body")).not.toContainText(`${who}@example.com`);

    await expect(page.getByRole("list", { name: "Saved segments" })).toHaveText(segment);
    await expect(page.getByRole("list", { name: "Campaign audiences" }).getByRole("link", { name: campaign })).toBeVisible();
  });

  await test.step("the timeline lists events newest first, 20 at a time", async () => {
    const timeline = page.getByRole("list", { name: "Events" });
    await expect(timeline.getByRole("listitem")).toHaveCount(20);
    await expect(timeline.getByRole("listitem").first()).toContainText("Step 21");
    await expect(timeline.getByRole("listitem").first()).toContainText("Amount");
    await expect(page.getByText("Showing 20 of 22 events, newest first.")).toBeVisible();
    await page.getByRole("button", { name: "Show more events" }).click();
    await expect(timeline.getByRole("listitem")).toHaveCount(22);
    await expect(timeline.getByRole("listitem").last()).toContainText("Step 0");
    await expect(page.getByRole("button", { name: "Show more events" })).toHaveCount(0);
  });

  await test.step("why in: the campaign's audience explained", async () => {
    await page.getByLabel(`Why is ${who} in (or not in)…`).selectOption({ label: campaign });
    await page.getByRole("button", { name: "Explain" }).click();
    const why = page.getByRole("region", { name: "Explanation" });
    await expect(why.getByRole("status")).toHaveText(`${who} is in campaign “${campaign}” now.`);
    await expect(why).toContainText(`Tier is “${tier}”`);
    // As of the campaign's run: evaluated at the run's instant, in the viewer's zone (UTC here).
    const asOf = page.getByLabel("As of");
    await expect(asOf.getByRole("option").nth(1)).toHaveText(/^The run of \w{3} \d+ \w{3} \d{4}, \d\d:\d\d UTC$/);
    await asOf.selectOption({ index: 1 });
    await page.getByRole("button", { name: "Explain" }).click();
    await expect(why.getByRole("status")).toContainText(`${who} is in campaign “${campaign}” as of the run of `);
    await expect(why.getByRole("status")).toHaveText(/UTC\.$/);
    await expectNoSeriousViolations(page, "the profile page");
  });

  await test.step("erased after a confirmation: gone from the audience at once, not named in the audit log", async () => {
    await page.getByRole("button", { name: "Delete this person" }).click();
    const dialog = page.getByRole("alertdialog", { name: `Erase ${who}?` });
    await expect(dialog).toContainText("removed from every campaign's Facebook audience now");
    await expectNoSeriousViolations(page, "the erase dialog");
    await dialog.getByRole("button", { name: "Cancel" }).click();
    await expect(dialog).toBeHidden();
    await page.getByRole("button", { name: "Delete this person" }).click();
    await dialog.getByRole("button", { name: "Erase for good" }).click();
    await expect(page).toHaveURL(/\/data\?erased=1$/);
    await expect(page.getByText("The person was erased. Their removal from 1 Facebook audience is on its way.")).toBeVisible();
    await expect.poll(() => externIds(request, audience), { timeout: 15_000 }).not.toContain(who);
    expect(await externIds(request, audience)).toContain(`${who}-2`);
    expect((await request.get(`/api/profiles/${who}`)).status()).toBe(404);

    await page.goto("/audit");
    const entry = page.getByRole("row").filter({ hasText: "erased Profile #" }).first();
    await expect(entry).toContainText("erased: 4 properties, 22 events, 2 match keys; removal queued from 1 Facebook audience");
    await expect(page.locator("main")).not.toContainText(who);
  });
});

test("a viewer sees the profile page without the Delete button", async ({ browser, request, baseURL }) => {
  // An identity with characters that must be encoded in the page's address.
  const who = `pv ${unique}/a@b`;
  await importRecords(request, [{ type: "profile", identity: who, profileData: { Plan: "x" } }]);
  const email = `viewer-${unique}@example.com`;
  expect((await request.post("/api/users", { data: { email, password: "viewer-password-1", role: "viewer" } })).status()).toBe(201);
  const context = await browser.newContext({ baseURL, storageState: { cookies: [], origins: [] } });
  const page = await context.newPage();
  await page.goto("/login");
  await page.getByLabel("E-mail address").fill(email);
  await page.getByLabel("Password").fill("viewer-password-1");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/campaigns$/);
  await page.goto(`/data/people/${encodeURIComponent(who)}`);
  await expect(page.getByRole("heading", { level: 1, name: who })).toBeVisible();
  await expect(page.getByRole("table", { name: "Profile properties" })).toContainText("Plan");
  await expect(page.getByRole("button", { name: "Delete this person" })).toHaveCount(0);
  await context.close();
});

test.describe("ads consent", () => {
  // The refused text property answers 422, which the browser logs.
  test.use({ allowConsoleErrors: true });

  test("Settings → Ads consent: syncs hold back people without consent and say how many", async ({ page, request }) => {
    test.setTimeout(90_000);
    const tier = `ac${unique}`;
    const d = [];
    for (let i = 0; i < 6; i++) {
      const profileData: Record<string, unknown> = { Tier: tier, [`consent_${unique}`]: i < 4 };
      d.push({ type: "profile", identity: `ac-${unique}-${i}`, profileData });
    }
    d.push({ type: "profile", identity: `ac-${unique}-6`, profileData: { Tier: tier } });
    await importRecords(request, d);
    const property = `consent_${unique}`;

    try {
      await test.step("an admin names the boolean property; a text property is refused", async () => {
        await page.goto("/settings");
        const section = page.getByRole("region", { name: "Ads consent" });
        await expect(section.getByTestId("consent-status")).toHaveText("Off: syncs send everyone in the segment.");
        await section.getByLabel("Consent property (boolean)").fill("Tier");
        await section.getByRole("button", { name: "Save" }).click();
        await expect(section.getByRole("alert")).toContainText("consent must be a boolean profile property");
        await section.getByLabel("Consent property (boolean)").fill(property);
        await section.getByRole("button", { name: "Save" }).click();
        await expect(section.getByTestId("consent-status")).toContainText(`On: syncs send only people whose “${property}” is true — 4 of`);
      });

      const name = `Consent ${unique}`;
      const id = await publishNow(request, name, tier);
      const audience = await syncedAudience(request, id);

      await test.step("the run and the sync panel say how many were held back; Facebook has only the others", async () => {
        const ids = (await externIds(request, audience)).filter((x) => x.startsWith(`ac-${unique}-`)).sort();
        expect(ids).toEqual([0, 1, 2, 3].map((i) => `ac-${unique}-${i}`));
        await page.goto(`/campaigns/${id}/stats`);
        const run = page.getByRole("region", { name: "Sync runs" }).getByTestId("run").first();
        await expect(run.locator(".run__state")).toHaveText("Succeeded");
        await expect(figure(run, "Held back: no ads consent")).toHaveText("3");
        await expect(figure(run, "In the segment")).toHaveText("4");
        await expect(page.getByRole("region", { name: "Audience sync" })).toContainText(
          "Ads consent filtering on: 3 people without consent held back.",
        );
      });

      await test.step("the campaign's Overview says the filter is on and what the last run held back", async () => {
        await page.goto(`/campaigns/${id}/edit/overview`);
        await expect(page.getByRole("note").filter({ hasText: "Ads consent filtering is on" })).toContainText(
          `only people whose “${property}” is true are sent to Facebook`,
        );
        await expect(page.getByRole("note").filter({ hasText: "Ads consent filtering is on" })).toContainText(
          "The last run held back 3 people.",
        );
      });
    } finally {
      // Other specs sync on the same database: the filter goes off again whatever happened.
      await page.goto("/settings");
      const section = page.getByRole("region", { name: "Ads consent" });
      await section.getByLabel("Consent property (boolean)").fill("");
      await section.getByRole("button", { name: "Save" }).click();
      await expect(section.getByTestId("consent-status")).toHaveText("Off: syncs send everyone in the segment.");
    }
  });
});

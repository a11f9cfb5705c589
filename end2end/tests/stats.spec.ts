import { test, expect } from "./fixtures";
import type { APIRequestContext, Page } from "@playwright/test";

// The stats page against the built-in Graph API sandbox: its figures, the ad filter, the view
// kept in the URL, and a share link opened without a session until it is revoked.

const US = "act_100000000000001";
const unique = Date.now().toString(36);

const kpi = (page: Page, key: string) => page.locator(`[data-kpi="${key}"] dd`);
const fmt = (n: number) => n.toLocaleString("en-US");
/** Facebook's reach of the whole ad set over one range (people, not a sum of days). */
const rangeReach = async (request: APIRequestContext, adSet: string, since: string, until: string) => {
  const body = await (
    await request.get(`/sandbox/graph/v25.0/${adSet}/insights`, {
      params: {
        access_token: "t", level: "adset", time_increment: "all_days", fields: "reach",
        time_ranges: JSON.stringify([{ since, until }]),
      },
    })
  ).json();
  return Number(body.data[0].reach);
};

test("campaign stats show the sandbox's figures, filter by ad, survive a reload and can be shared", async ({
  page,
  request,
  browser,
}) => {
  test.setTimeout(120_000);
  const name = `Stats ${unique}`;
  const fbCampaigns = await (await request.get(`/api/facebook/ad-accounts/${US}/campaigns`)).json();
  const fbCampaign = fbCampaigns[1]; // "Win-back (US)"
  const adSet = (await (await request.get(`/api/facebook/campaigns/${fbCampaign.id}/adsets`)).json())[0].id;
  const created = await (
    await request.post("/api/campaigns", {
      data: {
        name,
        schedule: {
          time_zone: "Asia/Kolkata", kind: "recurring",
          repeat: { every: "months", interval: 1, days: [7] },
          time: "09:00", start_date: `${new Date().getUTCFullYear() + 1}-01-01`,
          end: { kind: "after_runs", runs: 12 },
        },
        audience: { kind: "group", combine: "all_of", rules: [
          { kind: "user_property", property: "Plan", condition: { type: "text", op: "equals", value: "gold" } },
        ] },
        target: { ad_account_id: US, campaign_id: fbCampaign.id, ad_set_id: adSet },
      },
    })
  ).json();
  expect((await request.post(`/api/campaigns/${created.id}/publish`)).status()).toBe(200);

  let lifetimeImpressions = "";
  let lifetimeReach = "";
  await test.step("the list leads to the stats; Refresh now fetches the sandbox's figures", async () => {
    await page.goto("/campaigns");
    await page.getByRole("link", { name: `View stats of ${name}` }).click();
    await expect(page).toHaveURL(new RegExp(`/campaigns/${created.id}/stats$`));
    await expect(page.getByRole("heading", { level: 1, name })).toBeVisible();
    await expect(page.getByText("Never fetched from Facebook yet")).toBeVisible();
    await page.getByRole("button", { name: "Refresh now" }).click();
    // The ad set's 3 months and more are read through asynchronous reports, polled every 5 s.
    await expect(page.getByText(/^Last updated/)).toBeVisible({ timeout: 30_000 });

    const stats = await (await request.get(`/api/campaigns/${created.id}/stats`)).json();
    const fb = await (
      await request.get(`/sandbox/graph/v25.0/${adSet}/insights`, {
        params: {
          access_token: "t", level: "ad", time_increment: "1", limit: "5000",
          fields: "ad_id,impressions,clicks,spend",
          time_range: JSON.stringify({ since: stats.first_day, until: stats.last_day }),
        },
      })
    ).json();
    const sum = (key: string) => fb.data.reduce((s: number, r: Record<string, string>) => s + Number(r[key]), 0);
    const cents = fb.data.reduce((s: number, r: Record<string, string>) => s + Math.round(Number(r.spend) * 100), 0);
    lifetimeImpressions = fmt(sum("impressions"));
    await expect(kpi(page, "impressions")).toHaveText(lifetimeImpressions);
    await expect(kpi(page, "clicks")).toHaveText(fmt(sum("clicks")));
    await expect(kpi(page, "spend")).toHaveText(
      (cents / 100).toLocaleString("en-US", { style: "currency", currency: "USD" }),
    );
    await expect(page.getByRole("img", { name: /^Daily Impressions/ })).toBeVisible();

    // Reach is Facebook's count of people over the whole range, fewer than the days' sum, and
    // frequency is impressions per person.
    const reach = await rangeReach(request, adSet, stats.first_day, stats.last_day);
    const dailySum = stats.daily.reduce((s: number, d: { reach: number }) => s + d.reach, 0);
    expect(reach).toBeGreaterThan(0);
    expect(reach).toBeLessThan(dailySum);
    lifetimeReach = fmt(reach);
    await expect(kpi(page, "reach")).toHaveText(lifetimeReach);
    await expect(kpi(page, "frequency")).toHaveText((sum("impressions") / reach).toFixed(2));
    await expect(page.getByRole("table", { name: "Ads" }).getByRole("columnheader", { name: "Reach" })).toBeVisible();
    await expect(page.getByRole("table", { name: "Ads" }).getByRole("columnheader", { name: "Frequency" })).toBeVisible();
    // Not synced yet: the default range (since the first sync) is the ad set's lifetime.
    await expect(page.getByRole("button", { name: "Since first sync" })).toHaveAttribute("aria-pressed", "true");
    // The range line agrees with the pressed button and says why it spans every day.
    await expect(page.getByText(/^Not synced yet, so every day of the ad set: \d{4}-\d\d-\d\d to /)).toBeVisible();
    await expect(page.getByText(/^Lifetime:/)).toHaveCount(0);
  });

  const ads = page.getByRole("table", { name: "Ads" });
  let filteredImpressions = "";
  await test.step("unchecking one ad makes every figure the other ad's", async () => {
    const first = ads.getByRole("row", { name: /Win-back – ad 1/ });
    const firstImpressions = await first.getByRole("cell").nth(1).innerText();
    expect(firstImpressions).not.toBe(lifetimeImpressions);
    await page.getByRole("checkbox", { name: "Include Win-back – ad 2" }).uncheck();
    await expect(page).toHaveURL(/ads=\d+/);
    await expect(kpi(page, "impressions")).toHaveText(firstImpressions);
    filteredImpressions = firstImpressions;
  });

  await test.step("range and metric go into the URL, and the copied URL restores the view", async () => {
    await page.getByRole("button", { name: "Last 30 days" }).click();
    await expect(page).toHaveURL(/from=\d{4}-\d\d-\d\d&to=\d{4}-\d\d-\d\d/);
    await page.getByLabel("Metric").selectOption("clicks");
    await expect(page).toHaveURL(/metric=clicks/);
    await expect(page.getByRole("img", { name: /^Daily Clicked/ })).toBeVisible();
    // The range's figures replace the lifetime ones when they arrive (the page keeps showing the
    // old ones meanwhile): wait for them instead of reading whatever is there.
    await expect(kpi(page, "impressions")).not.toHaveText(filteredImpressions);
    const view = {
      impressions: await kpi(page, "impressions").innerText(),
      spend: await kpi(page, "spend").innerText(),
    };

    const copied = page.url();
    await page.goto("/campaigns");
    await page.goto(copied);
    await expect(kpi(page, "impressions")).toHaveText(view.impressions);
    await expect(kpi(page, "spend")).toHaveText(view.spend);
    await expect(page.getByRole("checkbox", { name: "Include Win-back – ad 2" })).not.toBeChecked();
    await expect(page.getByRole("checkbox", { name: "Include Win-back – ad 1" })).toBeChecked();
    await expect(page.getByLabel("Metric")).toHaveValue("clicks");
    await expect(page.getByRole("button", { name: "Last 30 days" })).toHaveAttribute("aria-pressed", "true");
  });

  await test.step("a share link opens in a fresh browser, read-only, until it is revoked", async () => {
    await page.getByRole("button", { name: "Share" }).click();
    const dialog = page.getByRole("dialog", { name: "Share these stats" });
    await dialog.getByRole("button", { name: "Create link" }).click();
    const link = await dialog.getByLabel("Share link", { exact: true }).inputValue();
    expect(link).toMatch(/\/share\/[0-9a-f]{64}$/);
    await expect(dialog.getByRole("list", { name: "Share links" }).getByText("Active")).toBeVisible();

    const stranger = await browser.newContext();
    const other = await stranger.newPage();
    await other.goto(link);
    await expect(other.getByRole("heading", { level: 1, name })).toBeVisible();
    await expect(kpi(other, "impressions")).toHaveText(lifetimeImpressions);
    await expect(kpi(other, "reach")).toHaveText(lifetimeReach);
    await expect(kpi(other, "frequency")).toHaveText(/^\d+\.\d\d$/);
    await expect(other.getByRole("navigation")).toHaveCount(0);
    await expect(other.getByRole("button", { name: "Refresh now" })).toHaveCount(0);
    await expect(other.locator('meta[name="robots"]')).toHaveAttribute("content", /noindex/);

    await dialog.getByRole("button", { name: /^Revoke link/ }).click();
    await expect(dialog.getByText("Revoked")).toBeVisible();
    await other.reload();
    await expect(other.getByRole("heading", { name: "This link is no longer available" })).toBeVisible();
    await expect(kpi(other, "impressions")).toHaveCount(0);
    await stranger.close();
  });
});

test("after its first sync a campaign's stats are there, from the sync's day, with its conversions", async ({ page, request }) => {
  test.setTimeout(120_000);
  const name = `Goal ${unique}`;
  const seen = `Seen ${unique}`;
  const paid = `Paid ${unique}`;
  const now = () => Math.floor(Date.now() / 1000);
  const people = [1, 2, 3].map((i) => `goal-${unique}-${i}`);
  const importRecords = async (d: object[]) => {
    const res = await request.post("/api/profiles/import", { data: { d } });
    expect(res.status()).toBe(200);
    expect((await res.json()).status).toBe("success");
  };
  await importRecords(
    people.flatMap((identity) => [
      { type: "profile", identity, profileData: { Email: `${identity}@example.com` } },
      { type: "event", identity, ts: now() - 86_400, evtName: seen },
      // Before the campaign's audience existed: never a conversion.
      { type: "event", identity, ts: now() - 3_600, evtName: paid },
    ]),
  );

  const fbCampaign = (await (await request.get(`/api/facebook/ad-accounts/${US}/campaigns`)).json())[0];
  const adSet = (await (await request.get(`/api/facebook/campaigns/${fbCampaign.id}/adsets`)).json())[0].id;
  const created = await (
    await request.post("/api/campaigns", {
      data: {
        name,
        schedule: { time_zone: "UTC", kind: "now" },
        audience: { kind: "group", combine: "all_of", rules: [
          { kind: "event", did: true, event: seen, window: { kind: "last_days", days: 30 } },
        ] },
        target: { ad_account_id: US, campaign_id: fbCampaign.id, ad_set_id: adSet },
        conversion_goal: { event: paid },
      },
    })
  ).json();
  expect((await request.post(`/api/campaigns/${created.id}/publish`)).status()).toBe(200);
  // The background worker syncs the audience: its members join it.
  await expect
    .poll(async () => (await (await request.get(`/api/campaigns/${created.id}/runs`)).json())[0]?.state, {
      timeout: 30_000,
    })
    .toBe("succeeded");
  // Two members pay after joining.
  await new Promise((r) => setTimeout(r, 1_100));
  await importRecords(people.slice(0, 2).map((identity) => ({ type: "event", identity, ts: now(), evtName: paid })));

  // Nobody presses "Refresh now": the first sync's end queued the fetch.
  await expect
    .poll(async () => (await (await request.get(`/api/campaigns/${created.id}/stats`)).json()).last_updated, {
      timeout: 30_000,
    })
    .not.toBeNull();
  await page.goto(`/campaigns/${created.id}/stats`);
  await expect(page.getByText(/^Last updated/)).toBeVisible();
  await expect(page.getByText("Never fetched from Facebook yet")).toHaveCount(0);

  // The default range starts on the first sync's day (the ad account's), not the ad set's start.
  const first = await (await request.get(`/api/campaigns/${created.id}/stats`)).json();
  const syncDay = first.first_sync_day;
  expect(syncDay).toMatch(/^\d{4}-\d\d-\d\d$/);
  expect(first.query.from).toBe(syncDay);
  expect(first.daily[0].day).toBe(syncDay);
  await expect(page.getByRole("button", { name: "Since first sync" })).toHaveAttribute("aria-pressed", "true");
  await expect(page.getByText(`Since the first sync: ${syncDay} to ${first.last_day}`)).toBeVisible();
  await expect(page.getByRole("link", { name: "Export CSV" })).toHaveAttribute("href", new RegExp(`from=${syncDay}`));
  const sinceSync = await kpi(page, "impressions").innerText();
  expect(Number(sinceSync.replace(/,/g, ""))).toBeGreaterThan(0);
  await expect(kpi(page, "clicks")).not.toHaveText("0");
  await expect(kpi(page, "ctr")).toHaveText(/^(0\.[5-9]\d|1\.\d\d|2\.00)%$/);
  await expect(kpi(page, "reach")).toHaveText(
    fmt(await rangeReach(request, adSet, syncDay, first.last_day)),
  );

  // The whole lifetime is one click away.
  await page.getByRole("button", { name: "Lifetime" }).click();
  await expect(page).toHaveURL(/range=lifetime/);
  await expect(page.getByText(/^Lifetime: 2026-09-01 to /)).toBeVisible();
  await expect(kpi(page, "impressions")).not.toHaveText(sinceSync);
  await page.getByRole("button", { name: "Since first sync" }).click();
  await expect(page).not.toHaveURL(/range=|from=/);
  await expect(kpi(page, "impressions")).toHaveText(sinceSync);

  await expect(kpi(page, "conversions")).toHaveText("2");
  await expect(page.locator('[data-kpi="conversions"] dt')).toContainText(paid);
  const stats = await (await request.get(`/api/campaigns/${created.id}/stats`)).json();
  expect(stats.conversions.conversions).toBe(2);
  const cost = Math.round(stats.totals.spend_minor / 2);
  expect(stats.conversions.cost_per_conversion_minor).toBe(cost);
  await expect(kpi(page, "cost_per_conversion")).toHaveText(
    (cost / 100).toLocaleString("en-US", { style: "currency", currency: "USD" }),
  );
});

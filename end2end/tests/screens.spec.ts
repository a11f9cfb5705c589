import { test, expect } from "./fixtures";
import type { APIRequestContext, Browser, Page } from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";

// The app on real screens: every page, as an admin, as a viewer and as a stranger with a share
// link, at a phone's, a tablet's and two desktops' widths. At each: the page never scrolls
// sideways, an open dialog is wholly inside the window, and axe finds nothing serious. Then
// screenshots of the pages people judge the product by, compared with the committed baselines.
//
// Regenerate the baselines (after a deliberate change of the look) with one command, in end2end/:
//   npx playwright test screens --update-snapshots
// and look at the PNGs in tests/screens.spec.ts-snapshots/ before committing them.

const WIDTHS = [390, 768, 1024, 1440];
const US = "act_100000000000001";
// Fixed past days of the sandbox's deterministic insights: the figures never change.
const RANGE = "from=2026-10-01&to=2026-10-14";
const VIEWER = { email: "screens-viewer@example.com", password: "screens-viewer-password" };
const NAMES = {
  live: "Acme – Mumbai product launch for the festive season",
  paused: "Acme – Win-back lapsed buyers",
  draft: "Acme – Gold members weekly digest",
};

// Times and dates that move with the clock, and the server's version, are masked.
const MOVING = [
  '[data-testid="last-sync"]',
  'td[data-label="Next run"]',
  ".save-indicator",
  ".footer",
  ".estimate",
  ".page-header__actions > .muted",
  ".page-header > .muted",
];

test.use({ timezoneId: "Europe/London", locale: "en-GB" });

type Fixture = { liveId: number; draftId: number; shareUrl: string };
let fixture: Fixture | undefined;

/** The spec's own campaigns, labels, share link and viewer; created once, found again after. */
async function seed(request: APIRequestContext): Promise<Fixture> {
  if (fixture) return fixture;
  const labels: { id: number; name: string }[] = await (await request.get("/api/labels")).json();
  const label = async (name: string) => {
    const found = labels.find((l) => l.name === name);
    if (found) return found.id;
    const res = await request.post("/api/labels", { data: { name } });
    expect(res.ok(), `label ${name}`).toBeTruthy();
    return (await res.json()).id as number;
  };
  const festive = await label("Festive");
  const india = await label("India");
  const retention = await label("Retention");

  const existing: { id: number; name: string }[] = await (
    await request.get("/api/campaigns", { params: { q: "Acme" } })
  ).json();
  const fbCampaigns: { id: string; name: string }[] = await (
    await request.get(`/api/facebook/ad-accounts/${US}/campaigns`)
  ).json();
  // An ad set no other spec syncs to: its figures depend on nothing but the day.
  const brand = fbCampaigns.find((c) => c.name.startsWith("Brand Awareness"))!;
  const adSets: { id: string }[] = await (await request.get(`/api/facebook/campaigns/${brand.id}/adsets`)).json();
  const target = { ad_account_id: US, campaign_id: brand.id, ad_set_id: adSets[1].id };
  const schedule = {
    time_zone: "Asia/Kolkata", kind: "recurring",
    repeat: { every: "months", interval: 1, days: [7] },
    time: "09:00", start_date: "2030-01-01",
    end: { kind: "after_runs", runs: 12 },
  };
  const audience = {
    kind: "group", combine: "all_of", rules: [
      { kind: "event", did: true, event: "Charged", window: { kind: "last_days", days: 30 } },
      { kind: "user_property", property: "Plan", condition: { type: "text", op: "equals", value: "gold" } },
    ],
  };
  const campaign = async (name: string, data: object, then?: (id: number) => Promise<void>) => {
    const found = existing.find((c) => c.name === name);
    if (found) return found.id;
    const res = await request.post("/api/campaigns", { data: { name, ...data } });
    expect(res.ok(), `campaign ${name}`).toBeTruthy();
    const id = (await res.json()).id as number;
    await then?.(id);
    return id;
  };
  const publish = async (id: number) => {
    expect((await request.post(`/api/campaigns/${id}/publish`)).status()).toBe(200);
  };
  const liveId = await campaign(NAMES.live, { schedule, audience, target, labels: [festive, india] }, async (id) => {
    await publish(id);
    expect((await request.post(`/api/campaigns/${id}/stats/refresh`)).status()).toBe(200);
  });
  await campaign(NAMES.paused, { schedule, audience, target, labels: [retention] }, async (id) => {
    await publish(id);
    expect((await request.post(`/api/campaigns/${id}/pause`)).ok()).toBeTruthy();
  });
  const draftId = await campaign(NAMES.draft, { audience, labels: [retention] });

  const link = await request.post(`/api/campaigns/${liveId}/share-links`, { data: {} });
  expect(link.ok()).toBeTruthy();
  const shareUrl = `${(await link.json()).path}?${RANGE}`;
  // The viewer may exist from an earlier run on the same database.
  await request.post("/api/users", { data: { ...VIEWER, role: "viewer" } });
  fixture = { liveId, draftId, shareUrl };
  return fixture;
}

async function signedInAs(browser: Browser, baseURL: string, who: { email: string; password: string }) {
  const context = await browser.newContext({
    baseURL, storageState: { cookies: [], origins: [] }, timezoneId: "Europe/London", locale: "en-GB",
  });
  const res = await context.request.post("/api/login", { data: who, headers: { Origin: baseURL } });
  expect(res.status(), `${who.email} signs in`).toBe(200);
  return context;
}

async function expectFits(page: Page, what: string) {
  const overflow = await page.evaluate(
    () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
  );
  expect(overflow, `horizontal overflow of ${what}`).toBeLessThanOrEqual(0);
}

async function expectAxeClean(page: Page, what: string) {
  const results = await new AxeBuilder({ page }).analyze();
  const serious = results.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
  expect(serious, `axe on ${what}`).toEqual([]);
}

/** The element's box lies wholly inside the window. */
async function expectInsideViewport(page: Page, selector: string, what: string) {
  const box = await page.locator(selector).boundingBox();
  const size = page.viewportSize()!;
  expect(box, `${what} is shown`).not.toBeNull();
  expect(box!.x, `${what}: left edge`).toBeGreaterThanOrEqual(0);
  expect(box!.y, `${what}: top edge`).toBeGreaterThanOrEqual(0);
  expect(box!.x + box!.width, `${what}: right edge`).toBeLessThanOrEqual(size.width);
  expect(box!.y + box!.height, `${what}: bottom edge`).toBeLessThanOrEqual(size.height);
}

type Visit = { path: string; ready: (page: Page) => Promise<void> };
const h1 = (name?: string | RegExp): Visit["ready"] => async (page) => {
  await expect(page.getByRole("heading", { level: 1, ...(name ? { name } : {}) })).toBeVisible();
  await expect(page.locator(".loading")).toHaveCount(0);
};

function adminPages(f: Fixture): Visit[] {
  const step = (s: string): Visit => ({
    path: `/campaigns/${f.draftId}/edit/${s}`,
    ready: async (page) => {
      await expect(page.getByLabel("Campaign name")).toBeVisible();
      await expect(page.locator(".loading")).toHaveCount(0);
    },
  });
  return [
    { path: "/campaigns", ready: h1("Campaigns") },
    { path: "/campaigns?q=Acme&sort=name", ready: h1("Campaigns") },
    ...["when", "who", "what", "labels", "overview"].map(step),
    { path: `/campaigns/${f.liveId}/stats?${RANGE}`, ready: h1(NAMES.live) },
    { path: "/segments", ready: h1("Segments") },
    { path: "/segments/import", ready: h1("Import data") },
    { path: "/data", ready: h1("Data") },
    { path: "/settings", ready: h1("Settings") },
    { path: "/users", ready: h1("Users") },
    { path: "/api-keys", ready: h1("API keys") },
    { path: "/audit", ready: h1("Audit log") },
    { path: "/no-such-page", ready: h1() },
  ];
}

function viewerPages(f: Fixture): Visit[] {
  return [
    { path: "/campaigns", ready: h1("Campaigns") },
    { path: `/campaigns/${f.liveId}/stats?${RANGE}`, ready: h1(NAMES.live) },
    { path: "/segments", ready: h1("Segments") },
    { path: "/data", ready: h1("Data") },
    { path: "/settings", ready: h1("Settings") },
  ];
}

for (const width of WIDTHS) {
  test(`every page fits ${width} px, keeps its dialogs inside the window and passes axe`, async ({
    page, request, browser, baseURL,
  }) => {
    test.setTimeout(240_000);
    const f = await seed(request);
    await page.setViewportSize({ width, height: 900 });

    await test.step("as an admin", async () => {
      for (const visit of adminPages(f)) {
        await page.goto(visit.path);
        await visit.ready(page);
        await expectFits(page, `${visit.path} (admin)`);
        await expectAxeClean(page, `${visit.path} (admin)`);
      }
    });

    await test.step("the navigation: a side bar on desktops, a menu button below 1024 px", async () => {
      await page.goto("/campaigns");
      const nav = page.getByRole("navigation", { name: "Main" });
      const menu = page.getByRole("button", { name: "Menu" });
      if (width < 1024) {
        await expect(nav).toBeHidden();
        await expect(menu).toHaveAttribute("aria-expanded", "false");
        await menu.click();
        await expect(menu).toHaveAttribute("aria-expanded", "true");
        await expect(nav.getByRole("link", { name: "Segments" })).toBeVisible();
        await expectInsideViewport(page, "#main-nav", "the open menu");
        await expectFits(page, "the open menu");
        await expectAxeClean(page, "the open menu");
        await nav.getByRole("link", { name: "Segments" }).click();
        await expect(page.getByRole("heading", { level: 1, name: "Segments" })).toBeVisible();
        await expect(nav).toBeHidden();
        await expect(menu).toHaveAttribute("aria-expanded", "false");
      } else {
        await expect(menu).toBeHidden();
        await expect(nav.getByRole("link", { name: "Segments" })).toBeVisible();
      }
    });

    await test.step("the Share dialog opens inside the window, also once it shows a new link", async () => {
      await page.goto(`/campaigns/${f.liveId}/stats?${RANGE}`);
      await page.getByRole("button", { name: "Share" }).click();
      const dialog = page.getByRole("dialog", { name: "Share these stats" });
      await expect(dialog).toBeVisible();
      await expectInsideViewport(page, "dialog[open]", "the Share dialog");
      await expectAxeClean(page, "the Share dialog");
      await dialog.getByRole("button", { name: "Create link" }).click();
      const url = dialog.getByLabel("Share link", { exact: true });
      await expect(url).toHaveValue(/\/share\//);
      await expectInsideViewport(page, "dialog[open]", "the Share dialog with a new link");
      await expectFits(page, "the Share dialog");
      // Revoking the new link takes its address away: it no longer works.
      // Newest first: the first link is the one just created.
      await dialog.getByRole("button", { name: /^Revoke link/ }).first().click();
      await expect(url).toHaveCount(0);
      await expect(dialog.getByText("Copy it now")).toHaveCount(0);
      await page.keyboard.press("Escape");
      await expect(dialog).toBeHidden();
      await expect(page.getByRole("button", { name: "Share" })).toBeFocused();
    });

    await test.step("as a viewer", async () => {
      const context = await signedInAs(browser, baseURL!, VIEWER);
      const viewer = await context.newPage();
      await viewer.setViewportSize({ width, height: 900 });
      for (const visit of viewerPages(f)) {
        await viewer.goto(visit.path);
        await visit.ready(viewer);
        await expect(viewer.getByRole("link", { name: /^Sandbox/ })).toBeVisible();
        await expectFits(viewer, `${visit.path} (viewer)`);
        await expectAxeClean(viewer, `${visit.path} (viewer)`);
      }
      await context.close();
    });

    await test.step("signed out: the sign-in page", async () => {
      const context = await browser.newContext({ baseURL, storageState: { cookies: [], origins: [] } });
      const stranger = await context.newPage();
      await stranger.setViewportSize({ width, height: 900 });
      await stranger.goto("/login");
      await h1("Sign in")(stranger);
      await expect(stranger.getByRole("navigation", { name: "Main" })).toBeHidden();
      await expectFits(stranger, "/login");
      await expectAxeClean(stranger, "/login");

      await test.step("the public share page", async () => {
        await stranger.goto(f.shareUrl);
        await h1(NAMES.live)(stranger);
        await expect(stranger.locator('[data-kpi="impressions"] dd')).not.toHaveText("");
        await expectFits(stranger, "the share page");
        await expectAxeClean(stranger, "the share page");
      });
      await context.close();
    });
  });
}

test("the sandbox badge is in the top bar for every role and leads to Settings", async ({ page, request }) => {
  await seed(request);
  await page.goto("/campaigns");
  const badge = page.getByRole("banner").getByRole("link", { name: /^Sandbox/ });
  await expect(badge).toBeVisible();
  await badge.click();
  await expect(page.getByRole("heading", { level: 1, name: "Settings" })).toBeVisible();
  // Nothing saved in the sandbox: the page says which token is in use instead of "not set".
  const section = page.getByRole("region", { name: "Facebook" });
  const token = await section.getByTestId("fb-token").textContent();
  if (!token?.startsWith("set")) {
    await expect(section.getByTestId("fb-token")).toHaveText("none saved: the sandbox uses its built-in token");
    await expect(section.getByRole("heading", { name: "Health of the sandbox's built-in token" })).toBeVisible();
  }
});

// The looks, compared with the committed baselines. Fixed data (the spec's own campaigns, fixed
// days of the sandbox's figures), moving times masked, animations off.
const SHOTS: { name: string; path: (f: Fixture) => string; ready: (page: Page) => Promise<void> }[] = [
  { name: "campaigns", path: () => "/campaigns?q=Acme&sort=name", ready: async (page) => {
    await h1("Campaigns")(page);
    await expect(page.getByRole("rowheader")).toHaveCount(3);
  } },
  { name: "wizard-who", path: (f) => `/campaigns/${f.draftId}/edit/who`, ready: async (page) => {
    await expect(page.getByLabel("Campaign name")).toHaveValue(NAMES.draft);
    await expect(page.locator(".loading")).toHaveCount(0);
  } },
  { name: "stats", path: (f) => `/campaigns/${f.liveId}/stats?${RANGE}`, ready: async (page) => {
    await h1(NAMES.live)(page);
    await expect(page.locator("svg.chart")).toBeVisible();
    await expect(page.getByText("Loading the runs…")).toHaveCount(0);
  } },
  { name: "share", path: (f) => f.shareUrl, ready: async (page) => {
    await h1(NAMES.live)(page);
    await expect(page.locator("svg.chart")).toBeVisible();
  } },
];

for (const width of [390, 1440]) {
  for (const shot of SHOTS) {
    test(`${shot.name} looks as designed at ${width} px`, async ({ page, request, browser, baseURL }) => {
      const f = await seed(request);
      let target = page;
      if (shot.name === "share") {
        const context = await browser.newContext({
          baseURL, storageState: { cookies: [], origins: [] }, timezoneId: "Europe/London", locale: "en-GB",
        });
        target = await context.newPage();
      }
      await target.setViewportSize({ width, height: 900 });
      await target.emulateMedia({ reducedMotion: "reduce", colorScheme: "light" });
      await target.goto(shot.path(f));
      await shot.ready(target);
      await target.mouse.move(0, 0);
      await expect(target).toHaveScreenshot(`${shot.name}-${width}.png`, {
        fullPage: true,
        animations: "disabled",
        caret: "hide",
        mask: MOVING.map((s) => target.locator(s)),
        maxDiffPixelRatio: 0.01,
      });
      if (target !== page) await target.context().close();
    });
  }
}

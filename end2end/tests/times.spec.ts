import { test, expect } from "./fixtures";
import { dailyFromNewYear, nextYear, publishedCampaign } from "./campaign-api";

// One rule for times: every instant is shown in the viewer's time zone (the browser's), named,
// "Mon 7 Dec 2026, 15:21 IST"; a next run also on the campaign's clock when that reads
// differently. The expected texts are worked out here from the API's RFC 3339 instants and the
// zone's fixed offset (neither zone below has daylight saving time in winter).

const unique = Date.now().toString(36);
const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const pad = (n: number) => String(n).padStart(2, "0");

/** `iso` on a clock `offsetMinutes` ahead of UTC, as the app words it: "Mon 7 Dec 2026, 20:51". */
function clock(iso: string, offsetMinutes: number): string {
  const d = new Date(Date.parse(iso) + offsetMinutes * 60_000);
  return `${DAYS[d.getUTCDay()]} ${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()}, ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
}
const IST = 330;
const ist = (iso: string) => `${clock(iso, IST)} IST`;

test.describe("a viewer in India", () => {
  test.use({ timezoneId: "Asia/Kolkata" });

  test("sees next runs, runs, the audit log and API keys in India's time, named", async ({ page, request }) => {
    const name = `Times ${unique}`;
    // Every day at 09:00 UTC: 14:30 in India.
    const created = await publishedCampaign(request, name, dailyFromNewYear("UTC", "09:00"));
    const firstRun = `${nextYear}-01-01T09:00:00Z`;

    await test.step("the list: the next run in IST, and on the campaign's clock", async () => {
      await page.goto("/campaigns");
      const cell = page.getByRole("row", { name: new RegExp(`^${name}`) }).getByTestId("next-run");
      await expect(cell).toHaveText(`${ist(firstRun)} (09:00 in UTC)`);
      expect(ist(firstRun)).toContain(", 14:30 IST");
      await expect(cell.locator("time")).toHaveAttribute("datetime", firstRun);
    });

    await test.step("the run history: when a run started", async () => {
      const dry = await request.post(`/api/campaigns/${created.id}/runs`, { data: { dry_run: true } });
      expect(dry.status()).toBe(200);
      const run = await dry.json();
      await page.goto(`/campaigns/${created.id}/stats`);
      const item = page.getByRole("region", { name: "Sync runs" }).getByTestId("run").first();
      await expect(item).toContainText("Dry run");
      await expect(item.locator("time")).toHaveText(ist(run.started_at ?? run.run_at));
    });

    await test.step("the audit log: when each change was made", async () => {
      const entries = await (await request.get("/api/audit")).json();
      const published = entries.find((e: { summary: string }) => e.summary.includes(name));
      expect(published, "the campaign's changes are audited").toBeTruthy();
      await page.goto("/audit");
      const row = page.getByRole("row").filter({ hasText: name }).first();
      await expect(row.getByRole("cell").first()).toHaveText(ist(published.at));
    });

    await test.step("API keys: when a key was created, and revoked", async () => {
      const key = (await (await request.post("/api/api-keys", { data: { name: `Times key ${unique}` } })).json()).key;
      const revoked = await (await request.delete(`/api/api-keys/${key.id}`)).json();
      await page.goto("/api-keys");
      const row = page.getByRole("row").filter({ hasText: `Times key ${unique}` });
      await expect(row.getByRole("cell").nth(1)).toHaveText(`${ist(key.created_at)} by ${key.created_by}`);
      await expect(row.getByRole("cell").nth(2)).toHaveText("never");
      await expect(row.getByRole("cell").nth(3)).toHaveText(`Revoked ${ist(revoked.revoked_at)}`);
    });
  });
});

test.describe("a viewer in Berlin", () => {
  test.use({ timezoneId: "Europe/Berlin" });

  test("sees a next run on another day in the campaign's zone with both days", async ({ page, request }) => {
    const name = `Times Berlin ${unique}`;
    // Every day at 03:00 in India: 22:30 the evening before in Berlin (CET, UTC+1 in winter).
    await publishedCampaign(request, name, dailyFromNewYear("Asia/Kolkata", "03:00"));
    const firstRun = `${nextYear - 1}-12-31T21:30:00Z`;
    await page.goto("/campaigns");
    const cell = page.getByRole("row", { name: new RegExp(`^${name}`) }).getByTestId("next-run");
    await expect(cell).toHaveText(`${clock(firstRun, 60)} CET (${clock(firstRun, IST)} in Asia/Kolkata)`);
    expect(clock(firstRun, 60)).toContain(`31 Dec ${nextYear - 1}, 22:30`);
  });
});

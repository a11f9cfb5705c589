import { test, expect } from "./fixtures";

// The Data page: what arrived, from where, and what was refused — reachable from the navigation,
// readable by viewers, and updated by an import through the browser.

const unique = Date.now().toString(36);

test("the Data page shows totals, events with their last 30 days, properties and refused records", async ({
  page,
  request,
}) => {
  const event = `Opened${unique}`;
  const now = Math.floor(Date.now() / 1000);
  const before = await (await request.get("/api/data")).json();
  const res = await request.post("/api/profiles/import", {
    data: {
      d: [
        { type: "profile", identity: `data-a-${unique}`, profileData: { Email: `data-a-${unique}@example.com`, Plan: "gold" } },
        { type: "profile", identity: `data-b-${unique}`, profileData: { Plan: "gold" } },
        { type: "event", identity: `data-a-${unique}`, ts: now, evtName: event, evtData: {} },
        { type: "event", identity: `data-b-${unique}`, ts: now - 86400, evtName: event, evtData: {} },
        { type: "profile", identity: `data-c-${unique}`, profileData: { Phone: "12345" } },
      ],
    },
  });
  expect((await res.json()).status).toBe("partial");

  await page.goto("/campaigns");
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Data" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Data" })).toBeVisible();

  await expect(page.locator('[data-kpi="profiles"] dd')).toHaveText(
    (before.profiles + 2).toLocaleString("en-US"),
  );
  await expect(page.getByTestId("last-arrival")).toContainText("through Import");

  const events = page.getByRole("table", { name: "Events" });
  const row = events.getByRole("row", { name: new RegExp(event) });
  await expect(row).toContainText("2");
  await expect(row.getByRole("img", { name: `2 events of ${event} in the last 30 days` })).toBeVisible();

  const props = page.getByRole("table", { name: "Profile properties" });
  await expect(props.getByRole("row", { name: /^Plan/ })).toContainText("gold");

  const refused = page.getByRole("table", { name: "Refused records" });
  await expect(refused.getByRole("row").nth(1)).toContainText("E.164");
  await expect(refused.getByRole("row").nth(1)).toContainText(`data-c-${unique}`);
});

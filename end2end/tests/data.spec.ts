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

test("a person is found by e-mail and their page explains why they are in a saved segment or not", async ({
  page,
  request,
}) => {
  const res = await request.post("/api/profiles/import", {
    data: {
      d: [
        { type: "profile", identity: `why-a-${unique}`, profileData: { Email: `Why-A-${unique}@Example.com`, Tier: `t${unique}` } },
        { type: "profile", identity: `why-b-${unique}`, profileData: { Tier: "other" } },
      ],
    },
  });
  expect((await res.json()).status).toBe("success");
  const name = `Tier ${unique}`;
  const created = await request.post("/api/segments", {
    data: {
      name,
      description: "",
      definition: { kind: "user_property", property: "Tier", condition: { type: "text", op: "equals", value: `t${unique}` } },
    },
  });
  expect(created.status()).toBe(201);

  await page.goto("/data");
  // E-mail addresses are found in their normalised form, and shown masked.
  await page.getByRole("searchbox", { name: "Find a person" }).fill(` why-a-${unique}@EXAMPLE.com `);
  await page.getByRole("button", { name: "Search" }).click();
  const people = page.getByRole("list", { name: "People found" });
  await expect(people).toContainText(`w•••@example.com`);
  await people.getByRole("link", { name: `why-a-${unique}` }).click();
  await expect(page.getByRole("heading", { level: 1, name: `why-a-${unique}` })).toBeVisible();
  await page.getByLabel(`Why is why-a-${unique} in (or not in)…`).selectOption({ label: name });
  await page.getByRole("button", { name: "Explain" }).click();
  const why = page.getByRole("region", { name: "Explanation" });
  await expect(why.getByRole("status")).toHaveText(`why-a-${unique} is in saved segment “${name}” now.`);
  await expect(why).toContainText(`Tier is “t${unique}” — is “t${unique}”`);

  // And someone who is not in it, with the value that keeps them out.
  await page.getByRole("link", { name: "Data", exact: true }).first().click();
  await page.getByRole("searchbox", { name: "Find a person" }).fill(`why-b-${unique}`);
  await page.getByRole("button", { name: "Search" }).click();
  await people.getByRole("link", { name: `why-b-${unique}` }).click();
  await page.getByLabel(`Why is why-b-${unique} in (or not in)…`).selectOption({ label: name });
  await page.getByRole("button", { name: "Explain" }).click();
  await expect(why.getByRole("status")).toHaveText(`why-b-${unique} is not in saved segment “${name}” now.`);
  await expect(why).toContainText(`Tier is “t${unique}” — is “other”`);
});

import { test, expect } from "./fixtures";

test("an admin sees the sandbox connection, saves a token and never sees it again", async ({ page }) => {
  // Any token works in the sandbox, so the other specs' pickers keep working after this one.
  const token = `EAABe2eSettingsToken${Date.now().toString(36)}Zq9k`;
  await page.goto("/settings");
  const section = page.getByRole("region", { name: "Facebook" });
  await expect(section.getByTestId("fb-mode")).toContainText("Sandbox");
  await expect(section.getByRole("radio", { name: "Sandbox" })).toBeChecked();
  const accounts = section.getByRole("list", { name: "Connected ad accounts" });
  await expect(accounts.getByRole("listitem").first()).toBeVisible();

  await section.getByLabel("Access token").fill(token);
  await section.getByRole("button", { name: "Save" }).click();
  await expect(section.getByTestId("fb-token")).toHaveText("set, ends with …Zq9k");
  await expect(section.getByLabel("Access token")).toHaveValue("");
  await expect(page.locator("body")).not.toContainText(token);
  expect(await page.content()).not.toContain(token);

  await section.getByRole("button", { name: "Test connection" }).click();
  await expect(section.getByRole("status").filter({ hasText: "Connected" })).toBeVisible();
});

test("the Facebook section shows the token's health and warns when it expires within a week", async ({ page }) => {
  await page.goto("/settings");
  const section = page.getByRole("region", { name: "Facebook" });
  const health = section.getByTestId("fb-token-health");
  await expect(health).toContainText("Valid until");
  await expect(health).toHaveAttribute("data-expires-soon", "false");

  // The sandbox's debug_token now says the token expires in three days (calls still work).
  // As the admin signed in on this page (its cookie), from this site (`Origin`), as the
  // debug endpoints require.
  const headers = { Origin: new URL(page.url()).origin };
  const res = await page.request.post("/sandbox/debug/faults", {
    data: { token_expires_in_days: 3 },
    headers,
  });
  expect(res.ok()).toBeTruthy();
  try {
    await page.reload();
    await expect(health).toHaveAttribute("data-expires-soon", "true");
    await expect(health).toContainText("expires within 7 days");
    await expect(health).toHaveAttribute("role", "alert");
  } finally {
    await page.request.post("/sandbox/debug/faults", { data: {}, headers });
  }
});

import { test, expect, ADMIN } from "./fixtures";

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

// "Connect with Facebook": the sandbox serves Facebook's OAuth dialog on this server, so the whole
// flow runs here. These come last in the file: they replace the saved token with the one the
// sandbox issues (any token works for the specs that follow).
test("an admin connects with Facebook: Allow on the dialog, back on Settings with the connection", async ({ page }) => {
  await page.goto("/settings");
  const section = page.getByRole("region", { name: "Facebook" });
  await section.getByRole("button", { name: /onnect with Facebook/ }).click();

  // The consent page (www.facebook.com's dialog, emulated by the sandbox).
  await expect(page).toHaveURL(/\/sandbox\/www\/v25\.0\/dialog\/oauth\?client_id=900000000000001&/);
  await expect(page.getByRole("heading", { level: 1 })).toContainText("is requesting access");
  for (const scope of ["ads_management", "ads_read", "business_management"]) {
    await expect(page.getByLabel(scope, { exact: true })).toBeChecked();
  }
  await page.getByRole("button", { name: "Allow" }).click();

  await expect(page).toHaveURL(/\/settings\?facebook=connected$/);
  await expect(section.getByTestId("fb-connect-outcome")).toContainText("Connected to Facebook as Sandbox User");
  await expect(section.getByTestId("fb-connected-by")).toHaveText(ADMIN.email);
  await expect(section.getByTestId("fb-granted")).toHaveText("ads_management, ads_read, business_management, public_profile");
  await expect(section.getByTestId("fb-declined")).toHaveText("none");
  await expect(section.getByTestId("fb-granted-accounts")).toContainText("Acme Store US (act_100000000000001)");
  await expect(section.getByTestId("fb-reconnect")).toHaveCount(0);
  await expect(section.getByTestId("fb-token-health")).toHaveAttribute("data-valid", "true");
  await expect(section.getByRole("button", { name: "Reconnect with Facebook" })).toBeVisible();
});

test("cancelling on Facebook's dialog changes nothing and says so", async ({ page }) => {
  await page.goto("/settings");
  const section = page.getByRole("region", { name: "Facebook" });
  const token = await section.getByTestId("fb-token").textContent();
  await section.getByRole("button", { name: /onnect with Facebook/ }).click();
  await expect(page.getByRole("button", { name: "Cancel" })).toBeVisible();
  await page.getByRole("button", { name: "Cancel" }).click();

  await expect(page).toHaveURL(/\/settings\?facebook=cancelled$/);
  await expect(section.getByTestId("fb-connect-outcome")).toContainText("You cancelled on Facebook's dialog, so nothing was changed.");
  await expect(section.getByTestId("fb-token")).toHaveText(token ?? "");
});

test("a permission unticked on Facebook's dialog is reported in words the admin can act on", async ({ page }) => {
  await page.goto("/settings");
  const section = page.getByRole("region", { name: "Facebook" });
  await section.getByRole("button", { name: /onnect with Facebook/ }).click();
  await page.getByLabel("ads_management", { exact: true }).uncheck();
  await page.getByRole("button", { name: "Allow" }).click();

  await expect(page).toHaveURL(/\/settings\?facebook=partial$/);
  await expect(section.getByTestId("fb-connect-outcome")).toContainText(
    "Facebook did not grant ads_management: without ads_management, audiences cannot be created or filled, so campaigns cannot be synced.",
  );
  await expect(section.getByTestId("fb-declined")).toHaveText("ads_management");
  await expect(section.getByTestId("fb-reconnect")).toContainText("allow ads_management");

  // Reconnecting asks again for the declined permission; allowing it clears the warning.
  await section.getByRole("button", { name: "Reconnect with Facebook" }).click();
  await expect(page).toHaveURL(/auth_type=rerequest/);
  await page.getByRole("button", { name: "Allow" }).click();
  await expect(page).toHaveURL(/\/settings\?facebook=connected$/);
  await expect(section.getByTestId("fb-reconnect")).toHaveCount(0);
  await expect(section.getByTestId("fb-declined")).toHaveText("none");
});

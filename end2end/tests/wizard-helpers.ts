import { expect, type Page } from "@playwright/test";

// Steps of the wizard that several specs walk through, always through the UI.

export async function waitForSave(page: Page) {
  await expect(page.getByRole("status").filter({ hasText: "All changes saved" })).toBeVisible();
}

/** "+ Campaign" from the list; leaves the browser on the When step of a new draft, stored by
 * its first save once the name is typed (the URL then carries its id). */
export async function newCampaign(page: Page, name: string) {
  await page.goto("/campaigns");
  await page.getByRole("button", { name: "+ Campaign" }).first().click();
  await expect(page).toHaveURL(/\/campaigns\/new\/edit\/when$/);
  await page.getByLabel("Campaign name").fill(name);
  await expect(page).toHaveURL(/\/campaigns\/\d+\/edit\/when$/);
}

/** Who: an ad-hoc segment of one past-behaviour condition. */
export async function adHocSegment(page: Page, event = "Charged") {
  await page.getByRole("link", { name: /^Who/ }).click();
  await expect(page).toHaveURL(/\/edit\/who$/);
  await page.getByRole("button", { name: "Add past behaviour condition" }).first().click();
  await page.getByLabel("Event name").first().fill(event);
  await expect(page.getByRole("link", { name: /Who.*complete/ })).toBeVisible();
}

/** What: the sandbox's Indian ad account, its "Win-back" campaign and first ad set. */
export async function pickAdSet(page: Page) {
  await page.getByRole("link", { name: /^What/ }).click();
  await expect(page).toHaveURL(/\/edit\/what$/);
  await page.getByRole("radio", { name: /Acme Store India/ }).check();
  await page.getByRole("radio", { name: /Win-back \(IN\)/ }).check();
  await page.getByRole("radio", { name: /Win-back – set 1/ }).check();
  await expect(page.getByRole("link", { name: /What.*complete/ })).toBeVisible();
}

/** Labels: creates `label` inline and ticks it. */
export async function newLabel(page: Page, label: string) {
  await page.getByRole("link", { name: /^Labels/ }).click();
  await page.getByLabel("New label").fill(label);
  await page.getByRole("button", { name: "Create label" }).click();
  await expect(page.getByRole("checkbox", { name: label })).toBeChecked();
  await waitForSave(page);
}

/** Overview → Schedule; ends on the list. */
export async function schedule(page: Page) {
  await page.getByRole("link", { name: /^Overview/ }).click();
  await expect(page.getByText("Everything is ready.")).toBeVisible();
  await page.getByRole("button", { name: "Schedule" }).click();
  await expect(page).toHaveURL(/\/campaigns$/);
  await expect(toasts(page)).toContainText("scheduled");
}

/** Where confirmations appear. */
export function toasts(page: Page) {
  return page.getByRole("region", { name: "Notifications" });
}

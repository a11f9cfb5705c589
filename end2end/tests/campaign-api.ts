import type { APIRequestContext } from "@playwright/test";
import { expect } from "./fixtures";

// Campaigns built through the API, for tests about what the app shows of them (not about the
// wizard): scheduled on the sandbox's "Win-back (US)" ad set.

const US = "act_100000000000001";

export const nextYear = new Date().getUTCFullYear() + 1;

/** Every day at `time` in `zone`, from 1 January next year: never due while a test runs. */
export const dailyFromNewYear = (zone: string, time: string) => ({
  time_zone: zone,
  kind: "recurring",
  repeat: { every: "days", interval: 1 },
  time,
  start_date: `${nextYear}-01-01`,
  end: { kind: "never" },
});

/** Creates and publishes a campaign whose audience is everyone with `Cohort` = `cohort`. */
export async function publishedCampaign(
  request: APIRequestContext,
  name: string,
  schedule: object,
  cohort = "nobody",
): Promise<{ id: number }> {
  const fbCampaigns = await (await request.get(`/api/facebook/ad-accounts/${US}/campaigns`)).json();
  const fbCampaign = fbCampaigns[1];
  const adSet = (await (await request.get(`/api/facebook/campaigns/${fbCampaign.id}/adsets`)).json())[0].id;
  const res = await request.post("/api/campaigns", {
    data: {
      name,
      schedule,
      audience: {
        kind: "group",
        combine: "all_of",
        rules: [{ kind: "user_property", property: "Cohort", condition: { type: "text", op: "equals", value: cohort } }],
      },
      target: { ad_account_id: US, campaign_id: fbCampaign.id, ad_set_id: adSet },
    },
  });
  expect(res.status(), await res.text()).toBe(201);
  const created = await res.json();
  const published = await request.post(`/api/campaigns/${created.id}/publish`);
  expect(published.status(), await published.text()).toBe(200);
  return created;
}

/** Three profiles with e-mails (so Facebook can match them) in `cohort`. */
export async function uploadCohort(request: APIRequestContext, cohort: string) {
  const d = [1, 2, 3].map((i) => ({
    type: "profile",
    identity: `${cohort}-${i}`,
    profileData: { Email: `${cohort}-${i}@example.com`, Cohort: cohort },
  }));
  const res = await request.post("/api/profiles/import", { data: { d } });
  expect(res.status()).toBe(200);
  expect((await res.json()).status).toBe("success");
}

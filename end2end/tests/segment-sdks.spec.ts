import { Analytics as SegmentAnalytics } from "@segment/analytics-node";
import RudderAnalytics from "@rudderstack/rudder-sdk-node";
import type { APIRequestContext } from "@playwright/test";
import { test, expect } from "./fixtures";

// Segment's tracking API proven with the official clients, not only curl: the npm packages an
// application already instrumented with Segment or RudderStack uses, pointed at this server with
// a write key (an API key an admin creates), send identify, track and page calls; what arrives
// is read back through the app's own API (profiles, match keys, events, the Data page) and a
// segment then matches.

const unique = Date.now().toString(36);

async function writeKey(request: APIRequestContext, name: string): Promise<string> {
  const res = await request.post("/api/api-keys", { data: { name } });
  expect(res.status()).toBe(201);
  return (await res.json()).secret;
}

async function profile(request: APIRequestContext, q: string) {
  const res = await request.get(`/api/profiles?q=${encodeURIComponent(q)}`);
  expect(res.status()).toBe(200);
  return (await res.json()) as Array<{ identity: string; email?: string; phone?: string }>;
}

async function eventCount(request: APIRequestContext, name: string): Promise<number> {
  const data = await (await request.get("/api/data")).json();
  const row = data.events_by_name.find((e: { name: string }) => e.name === name);
  return row ? row.count : 0;
}

async function segmentStored(request: APIRequestContext): Promise<number> {
  const data = await (await request.get("/api/data")).json();
  const source = data.sources.find((s: { source: string }) => s.source === "segment_api");
  return source ? source.stored : 0;
}

async function reach(request: APIRequestContext, city: string, event: string): Promise<string[]> {
  const res = await request.post("/api/segments/estimate", {
    data: {
      segment: {
        kind: "group",
        combine: "all_of",
        rules: [
          { kind: "user_property", property: "address.city", condition: { type: "text", op: "equals", value: city } },
          { kind: "event", did: true, event, window: { kind: "last_days", days: 7 } },
        ],
      },
    },
  });
  expect(res.status()).toBe(200);
  const body = await res.json();
  return body.sample.map((s: { identity: string }) => s.identity).sort();
}

test("@segment/analytics-node's identify, track and page arrive as profiles, match keys and events", async ({
  request,
  baseURL,
}) => {
  const key = await writeKey(request, `segment-sdk-${unique}`);
  const storedBefore = await segmentStored(request);
  const city = `Pune${unique}`;
  const event = `Order Completed ${unique}`;
  const analytics = new SegmentAnalytics({ writeKey: key, host: baseURL!, flushAt: 3, maxRetries: 1 });
  const errors: unknown[] = [];
  analytics.on("error", (err) => errors.push(err));
  for (const i of [1, 2]) {
    analytics.identify({
      userId: `seg-${i}-${unique}`,
      traits: {
        email: `Seg${i}.${unique}@Example.com`,
        phone: `+1 415 555 010${i}`,
        firstName: "Ann",
        plan: "pro",
        address: { city: i === 1 ? city : "Delhi", country: "IN" },
      },
    });
    analytics.track({
      userId: `seg-${i}-${unique}`,
      event,
      properties: { total: 30 * i, currency: "EUR" },
    });
  }
  analytics.page({ anonymousId: `anon-${unique}`, name: "Pricing", properties: { path: "/pricing" } });
  // A visitor who signs up later: the identify links the anonymous page view to the user.
  analytics.identify({ userId: `seg-3-${unique}`, anonymousId: `anon-${unique}`, traits: { plan: "free" } });
  await analytics.closeAndFlush({ timeout: 10_000 });
  expect(errors).toEqual([]);

  const found = await profile(request, `seg1.${unique}@example.com`);
  expect(found.map((p) => p.identity)).toEqual([`seg-1-${unique}`]);
  expect(found[0].email).toContain("@example.com");
  expect(found[0].phone).toBe("+1•••••••101");
  expect(await eventCount(request, event)).toBe(2);
  expect(await eventCount(request, "Page Viewed")).toBeGreaterThanOrEqual(1);
  expect((await profile(request, `anonymous:anon-${unique}`)).length).toBe(0);
  expect((await profile(request, `seg-3-${unique}`)).length).toBe(1);
  expect(await reach(request, city, event)).toEqual([`seg-1-${unique}`]);

  // Six messages sent, six stored, and the Data page says so.
  expect((await segmentStored(request)) - storedBefore).toBe(6);
});

test("@rudderstack/rudder-sdk-node's batches (gzipped) arrive the same way", async ({ request, baseURL }) => {
  const key = await writeKey(request, `rudder-sdk-${unique}`);
  const city = `Goa${unique}`;
  const event = `Product Viewed ${unique}`;
  const errors: unknown[] = [];
  // gzip is the SDK's default: the server must take gzipped batches.
  const client = new RudderAnalytics(key, {
    dataPlaneUrl: baseURL!,
    flushAt: 2,
    flushInterval: 200,
    retryCount: 0,
    errorHandler: (err) => errors.push(err),
  });
  client.identify({
    userId: `rud-1-${unique}`,
    traits: { email: `rud1.${unique}@example.com`, gender: "female", address: { city } },
  });
  client.track({ userId: `rud-1-${unique}`, event, properties: { sku: "A-1", price: 12.5 } });
  client.track({ userId: `rud-1-${unique}`, event, properties: { sku: "A-2", price: 20 } });
  client.identify({ userId: `rud-2-${unique}`, traits: { email: `rud2.${unique}@example.com`, address: { city } } });
  await client.flush();
  expect(errors).toEqual([]);

  await expect.poll(() => eventCount(request, event)).toBe(2);
  const found = await profile(request, `rud1.${unique}@example.com`);
  expect(found.map((p) => p.identity)).toEqual([`rud-1-${unique}`]);
  expect(await reach(request, city, event)).toEqual([`rud-1-${unique}`]);
});

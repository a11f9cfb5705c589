import { test, expect } from "./fixtures";

// How soon a first visit shows the campaign list (issue 19's budget: within 1 s on our machine).
// This is a measurement, printed with the suite's output and attached to the test's report, not an
// assertion: a loaded machine must not fail the suite. Each visit is a new browser context, so
// nothing is cached: every file of the first visit is downloaded, compiled and run.
//
// The figures, all in ms from the start of the navigation (performance.timeOrigin):
// - first contentful paint: the browser's `paint` entry (the shell, or "Loading campaigns…");
// - first row: the first frame painted after the list's first campaign reached the page (a
//   `requestAnimationFrame` that sees the row, then the task after that frame). The page also
//   leaves a `campaign-list:first-row` performance mark and measure, which show in a Chromium
//   performance trace of the page;
// - app.wasm: when the main module's download ended (resource timing).

const VISITS = 3;

type Figures = { fcp: number | null; firstRow: number; wasmEnd: number | null; wasmKb: number | null };

test("the campaign list's first meaningful paint is measured and reported", async ({ browser, request, baseURL }, testInfo) => {
  const name = `First paint ${Date.now().toString(36)}`;
  expect((await request.post("/api/campaigns", { data: { name } })).status()).toBe(201);
  const storageState = await request.storageState();

  const visits: Figures[] = [];
  for (let i = 0; i < VISITS; i++) {
    const context = await browser.newContext({ baseURL, storageState });
    const page = await context.newPage();
    await page.addInitScript((campaign: string) => {
      const w = window as unknown as { __firstRow?: number };
      const seen = () =>
        [...document.querySelectorAll('[aria-label="Campaign list"] a')].some((a) => a.textContent?.trim() === campaign);
      const observer = new MutationObserver(() => {
        if (!seen()) return;
        observer.disconnect();
        // The frame that paints the row, then the first task after it.
        requestAnimationFrame(() =>
          setTimeout(() => {
            w.__firstRow = performance.now();
            performance.mark("campaign-list:first-row");
            performance.measure("campaign-list:navigation-to-first-row", { start: 0, end: "campaign-list:first-row" });
          }, 0),
        );
      });
      observer.observe(document, { childList: true, subtree: true, characterData: true });
    }, name);
    await page.goto("/campaigns");
    await expect(page.getByRole("region", { name: "Campaign list" }).getByRole("link", { name, exact: true })).toBeVisible();
    await page.waitForFunction(() => (window as unknown as { __firstRow?: number }).__firstRow !== undefined);
    visits.push(
      await page.evaluate(() => {
        const fcp = performance.getEntriesByName("first-contentful-paint")[0];
        const wasm = (performance.getEntriesByType("resource") as PerformanceResourceTiming[]).find((r) =>
          r.name.endsWith("/pkg/app_bg.wasm"),
        );
        return {
          fcp: fcp ? fcp.startTime : null,
          firstRow: (window as unknown as { __firstRow: number }).__firstRow,
          wasmEnd: wasm ? wasm.responseEnd : null,
          wasmKb: wasm && wasm.encodedBodySize ? wasm.encodedBodySize / 1024 : null,
        };
      }),
    );
    await context.close();
  }

  const ms = (n: number | null) => (n === null ? "n/a" : `${Math.round(n)} ms`);
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const lines = visits.map(
    (v, i) =>
      `  visit ${i + 1}: first contentful paint ${ms(v.fcp)}, app_bg.wasm downloaded at ${ms(v.wasmEnd)}` +
      `${v.wasmKb === null ? "" : ` (${v.wasmKb.toFixed(1)} KB on the wire)`}, first row painted at ${ms(v.firstRow)}`,
  );
  const summary = `Campaign list, first meaningful paint (first row, cold cache, median of ${VISITS}): ${Math.round(
    median(visits.map((v) => v.firstRow)),
  )} ms (budget 1000 ms; reported, not asserted)`;
  console.log([summary, ...lines].join("\n"));
  testInfo.annotations.push({ type: "first meaningful paint", description: summary });
  await testInfo.attach("first-paint.json", { body: JSON.stringify(visits, null, 2), contentType: "application/json" });
});

import type { Page } from "@playwright/test";
import { test, expect, ready } from "./fixtures";
import { PROXY, drawnSeries, liveService, startUpstream } from "./traffic";

/** Opens `url` until `check` passes (the recorder ships within seconds). */
async function openUntil(page: Page, url: string, js: boolean, check: () => Promise<void>) {
  await expect(async () => {
    await page.goto(url);
    await ready(page, js);
    await check();
  }).toPass({ timeout: 25_000, intervals: [1_000, 2_000] });
}

/** With JavaScript every chart is drawn (a canvas, the expected series); without it
 *  the tables carry the numbers. */
async function chartsDrawn(page: Page, js: boolean, expected: Record<string, number>) {
  for (const [id, series] of Object.entries(expected)) {
    const figure = page.getByTestId(`chart-${id}`);
    await expect(figure).toBeVisible();
    if (js) {
      await expect(figure.locator(`#chart-${id} canvas`).first()).toBeAttached();
      await expect.poll(() => drawnSeries(page, id)).toBe(series);
    } else {
      await expect(figure.locator(`#chart-${id}`)).toBeHidden();
      await expect(figure.locator("table")).toBeVisible();
    }
  }
}

test.describe("analytics dashboards", () => {
  test("traffic through the proxy shows on the package, version and Service Hub", async ({
    page,
    api,
    unique,
    js,
    consoleErrors,
    checkA11y,
  }) => {
    test.setTimeout(120_000);
    const upstream = await startUpstream();
    try {
      // A package with a live version: an implementation and a route in `default`.
      const display = `Dash ${unique}`;
      const { pkg, version, prefix, route: routeName } = await liveService(api, upstream, display, `dash-${unique}`);

      // 12 × 200 and 3 × 404 from the upstream (the first 200 was counted once the data
      // plane served the route), and 2 × Portico's own no-route 404, which are not the
      // package's.
      for (const status of [...Array(11).fill(200), 404, 404, 404]) {
        expect((await fetch(`${PROXY}${prefix}/status/${status}`)).status).toBe(status);
      }
      for (let i = 0; i < 2; i++) {
        expect((await fetch(`${PROXY}/nowhere-${unique}/${i}`)).status).toBe(404);
      }

      // The package dashboard: tiles, three charts (one version; 2xx and 4xx; p50, p95,
      // p99) or their tables, and the CSV export.
      const packageUrl = `/service-hub/${pkg.key}`;
      await openUntil(page, packageUrl, js, async () => {
        await expect(page.getByTestId("tile-requests").locator(".tile-value")).toHaveText("15", { timeout: 1_000 });
      });
      await expect(page.getByRole("heading", { level: 2, name: "Analytics" })).toBeVisible();
      await expect(page.getByTestId("tile-error-rate").locator(".tile-value")).toHaveText("20.0 %");
      await expect(page.getByTestId("tile-latency").locator(".tile-value")).toHaveText(/\d ms$/);
      await expect(page.getByRole("navigation", { name: "Time frame" }).getByRole("link", { name: "24h" })).toHaveAttribute(
        "aria-current",
        "true",
      );
      await chartsDrawn(page, js, { traffic: 1, status: 2, latency: 3 });
      if (!js) {
        const traffic = page.getByTestId("chart-traffic").locator("table");
        await expect(traffic.locator("thead th").nth(1)).toHaveText("v1");
        await expect(traffic.locator("tfoot td")).toHaveText(["15"]);
        const status = page.getByTestId("chart-status").locator("table");
        await expect(status.locator("thead th")).toHaveText(["Time", "2xx", "4xx"]);
        await expect(status.locator("tfoot td")).toHaveText(["12", "3"]);
      } else {
        // The numbers are one click away (and always there for screen readers).
        await page.getByTestId("chart-status").getByRole("button", { name: "Show table" }).click();
        await expect(page.getByTestId("chart-status").locator("tfoot td")).toHaveText(["12", "3"]);
      }
      await checkA11y();
      const csv = await page.getByRole("link", { name: /Download CSV/ }).getAttribute("href");
      expect(csv).toContain(`package=${pkg.id}`);
      const exported = await api.get(csv!);
      expect(exported.ok()).toBe(true);
      expect(await exported.text()).toContain("request_count");

      // Another time frame is a plain link; the selector says which one is on.
      await page.getByRole("navigation", { name: "Time frame" }).getByRole("link", { name: "15m" }).click();
      await expect(page).toHaveURL(/frame=15m/);
      await ready(page, js);
      await expect(page.getByTestId("tile-requests").locator(".tile-value")).toHaveText("15");
      await expect(page.getByRole("navigation", { name: "Time frame" }).getByRole("link", { name: "15m" })).toHaveAttribute(
        "aria-current",
        "true",
      );
      // Local time: the browser's zone with JavaScript; UTC, and saying so, without.
      await page.getByRole("navigation", { name: "Time zone" }).getByRole("link", { name: "Local" }).click();
      await expect(page).toHaveURL(/tz=local/);
      await ready(page, js);
      if (js) {
        await expect(page.getByTestId("zone-note")).toHaveText(/^Times in [A-Za-z_\/]+\.$/);
        await chartsDrawn(page, js, { traffic: 1, status: 2, latency: 3 });
      } else {
        await expect(page.getByTestId("zone-note")).toHaveText("Local time needs JavaScript: times are in UTC.");
      }

      // The version dashboard: the same, by route, and the per-route table.
      await openUntil(page, `/service-hub/${pkg.key}/versions/${version.id}`, js, async () => {
        await expect(page.getByTestId("tile-requests").locator(".tile-value")).toHaveText("15", { timeout: 1_000 });
      });
      await expect(page.getByTestId("tile-error-rate").locator(".tile-value")).toHaveText("20.0 %");
      const row = page.getByTestId("route-table").locator(`tr[data-route="${routeName}"]`);
      await expect(row.locator('[data-col="requests"]')).toHaveText("15");
      await expect(row.locator('[data-col="error-rate"]')).toHaveText("20.0 %");
      await expect(row.locator('[data-col="p50"]')).toHaveText(/ms$/);
      await expect(row.locator('[data-col="p99"]')).toHaveText(/ms$/);
      const routeCsv = await row.getByRole("link", { name: `CSV of route ${routeName}` }).getAttribute("href");
      expect(routeCsv).toContain("route=");
      expect((await api.get(routeCsv!)).ok()).toBe(true);
      await chartsDrawn(page, js, { traffic: 1, status: 2, latency: 3 });
      await checkA11y();

      // The Service Hub card: last 7 days.
      await page.goto(`/service-hub?q=${encodeURIComponent(display)}`);
      await ready(page, js);
      const card = page.locator(".package-card").filter({ hasText: display });
      await expect(card.getByTestId("card-requests")).toHaveText("15");
      await expect(card.getByTestId("card-error-rate")).toHaveText("20.0 %");
      // The hub draws no chart, so it does not load ECharts.
      expect(await page.locator('script[src="/vendor/echarts.min.js"]').count()).toBe(0);
    } finally {
      await upstream.close();
    }
    void consoleErrors;
  });

  test("a package without traffic says so", async ({ page, api, unique, js, consoleErrors }) => {
    const display = `Quiet ${unique}`;
    const pkg = await (await api.post("/api/v1/service-packages", { data: { display_name: display } })).json();
    await page.goto(`/service-hub/${pkg.key}`);
    await ready(page, js);
    await expect(
      page.getByText("No traffic in this time frame. Requests through the gateway appear here within 15 seconds."),
    ).toBeVisible();
    await expect(page.getByTestId("tile-requests").locator(".tile-value")).toHaveText("0");
    await page.goto(`/service-hub?q=${encodeURIComponent(display)}`);
    await ready(page, js);
    await expect(page.locator(".package-card").filter({ hasText: display }).getByTestId("card-traffic")).toHaveText(
      "No traffic yet",
    );
    void consoleErrors;
  });

  test.describe("in Berlin", () => {
    test.use({ timezoneId: "Europe/Berlin" });

    test("local time is the browser's zone, told to the server on the first visit", async ({
      page,
      api,
      unique,
      js,
      consoleErrors,
    }) => {
      const pkg = await (await api.post("/api/v1/service-packages", { data: { display_name: `Berlin ${unique}` } })).json();
      // A fresh browser opens a local-time link: the server does not know the zone yet;
      // with JavaScript the page tells it (a cookie) and is rendered again in it.
      await page.goto(`/service-hub/${pkg.key}?tz=local`);
      await ready(page, js);
      const note = page.getByTestId("zone-note");
      if (js) {
        await expect(note).toHaveText("Times in Europe/Berlin.");
        const zone = page.getByRole("navigation", { name: "Time zone" });
        await expect(zone.getByRole("link", { name: "Local" })).toHaveAttribute("aria-current", "true");
        await zone.getByRole("link", { name: "UTC" }).click();
        await expect(note).toHaveText("Times in UTC.");
      } else {
        await expect(note).toHaveText("Local time needs JavaScript: times are in UTC.");
      }
      void consoleErrors;
    });
  });
});

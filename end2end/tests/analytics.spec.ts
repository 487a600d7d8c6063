import * as http from "node:http";
import type { AddressInfo } from "node:net";
import type { Page } from "@playwright/test";
import { test, expect, ready } from "./fixtures";

// `make e2e` starts Portico with `--proxy-listen default=127.0.0.1:3918`: the embedded
// data plane of the `default` runtime group answers there, and flushes its analytics
// every 5 seconds.
const PROXY = process.env.PORTICO_PROXY_URL ?? "http://127.0.0.1:3918";

type Upstream = { url: string; close: () => Promise<void> };

/** An upstream that answers with the status its path ends with: `/status/404` → 404. */
async function startUpstream(): Promise<Upstream> {
  const server = http.createServer((req, res) => {
    const status = Number((req.url ?? "").match(/\/status\/(\d{3})$/)?.[1] ?? 200);
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify({ path: req.url }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Opens `url` until `check` passes (the recorder ships within seconds). */
async function openUntil(page: Page, url: string, js: boolean, check: () => Promise<void>) {
  await expect(async () => {
    await page.goto(url);
    await ready(page, js);
    await check();
  }).toPass({ timeout: 25_000, intervals: [1_000, 2_000] });
}

/** How many series the ECharts instance in `#chart-{id}` draws (-1 before it exists). */
async function drawnSeries(page: Page, id: string): Promise<number> {
  return page.evaluate((id) => {
    const el = document.getElementById(`chart-${id}`);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const echarts = (window as any).echarts;
    const chart = el && echarts ? echarts.getInstanceByDom(el) : undefined;
    return chart ? (chart.getOption().series as unknown[]).length : -1;
  }, id);
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
      const pkg = await (await api.post("/api/v1/service-packages", { data: { display_name: display } })).json();
      const groups = await (await api.get("/api/v1/runtime-groups?name=default")).json();
      const version = await (
        await api.post(`/api/v1/service-packages/${pkg.id}/versions`, {
          data: { name: "v1", runtime_group_id: groups.data[0].id },
        })
      ).json();
      const base = `/api/v1/service-packages/${pkg.id}/versions/${version.id}`;
      expect((await api.put(`${base}/implementation`, { data: { url: upstream.url } })).ok()).toBe(true);
      const prefix = `/dash-${unique}`;
      const routeName = `dash-${unique}`;
      expect((await api.post(`${base}/routes`, { data: { name: routeName, paths: [prefix] } })).ok()).toBe(true);

      // 12 × 200 and 3 × 404 from the upstream (the first 200 once the data plane serves
      // the route; misses before that belong to no package), and 2 × Portico's own
      // no-route 404, which are not the package's.
      await expect
        .poll(async () => (await fetch(`${PROXY}${prefix}/status/200`)).status, {
          timeout: 10_000,
          intervals: [100, 200, 300],
        })
        .toBe(200);
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
});

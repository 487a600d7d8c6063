import * as http from "node:http";
import type { AddressInfo } from "node:net";
import type { APIRequestContext, Page } from "@playwright/test";
import { expect } from "./fixtures";

// `make e2e` starts Portico with `--proxy-listen default=127.0.0.1:3918`: the embedded
// data plane of the `default` runtime group answers there, and flushes its analytics
// every 5 seconds.
export const PROXY = process.env.PORTICO_PROXY_URL ?? "http://127.0.0.1:3918";

export type Upstream = { url: string; close: () => Promise<void> };

/** An upstream that answers with the status its path ends with: `/status/404` → 404. */
export async function startUpstream(): Promise<Upstream> {
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

export type LiveService = {
  pkg: { id: string; key: string };
  version: { id: string };
  /** The route's path prefix, `/{route}`. */
  prefix: string;
  /** The route's name. */
  route: string;
};

/** A package `display` with a live version v1 in `default`: an implementation that
 *  points at `upstream` and a route named `route` on the path `/{route}`. Resolves
 *  once the data plane serves it, after one 200 through the proxy (misses before that
 *  belong to no package). */
export async function liveService(
  api: APIRequestContext,
  upstream: Upstream,
  display: string,
  route: string,
): Promise<LiveService> {
  const pkg = await (await api.post("/api/v1/service-packages", { data: { display_name: display } })).json();
  const groups = await (await api.get("/api/v1/runtime-groups?name=default")).json();
  const version = await (
    await api.post(`/api/v1/service-packages/${pkg.id}/versions`, {
      data: { name: "v1", runtime_group_id: groups.data[0].id },
    })
  ).json();
  const base = `/api/v1/service-packages/${pkg.id}/versions/${version.id}`;
  expect((await api.put(`${base}/implementation`, { data: { url: upstream.url } })).ok()).toBe(true);
  const prefix = `/${route}`;
  expect((await api.post(`${base}/routes`, { data: { name: route, paths: [prefix] } })).ok()).toBe(true);
  await expect
    .poll(async () => (await fetch(`${PROXY}${prefix}/status/200`)).status, {
      timeout: 10_000,
      intervals: [100, 200, 300],
    })
    .toBe(200);
  return { pkg, version, prefix, route };
}

/** How many series the ECharts instance in `#chart-{id}` draws (-1 before it exists). */
export async function drawnSeries(page: Page, id: string): Promise<number> {
  return page.evaluate((id) => {
    const el = document.getElementById(`chart-${id}`);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const echarts = (window as any).echarts;
    const chart = el && echarts ? echarts.getInstanceByDom(el) : undefined;
    return chart ? (chart.getOption().series as unknown[]).length : -1;
  }, id);
}

import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { test, expect, ready } from "./fixtures";

// `make e2e` starts Portico with `--proxy-listen default=127.0.0.1:3918`: the embedded
// data plane of the `default` runtime group answers there.
const PROXY = process.env.PORTICO_PROXY_URL ?? "http://127.0.0.1:3918";

type Upstream = { url: string; seen: string[]; close: () => Promise<void> };

/** A tiny upstream on a free loopback port that answers JSON with the path it got. */
async function startUpstream(): Promise<Upstream> {
  const seen: string[] = [];
  const server = http.createServer((req, res) => {
    seen.push(req.url ?? "");
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ path: req.url, method: req.method }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** What the proxy answers for `path`: the upstream's path, or the status / failure. */
async function throughProxy(path: string): Promise<string> {
  try {
    const r = await fetch(`${PROXY}${path}`);
    if (r.status !== 200) return `status ${r.status}`;
    const body = (await r.json()) as { path?: string };
    return body.path ?? "no path";
  } catch (e) {
    return `unreachable: ${String(e)}`;
  }
}

test.describe("version gateway", () => {
// The rejected implementation form answers 422 on purpose.
test.use({ allowHttpErrors: true });

test("a version goes live: implementation, route, and a request through the proxy", async ({
  page,
  consoleErrors,
  checkA11y,
  unique,
  js,
}) => {
  const upstream = await startUpstream();
  try {
    // A package and a version in the default runtime group, through the UI.
    await page.goto("/service-hub/new");
    await ready(page, js);
    const key = `gw-${unique}`;
    await page.getByLabel("Display name").fill(`Gw ${unique}`);
    await page.getByRole("button", { name: "Create" }).click();
    await expect(page).toHaveURL(new RegExp(`/service-hub/${key}$`));
    await page.goto(`/service-hub/${key}/versions/new`);
    await ready(page, js);
    await page.getByLabel("Version name").fill("v1");
    await page.getByLabel("Runtime group").selectOption({ label: "default" });
    await page.getByRole("button", { name: "Create version" }).click();
    await expect(page).toHaveURL(new RegExp(`/service-hub/${key}/versions/[0-9a-f-]{36}$`));
    const versionPath = new URL(page.url()).pathname;
    await ready(page, js);
    await expect(page.getByRole("heading", { level: 2, name: "Gateway" })).toBeVisible();
    await expect(page.getByTestId("gateway-live")).toHaveText("Not live");
    await expect(page.getByText("an implementation (the upstream URL)")).toBeVisible();

    // A bad upstream is explained on its field; then the real one is saved.
    const url = page.getByLabel("Upstream URL");
    if (js) {
      await url.fill("ftp://nope");
      await expect(page.getByText("The protocol must be http or https")).toBeVisible();
    }
    await url.fill(`${upstream.url}/base`);
    await page.getByLabel("Read timeout (ms)").fill("soon");
    await page.getByRole("button", { name: "Set implementation" }).click();
    await expect(page.getByText('A whole number is expected here, not "soon".')).toBeVisible();
    // The page comes back at the refused field, with the focus on it (also without JS).
    await expect(page.getByLabel("Read timeout (ms)")).toBeFocused();
    await expect(page.getByLabel("Read timeout (ms)")).toBeInViewport();
    await expect(page.getByLabel("Upstream URL")).toHaveValue(`${upstream.url}/base`);
    await page.getByLabel("Read timeout (ms)").fill("30000");
    await page.getByRole("button", { name: "Set implementation" }).click();
    await expect(page.getByTestId("upstream-url")).toHaveText(`${upstream.url}/base`);
    await expect(page.getByText("30000 ms")).toBeVisible();
    await ready(page, js);

    // A route: its rules are checked while typing (with JavaScript), then it is saved.
    const prefix = `/gw-${unique}`;
    const paths = page.locator("#route-paths");
    if (js) {
      await paths.fill("no-slash");
      await expect(page.locator("#route-paths-error")).toContainText('"no-slash": Path must start with `/`');
      await page.locator("#route-name").fill("bad name");
      await expect(page.locator("#route-name-error")).toContainText("letters, digits and . - _ ~ only");
      await expect(page.getByRole("heading", { level: 2, name: "Routes" })).toBeVisible();
    } else {
      // Without JavaScript the server says the same after the post, and keeps the input.
      await page.locator("#route-name").fill("bad name");
      await paths.fill(prefix);
      await page.getByRole("button", { name: "Add route" }).click();
      await expect(page.locator("#route-name-error")).toContainText("letters, digits and . - _ ~ only");
      await expect(page.locator("#route-paths")).toHaveValue(prefix);
    }
    await page.locator("#route-name").fill(`orders-${unique}`);
    await page.locator("#route-methods").fill("GET, POST");
    await paths.fill(prefix);
    await page.getByRole("button", { name: "Add route" }).click();
    const proxyHost = new URL(PROXY).host;
    const curl = page.getByTestId("route-curl");
    await expect(curl).toContainText(`${proxyHost}${prefix}`);
    await expect(page.getByRole("cell", { name: `orders-${unique}`, exact: true })).toBeVisible();
    expect(new URL(page.url()).pathname).toBe(versionPath);
    // The form is ready for the next route.
    await expect(page.locator("#route-name")).toHaveValue("");
    await expect(page.locator("#route-paths")).toHaveValue("");

    // The embedded data plane picks the change up: the request reaches the upstream
    // with the route's path stripped and the upstream's path in front.
    await expect
      .poll(() => throughProxy(`${prefix}/hello`), { timeout: 5_000, intervals: [100, 200, 300] })
      .toBe("/base/hello");
    expect(upstream.seen).toContain("/base/hello");

    // The dashboard now says it is live and shows how to call it.
    await page.goto(versionPath);
    await ready(page, js);
    await expect(page.getByTestId("gateway-live")).toHaveText("Live");
    await expect(page.getByTestId("route-curl")).toContainText(`curl -i`);
    await expect(page.getByTestId("route-curl")).toContainText(`${proxyHost}${prefix}`);
    if (js) {
      await expect(page.getByRole("button", { name: `Copy the curl command of route orders-${unique}` })).toBeVisible();
    } else {
      await expect(page.getByRole("button", { name: `Copy the curl command of route orders-${unique}` })).toBeHidden();
    }
    await checkA11y();

    // Edit the route: only GET now; the form comes prefilled (whatever was typed in the
    // new-route form before).
    await page.locator("#route-name").fill("half-typed");
    await page.getByRole("link", { name: `Edit route orders-${unique}` }).click();
    await ready(page, js);
    await expect(page.getByRole("heading", { name: `Edit route orders-${unique}` })).toBeVisible();
    await expect(page.locator("#route-name")).toHaveValue(`orders-${unique}`);
    await expect(page.locator("#route-paths")).toHaveValue(prefix);
    await expect(page.locator("#route-methods")).toHaveValue("GET, POST");
    await page.locator("#route-methods").fill("GET");
    await page.getByRole("button", { name: "Save route" }).click();
    await expect(page.getByRole("heading", { name: "New route" })).toBeVisible();
    await expect(page.getByRole("row", { name: new RegExp(`orders-${unique}`) }).getByText("POST")).toHaveCount(0);
    await expect
      .poll(async () => (await fetch(`${PROXY}${prefix}/x`, { method: "POST" })).status, { timeout: 5_000 })
      .toBe(404);

    // Deleting the route takes the version off the proxy again.
    await ready(page, js);
    await page.getByRole("button", { name: `Delete route orders-${unique}` }).click();
    await expect(page.getByText("No routes yet")).toBeVisible();
    await expect(page.getByTestId("gateway-live")).toHaveText("Not live");
    await expect.poll(() => throughProxy(`${prefix}/hello`), { timeout: 5_000 }).toBe("status 404");
  } finally {
    await upstream.close();
  }
  void consoleErrors;
});
});

test("a data plane token is shown once, listed, and revoked; the embedded node is listed", async ({
  page,
  consoleErrors,
  checkA11y,
  unique,
  js,
}) => {
  await page.goto("/runtime-groups/default");
  await ready(page, js);
  const section = page.locator("#data-planes");
  await expect(section.getByRole("heading", { name: "Data planes" })).toBeVisible();
  await expect(section.getByTestId("proxy-listen")).toHaveText(new URL(PROXY).host);
  await expect(section.locator(".gw-tag", { hasText: "embedded" }).first()).toBeVisible();
  await expect(section.getByText("Connected", { exact: true }).first()).toBeVisible();

  const name = `edge ${unique}`;
  await section.getByLabel("Token name").fill(name);
  await section.getByRole("button", { name: "Create token" }).click();
  const secret = section.getByTestId("new-dp-token");
  await expect(secret).toHaveText(/^pdp_/);
  const value = (await secret.textContent()) ?? "";
  await expect(section.locator("#dp-command")).toContainText(`--token ${value}`);
  await expect(section.locator("#dp-command")).toContainText("--runtime-group default");
  await expect(section.getByRole("cell", { name, exact: true })).toBeVisible();
  await expect(section.getByLabel("Token name")).toHaveValue("");
  await checkA11y();

  // Shown once: a new visit does not show it again.
  await page.reload();
  await ready(page, js);
  await expect(section.getByRole("cell", { name, exact: true })).toBeVisible();
  await expect(section.getByTestId("new-dp-token")).toHaveCount(0);

  await section.getByRole("button", { name: `Revoke ${name}` }).click();
  await expect(section.getByRole("cell", { name, exact: true })).toHaveCount(0);
  void consoleErrors;
});

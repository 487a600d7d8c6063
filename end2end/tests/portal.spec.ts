import { test, expect, ready } from "./fixtures";

/** XSS payloads of the usual cheat sheets; none may run or become live markup. */
const PAYLOADS = [
  "<script>alert('script')</script>",
  "<img src=x onerror=alert('img')>",
  "<svg><script>alert('svg')</script></svg>",
  "<svg onload=alert('svgload')>",
  "[js link](javascript:alert('link'))",
  "[data link](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
  "![data svg](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
  "<!-- <script>alert('comment')</script> -->",
  "[entity](jav&#x61;script:alert('entity'))",
  "<a href=\"javascript:alert('a')\">anchor</a>",
];

const SPEC = (title: string) => `openapi: 3.0.3
info:
  title: ${title}
  version: 2.1.0
  description: "Payments API. <script>alert('spec')</script> [x](javascript:alert('specLink'))"
servers:
  - url: https://api.example.com/v2
tags:
  - name: payments
  - name: refunds
paths:
  /payments:
    get:
      operationId: listPayments
      summary: List payments
      tags: [payments]
      parameters:
        - name: limit
          in: query
          schema: {type: integer, maximum: 100}
      responses:
        '200':
          description: The payments
          content:
            application/json:
              schema:
                type: array
                items: {$ref: '#/components/schemas/Payment'}
              example: [{id: p_1, amount: 100}]
  /refunds:
    post:
      operationId: createRefund
      summary: Refund a payment
      deprecated: true
      tags: [refunds]
      responses:
        '201':
          description: Created
components:
  schemas:
    Payment:
      type: object
      required: [id]
      properties:
        id: {type: string}
        amount: {type: integer}
        parent: {$ref: '#/components/schemas/Payment'}
`;

test("write a page, upload a spec, publish, and read both in the Dev Portal", async ({
  page,
  browser,
  baseURL,
  api,
  consoleErrors,
  checkA11y,
  unique,
  js,
}) => {
  const name = `Payments ${unique}`;
  const pkg = await (await api.post("/api/v1/service-packages", { data: { display_name: name, description: "Take and refund payments." } })).json();
  const groups = await (await api.get("/api/v1/runtime-groups/default")).json();
  const version = await (
    await api.post(`/api/v1/service-packages/${pkg.key}/versions`, {
      data: { name: "v2", runtime_group_id: groups.id, status: "published" },
    })
  ).json();
  let dialogs = 0;
  page.on("dialog", async (d) => {
    dialogs += 1;
    await d.dismiss();
  });

  // Write a published page, with a code block and every payload.
  await page.goto(`/service-hub/${pkg.key}/docs/new`);
  await ready(page, js);
  await page.getByLabel("Title").fill("Overview");
  const content = ["# Overview", "", "```rust", "fn main() { println!(\"hi\"); }", "```", "", ...PAYLOADS.flatMap((p) => [p, ""])].join("\n");
  await page.getByLabel("Content (Markdown)").fill(content);
  if (js) {
    // The live preview renders on the server as you type.
    await expect(page.locator(".markdown.preview h1")).toHaveText("Overview");
    await expect(page.locator(".markdown.preview pre span[class^='hl-']").first()).toBeVisible();
  }
  await page.getByRole("checkbox", { name: /Published \(shown/ }).check();
  await page.getByRole("button", { name: "Create page" }).click();
  await expect(page).toHaveURL(new RegExp(`/docs/overview$`));
  await ready(page, js);

  // Upload the spec from a file on the version dashboard.
  await page.goto(`/service-hub/${pkg.key}/versions/${version.id}`);
  await ready(page, js);
  await page.getByLabel("File (YAML or JSON)").setInputFiles({
    name: "payments.yaml",
    mimeType: "application/yaml",
    buffer: Buffer.from(SPEC(`${name} API`)),
  });
  await page.getByRole("button", { name: "Upload spec" }).click();
  await expect(page.locator(".spec-facts")).toContainText("OpenAPI 3.0.3");
  await ready(page, js);
  const reference = page.locator(".spec-reference");
  await expect(reference.locator("#op-listPayments")).toBeVisible();
  await expect(reference.locator(".spec-deprecated").first()).toBeVisible();
  await checkA11y();

  // A bad spec is refused with its line and column; the stored one stays.
  await page.getByText("Replace the spec").click();
  await page.getByLabel("Or paste it").fill("openapi: 3.0.0\ninfo: [unclosed\n");
  await page.getByRole("button", { name: "Replace spec" }).click();
  await expect(page.locator("#spec-error")).toContainText(/line \d+, column \d+/);
  await expect(reference.locator("#op-listPayments")).toBeVisible();

  // Publish the package.
  await page.goto(`/service-hub/${pkg.key}`);
  await ready(page, js);
  await page.getByRole("button", { name: "Publish to portal" }).click();
  await expect(page.getByRole("button", { name: "Unpublish" })).toBeVisible();

  // An anonymous developer reads both in the portal.
  const visitor = await browser.newContext({ baseURL, javaScriptEnabled: js });
  const dev = await visitor.newPage();
  dev.on("dialog", async (d) => {
    dialogs += 1;
    await d.dismiss();
  });
  await dev.goto(`/portal?q=${encodeURIComponent(name)}`);
  await ready(dev, js);
  await expect(dev).toHaveTitle(/Dev Portal/);
  await dev.getByRole("link", { name }).click();
  await expect(dev).toHaveURL(new RegExp(`/portal/services/${pkg.key}$`));
  await ready(dev, js);
  expect(await dev.locator("link[rel=canonical]").getAttribute("href")).toMatch(new RegExp(`/portal/services/${pkg.key}$`));
  expect(await dev.locator("meta[name=description]").getAttribute("content")).toBe("Take and refund payments.");
  const ref = dev.locator(".spec-reference");
  await expect(ref.locator("#op-listPayments")).toBeVisible();
  await expect(ref.locator("#op-createRefund")).toBeVisible();
  await expect(ref).toContainText("<script>alert('spec')</script>");
  // The tag filter works without JavaScript (plain links).
  await ref.locator(".spec-tags").getByRole("link", { name: "refunds" }).click();
  await expect(dev).toHaveURL(/tag=refunds/);
  await expect(ref.locator("#op-createRefund")).toBeVisible();
  await expect(ref.locator("#op-listPayments")).toHaveCount(0);
  const download = await dev.request.get(`/portal/services/${pkg.key}/versions/v2/spec`);
  expect(download.headers()["content-type"]).toContain("application/yaml");
  expect(await download.text()).toBe(SPEC(`${name} API`));

  await dev.getByRole("link", { name: "Overview" }).click();
  await expect(dev).toHaveURL(new RegExp(`/portal/services/${pkg.key}/docs/overview$`));
  await ready(dev, js);
  const article = dev.locator(".portal-main .markdown");
  await expect(article.getByRole("heading", { level: 1, name: "Overview" })).toBeVisible();
  await expect(article.locator("pre span[class^='hl-']").first()).toBeVisible();
  await expect(article).toContainText("<img src=x onerror=alert('img')>");
  await expect(article.locator("script, svg, iframe, img[onerror]")).toHaveCount(0);
  await expect(article.locator("a[href^='javascript'], a[href^='data:'], img[src^='data:image/svg']")).toHaveCount(0);
  await expect(dev.locator("[onerror], [onload], [onclick]")).toHaveCount(0);
  await visitor.close();
  expect(dialogs, "no script ran").toBe(0);
});

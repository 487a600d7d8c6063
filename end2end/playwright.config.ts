import { defineConfig } from "@playwright/test";

// Debian's Chromium, never a downloaded browser. `cargo leptos end-to-end` starts
// Portico on 127.0.0.1:3000 before these tests run.
const chromium = {
  executablePath: process.env.PORTICO_CHROMIUM ?? "/usr/bin/chromium",
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
};

export default defineConfig({
  testDir: "./tests",
  timeout: 60_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 2,
  retries: 0,
  reporter: [["list"]],
  use: {
    baseURL: process.env.PORTICO_URL ?? "http://127.0.0.1:3000",
    launchOptions: chromium,
    viewport: { width: 1280, height: 800 },
    trace: "off",
  },
  projects: [
    { name: "js", use: { javaScriptEnabled: true } },
    { name: "nojs", use: { javaScriptEnabled: false } },
  ],
});

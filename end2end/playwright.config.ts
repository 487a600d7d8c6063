import { defineConfig } from "@playwright/test";
import { ADMIN_STATE } from "./tests/accounts";

// Debian's Chromium, never a downloaded browser. `make e2e` starts Portico with an
// empty database before these tests run: the `setup` project creates the first admin
// through the first-run screen, and every other test starts signed in as that admin
// (the session saved in ADMIN_STATE), unless it signs in on its own.
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
    { name: "setup", testMatch: /.*\.setup\.ts/, use: { javaScriptEnabled: true } },
    {
      name: "js",
      dependencies: ["setup"],
      testIgnore: /.*\.setup\.ts/,
      use: { javaScriptEnabled: true, storageState: ADMIN_STATE },
    },
    {
      name: "nojs",
      dependencies: ["setup"],
      testIgnore: /.*\.setup\.ts/,
      use: { javaScriptEnabled: false, storageState: ADMIN_STATE },
    },
  ],
});

// Opens a page in headless Chromium (Debian's, driven by playwright-core) and prints the
// text of #result once it leaves "running", then the page's #log.
// Usage: PLAYWRIGHT_CORE=<dir of playwright-core> node demo_result.mjs URL USER_DATA_DIR
import { createRequire } from "node:module";

const { chromium } = createRequire(import.meta.url)(process.env.PLAYWRIGHT_CORE);
const [url, userDataDir] = process.argv.slice(2);
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: "/usr/bin/chromium",
  headless: true,
  // The machine has no network beyond loopback: keep Chromium from reaching out.
  args: [
    "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-quic",
  ],
});
try {
  const page = await context.newPage();
  await page.goto(url);
  await page.waitForFunction(
    () => document.getElementById("result")?.textContent !== "running",
    null,
    { timeout: 120_000 },
  );
  console.log(await page.textContent("#result"));
  console.log(await page.textContent("#log"));
} finally {
  await context.close();
}

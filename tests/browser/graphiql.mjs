// Opens shop's GraphiQL page in a headless Chromium (Debian's /usr/bin/chromium, or
// $CHROMIUM; playwright-core downloads no browser), runs the document the page was given
// in its `query` parameter, and prints as JSON what the result pane shows, together with
// every request that left shop's origin (each one aborted, as if offline) and every
// request of the page that failed. tests/graphiql.rs judges the output.
//
// usage: node graphiql.mjs <page url with ?query=...> <text to wait for> [screenshot.png]
// With GRAPHIQL_HEADERS set, its text is typed into the headers editor first (a token
// stays out of the page's URL, as a user would keep it).
import { chromium } from "playwright-core";

const [pageUrl, expected, screenshot] = process.argv.slice(2);
if (!pageUrl || !expected) {
  console.error("usage: node graphiql.mjs <page url> <expected text> [screenshot.png]");
  process.exit(2);
}
const origin = new URL(pageUrl).origin;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  // Root in a container has no user namespaces for Chromium's sandbox.
  args: ["--no-sandbox"],
});
const report = { result: null, outside: [], failed: [], errors: [] };
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
  // Anything for another host is refused and remembered: the page must not need it.
  await page.route("**/*", (route) => {
    const url = route.request().url();
    if (new URL(url).origin === origin) return route.continue();
    report.outside.push(url);
    return route.abort("internetdisconnected");
  });
  page.on("requestfailed", (request) => {
    report.failed.push(`${request.url()}: ${request.failure()?.errorText}`);
  });
  page.on("response", (response) => {
    if (response.status() >= 400) report.failed.push(`${response.url()}: ${response.status()}`);
  });
  page.on("pageerror", (error) => report.errors.push(String(error)));

  await page.goto(pageUrl, { waitUntil: "load" });
  const headers = process.env.GRAPHIQL_HEADERS;
  if (headers) {
    await page.locator('.graphiql-editor-tools button[data-name="headers"]').click({ timeout: 30_000 });
    await page.locator('section[aria-label="Headers"] .graphiql-editor:not(.hidden) .CodeMirror').click();
    // Inserted, not typed key by key: the editor would close each brace a second time.
    await page.keyboard.insertText(headers);
  }
  await page.locator(".graphiql-execute-button").click({ timeout: 30_000 });
  const result = page.locator(".result-window");
  try {
    await result.filter({ hasText: expected }).waitFor({ timeout: 30_000 });
  } finally {
    report.result = await result.innerText({ timeout: 1_000 }).catch(() => null);
    if (screenshot) await page.screenshot({ path: screenshot });
  }
} catch (error) {
  report.errors.push(String(error));
} finally {
  await browser.close();
}
console.log(JSON.stringify(report));

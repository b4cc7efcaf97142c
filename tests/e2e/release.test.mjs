// CDN-ready releases (issue 16): the bundle under its major version (`/dist/v1/`, the same files
// and headers as `/dist/`), and a page that pins an exact release with Subresource Integrity as
// the embed guide shows: the exact-version loader with `integrity`, the glue's hash in the
// import map. The hashes come from the release's own `integrity.json`; a wrong hash makes the
// browser refuse the file, and the page says so the documented way (no card, `mighty:error`).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { launchBrowser, WidgetPage, BASE_URL } from "./support.mjs";

let browser;
let release;
before(async () => {
  browser = await launchBrowser();
  const response = await fetch(new URL("/dist/v1/integrity.json", BASE_URL));
  assert.equal(response.status, 200, "dist/integrity.json: run `cargo xtask dist`");
  release = await response.json();
});
after(async () => {
  await browser?.close();
});

const glueName = () => Object.keys(release.files).find((name) => release.files[name].role === "glue");

test("/dist/v1/ serves the same files as /dist/, with the same cache policy", async () => {
  for (const [name, cache] of [
    ["mighty.js", "public, max-age=300, must-revalidate"],
    [release.loader, "public, max-age=31536000, immutable"],
    ...Object.keys(release.files).map((name) => [name, "public, max-age=31536000, immutable"]),
  ]) {
    const flat = await fetch(new URL(`/dist/${name}`, BASE_URL));
    const versioned = await fetch(new URL(`/dist/v1/${name}`, BASE_URL));
    assert.equal(versioned.status, 200, name);
    assert.equal(versioned.headers.get("cache-control"), cache, name);
    assert.equal(versioned.headers.get("access-control-allow-origin"), "*", name);
    assert.equal(versioned.headers.get("content-type"), flat.headers.get("content-type"), name);
    assert.deepEqual(Buffer.from(await versioned.arrayBuffer()), Buffer.from(await flat.arrayBuffer()), name);
  }
  // The exact-version loader is the moving one's bytes.
  const moving = await (await fetch(new URL("/dist/v1/mighty.js", BASE_URL))).text();
  const pinned = await (await fetch(new URL(`/dist/v1/${release.loader}`, BASE_URL))).text();
  assert.equal(pinned, moving);
});

test("every listed hash is the SHA-384 of the file served", async () => {
  const { createHash } = await import("node:crypto");
  for (const [name, { integrity }] of Object.entries(release.files)) {
    const bytes = Buffer.from(await (await fetch(new URL(`/dist/v1/${name}`, BASE_URL))).arrayBuffer());
    assert.equal(integrity, `sha384-${createHash("sha384").update(bytes).digest("base64")}`, name);
  }
});

/** A page on the server's origin that pins the release: the guide's two tags. */
function pinnedPage({ loaderIntegrity, glueIntegrity }) {
  const glueUrl = `/dist/v1/${glueName()}`;
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>pinned</title><link rel="icon" href="/www/favicon.svg">
<script type="importmap">${JSON.stringify({ integrity: { [glueUrl]: glueIntegrity } })}</script>
<script type="module" crossorigin="anonymous" src="/dist/v1/${release.loader}" integrity="${loaderIntegrity}"></script>
</head><body>
<div data-mighty="candle-trio" data-mighty-listing="/www/listings/candle-trio.json" data-mighty-eager></div>
</body></html>`;
}

async function openPinned(hashes) {
  await browser.context.route(`${BASE_URL}/e2e/pinned.html`, (route) =>
    route.fulfill({ contentType: "text/html", body: pinnedPage(hashes) }));
  try {
    return await WidgetPage.open(browser.context, "/e2e/pinned.html");
  } finally {
    await browser.context.unroute(`${BASE_URL}/e2e/pinned.html`);
  }
}

const wrongHash = `sha384-${"A".repeat(64)}`;

test("a page pinned to the exact release with SRI mounts the widget", async () => {
  const page = await openPinned({
    loaderIntegrity: release.files[release.loader].integrity,
    glueIntegrity: release.files[glueName()].integrity,
  });
  await page.page.locator("[part=card]").waitFor();
  // What the page loaded: the requests Playwright saw, and the page's own resource timing,
  // which also lists a file the renderer took from its memory cache (another page of the
  // same site in the same process fetched it first: then there is no request event).
  const timed = await page.page.evaluate(() => performance.getEntriesByType("resource").map((entry) => entry.name));
  const loaded = [...page.requests, ...timed];
  assert.ok(loaded.some((url) => url.endsWith(`/dist/v1/${release.loader}`)));
  assert.ok(loaded.some((url) => url.endsWith(`/dist/v1/${glueName()}`)));
  assert.ok(!loaded.some((url) => url.endsWith("/mighty.js")), "the moving URL is never asked for");
  assert.deepEqual(page.consoleErrors, []);
  await page.page.close();
});

test("a loader whose bytes differ from the pinned hash is refused by the browser", async () => {
  const page = await openPinned({ loaderIntegrity: wrongHash, glueIntegrity: release.files[glueName()].integrity });
  await page.page.waitForLoadState("load");
  assert.equal(await page.page.evaluate(() => typeof window.Mighty), "undefined");
  assert.equal(await page.page.locator("[part=card]").count(), 0);
  await page.page.close();
});

test("glue whose bytes differ from the import map's hash is refused: the host keeps its fallback and says why", async () => {
  const page = await openPinned({ loaderIntegrity: release.files[release.loader].integrity, glueIntegrity: wrongHash });
  const [error] = await page.waitForEvents("error", 1);
  assert.equal(error.detail.error.code, "bundle_unavailable");
  assert.equal(error.detail.listing_id, "candle-trio");
  assert.equal(await page.page.locator("[part=card]").count(), 0);
  await page.page.close();
});

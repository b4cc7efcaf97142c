// The npm package in a bundler (issue 16): an app bundled with esbuild imports
// @mighty-commerce/widget by name (the tarball `npm pack dist/` makes, installed in a scratch
// node_modules); its bundle, served from an origin of its own with the widget's files copied
// beside it, finds the wasm, the stylesheet and the word file next to itself and mounts cards
// in Chromium, against the reference server on another origin. A bare side-effect import is
// kept by the bundler (`sideEffects`). See apps.mjs.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { launchBrowser, WidgetPage, BASE_URL } from "./support.mjs";
import { buildApps, serveApps, cardCount } from "./apps.mjs";

let browser;
let apps;
let server;
before(async () => {
  apps = await buildApps(["bundler"]);
  server = await serveApps(apps.public);
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.close();
  apps?.remove();
});

test("the bundle holds the loader and the package's API, not the widget's files", () => {
  const { metafile, outdir } = apps.builds.bundler;
  const inputs = Object.keys(metafile.inputs);
  assert.ok(inputs.some((input) => input.endsWith("@mighty-commerce/widget/index.js")), inputs.join(", "));
  assert.ok(inputs.some((input) => input.endsWith("@mighty-commerce/widget/mighty.js")), "the loader is bundled");
  assert.ok(!inputs.some((input) => input.endsWith("server.js")), "not the server-rendering stub");
  // The bare import keeps the loader (sideEffects): its bundle holds window.Mighty's code.
  const bare = readFileSync(join(outdir, "bare.js"), "utf8");
  assert.match(bare, /\.Mighty\s*=/);
  for (const file of apps.manifest.mighty.assets) {
    assert.ok(!inputs.some((input) => input.endsWith(file)), `${file} is fetched beside the bundle, not bundled`);
  }
});

test("a bundled app mounts a found host and a mounted one, with the widget's files from beside its bundle", async () => {
  const page = await WidgetPage.open(browser.context, `${server.origin}/bundler/`);
  await page.waitForEvents("ready", 2);
  assert.equal(await cardCount(page.page), 2);
  const ready = (await page.events("ready")).map((event) => event.detail.listing_id).sort();
  assert.deepEqual(ready, ["candle-trio", "velo-atelier"]);
  await page.page.getByText("Lavender candle trio").waitFor();
  await page.page.getByText("Bike care membership").waitFor();

  // The wasm, the glue, the stylesheet and the word file came from the app's origin, next to
  // its bundle; nothing from the reference server's /dist/.
  const beside = (suffix) => page.requests.filter((url) => url.startsWith(`${server.origin}/bundler/mighty-`) && url.endsWith(suffix));
  for (const suffix of [".wasm", ".js", ".css", ".json"]) assert.equal(beside(suffix).length, 1, `one ${suffix} beside the bundle`);
  assert.deepEqual(page.requests.filter((url) => url.includes("/dist/")), []);
  // The listings came from the reference server, cross-origin.
  assert.ok(page.requests.includes(`${BASE_URL}/v1/listings/candle-trio`));
  assert.ok(page.requests.includes(`${BASE_URL}/v1/listings/velo-atelier`));
  // The package's `version` is the runtime's, and its `mount` promise resolved.
  assert.deepEqual(await page.page.evaluate(async () => [window.__app.version, window.Mighty.version, await window.__app.mounting]), [apps.manifest.version, apps.manifest.version, undefined]);
  assert.deepEqual(page.consoleErrors, []);
  await page.page.close();
});

test("an app that only imports the package still has the loader: its hosts mount", async () => {
  const page = await WidgetPage.open(browser.context, `${server.origin}/bundler/bare.html`);
  const [ready] = await page.waitForEvents("ready", 1);
  assert.equal(ready.detail.listing_id, "kissa-ramen");
  await page.page.getByText("Ramen workshop for two").waitFor();
  assert.equal(await page.page.evaluate(() => typeof window.Mighty.mount), "function");
  assert.deepEqual(page.consoleErrors, []);
  await page.page.close();
});

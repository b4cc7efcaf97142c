// Single-page apps (issue 16): React (mount in an effect, unmount in its cleanup, the same host
// re-rendered with a new listing, StrictMode's mount-unmount-mount), Vue (onMounted, a watched
// prop, onBeforeUnmount), and a History API navigation that removes hosts and adds others
// (the loader alone notices). Each app imports the npm package and is bundled by esbuild at
// test time (apps.mjs); React and Vue come from devDependencies and stay out of the widget.
import { test, before, after, describe } from "node:test";
import assert from "node:assert/strict";
import { launchBrowser, WidgetPage, until } from "./support.mjs";
import { buildApps, serveApps, cardCount, isUnmounted } from "./apps.mjs";

let browser;
let apps;
let server;
before(async () => {
  apps = await buildApps(["react", "vue", "history"]);
  server = await serveApps(apps.public);
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.close();
  apps?.remove();
});

const readyIds = async (page) => (await page.events("ready")).map((event) => event.detail.listing_id);

/** The framework apps share one scenario: show, switch listing, hide, show again. */
async function frameworkScenario(name, log) {
  const page = await WidgetPage.open(browser.context, `${server.origin}/${name}/`);
  await page.waitForEvents("ready", 1);
  await page.page.getByText("Lavender candle trio").waitFor();
  assert.equal(await cardCount(page.page), 1);
  await page.page.evaluate(() => (window.__first = window.__host));

  // A new listing on the same host: the effect (or watcher) mounts it again with its config.
  await page.page.click("#next");
  await until(async () => (await readyIds(page)).includes("velo-atelier"), "the second listing ready");
  await page.page.getByText("Bike care membership").waitFor();
  assert.equal(await cardCount(page.page), 1, "one card: the host was re-rendered, not doubled");
  assert.equal(await page.page.getByText("Lavender candle trio").count(), 0);
  assert.ok(await page.page.evaluate(() => window.__host === window.__first), "the same host element");

  // The component goes: its cleanup unmounts the widget (the host leaves the page too).
  await page.page.click("#toggle");
  await until(async () => (await cardCount(page.page)) === 0, "no card once hidden");
  assert.ok(await isUnmounted(page.page, "__first"), "the removed host's widget was unmounted");
  const calls = await page.page.evaluate((key) => window[key], log);
  assert.equal(calls.unmounts.at(-1), "velo-atelier");

  // And comes back on a new host.
  await page.page.click("#toggle");
  await until(async () => (await readyIds(page)).filter((id) => id === "velo-atelier").length >= 2, "the listing ready again");
  assert.equal(await cardCount(page.page), 1);
  assert.deepEqual(page.consoleErrors, []);
  assert.equal(page.wasmRequests().length, 1, "one runtime for the page's life");
  return { page, calls: await page.page.evaluate((key) => window[key], log) };
}

describe("React", () => {
  test("mounts in an effect, unmounts on cleanup, re-renders with a new listing (StrictMode)", async () => {
    const { page, calls } = await frameworkScenario("react", "__react");
    // StrictMode ran the first effect twice with a cleanup between: mount, unmount, mount.
    assert.deepEqual(calls.mounts.slice(0, 2), ["candle-trio", "candle-trio"]);
    assert.equal(calls.unmounts[0], "candle-trio");
    await page.page.close();
  });
});

describe("Vue", () => {
  test("mounts in onMounted, again when the listing prop changes, unmounts before unmount", async () => {
    const { page, calls } = await frameworkScenario("vue", "__vue");
    assert.deepEqual(calls.mounts, ["candle-trio", "velo-atelier", "velo-atelier"]);
    assert.deepEqual(calls.unmounts, ["velo-atelier"]);
    await page.page.close();
  });
});

describe("History API navigation", () => {
  test("hosts removed by a navigation are unmounted and the next view's hosts mount, back and forth", async () => {
    const page = await WidgetPage.open(browser.context, `${server.origin}/history/`);
    await page.waitForEvents("ready", 2);
    assert.deepEqual((await readyIds(page)).sort(), ["candle-trio", "velo-atelier"]);
    await page.page.evaluate(() => (window.__list = [...document.querySelectorAll("[data-mighty]")]));

    await page.page.getByRole("link", { name: "Bike care: details" }).click();
    assert.equal(new URL(page.page.url()).pathname, "/history/item/velo-atelier");
    await page.waitForEvents("ready", 3);
    await page.page.getByText("Bike care membership").waitFor();
    assert.equal(await cardCount(page.page), 1);
    await until(() => isUnmounted(page.page, "__list"), "the list's hosts unmounted once removed");
    await page.page.evaluate(() => (window.__detail = document.querySelector("[data-mighty]")));

    await page.page.goBack();
    assert.equal(new URL(page.page.url()).pathname, "/history/");
    await page.waitForEvents("ready", 5);
    assert.equal(await cardCount(page.page), 2);
    await until(() => isUnmounted(page.page, "__detail"), "the detail's host unmounted once removed");

    await page.page.goForward();
    await page.waitForEvents("ready", 6);
    assert.equal(await cardCount(page.page), 1);
    assert.deepEqual(page.consoleErrors, []);
    assert.equal(page.wasmRequests().length, 1, "the runtime loaded once for every view");
    await page.page.close();
  });

  test("a deep link to a view mounts its host", async () => {
    const page = await WidgetPage.open(browser.context, `${server.origin}/history/item/kissa-ramen`);
    const [ready] = await page.waitForEvents("ready", 1);
    assert.equal(ready.detail.listing_id, "kissa-ramen");
    await page.page.getByText("Ramen workshop for two").waitFor();
    assert.deepEqual(page.consoleErrors, []);
    await page.page.close();
  });
});

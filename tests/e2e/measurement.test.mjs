// Measurement beacons (SPEC section 6), in Chromium against the real collector: batches of
// the shape of SPEC section 6 sent as text/plain without a preflight, a page hide flushes the
// queue with sendBeacon, a failing endpoint keeps the events until it recovers (counted
// once), and no endpoint or no consent means no beacons at all.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { BASE_URL, launchBrowser, sellerApi as api, until, creatorListing, showListing } from "./support.mjs";

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

const listing = () => creatorListing("e2e-beacons");

/** Every request the page makes to the collector, as the browser sent it. */
function collectorRequests(page) {
  const seen = [];
  page.on("request", (request) => {
    if (new URL(request.url()).pathname === "/v1/events") {
      seen.push({
        method: request.method(),
        contentType: request.headers()["content-type"],
        body: request.postData(),
      });
    }
  });
  return seen;
}

/** Counts `mighty:view` from the page's start. */
function countViews() {
  window.__views = 0;
  document.addEventListener("mighty:view", () => { window.__views += 1; });
}

async function open(context, id, attributes) {
  const page = await context.newPage();
  await page.addInitScript(countViews);
  const requests = collectorRequests(page);
  await showListing(page, id, attributes);
  return { page, requests };
}

/** The events the collector stored for a listing, by type (from the seller's metrics). */
async function storedViews(id) {
  const metrics = await api("GET", `/v1/metrics?listing=${id}`);
  return metrics.segments.reduce((sum, segment) => sum + segment.views, 0);
}

test("a view is beaconed in a text/plain batch of SPEC section 6's shape, stored once", async () => {
  const id = await listing();
  const { page, requests } = await open(browser.context, id, `data-mighty-events="/v1/events"`);
  await until(() => requests.some((request) => request.body?.includes('"type":"view"')), "the view's batch");
  assert.ok(requests.every((request) => request.method === "POST"), "no preflight: only POSTs");
  const request = requests.find((candidate) => candidate.body.includes('"type":"view"'));
  assert.match(request.contentType, /^text\/plain/);
  const { events } = JSON.parse(request.body);
  const view = events.find((event) => event.type === "view");
  const shown = await page.locator(".creators [aria-pressed=true]").getAttribute("data-creator");
  const visitor = await page.evaluate(() => localStorage.getItem("mighty:visitor"));
  assert.deepEqual(Object.keys(view).sort(), ["at", "creator", "id", "listing_id", "offer_variant", "type", "variant", "visitor_id"]);
  assert.equal(view.listing_id, id);
  // A bundle without offer variants: null (SPEC section 6).
  assert.equal(view.offer_variant, null);
  assert.equal(view.creator, null);
  assert.equal(view.variant, shown);
  assert.equal(view.visitor_id, visitor);
  assert.ok(Math.abs(Date.parse(view.at) - Date.now()) < 60_000, view.at);
  assert.equal(new Set(events.map((event) => event.id)).size, events.length, "unique event ids");
  await until(async () => (await storedViews(id)) === 1, "the stored view");
  await page.close();
});

test("a page hide flushes the queue with sendBeacon", async () => {
  const id = await listing();
  const { page } = await open(browser.context, id, `data-mighty-events="/v1/events"`);
  // The view is queued after 1 s of visibility; its batch would leave 2 s later. Leave first.
  await page.waitForFunction(() => window.__views > 0);
  await page.goto("about:blank");
  await until(async () => (await storedViews(id)) === 1, "the view sent on page hide", 5_000);
  await page.close();
});

test("a batch still in flight when the tab is closed is sent again by beacon", async () => {
  const id = await listing();
  // A directory page and collector of the test's own, on another origin, that never answers
  // the first batch: its fetch is still open when the tab closes. (Playwright's routing cannot
  // hold it: a held request of a page that goes away is let through. And on a navigation
  // Chromium fails the page's open fetch before `pagehide`, so the batch is queued again
  // anyway; closing the tab does not.)
  const bodies = [];
  const site = createServer((request, response) => {
    if (request.method === "GET") {
      response.writeHead(200, { "Content-Type": "text/html" }).end(`<!doctype html><html lang="en">
        <script type="module" src="${new URL("/dist/mighty.js", BASE_URL)}"></script>
        <div data-mighty="${id}" data-mighty-eager data-mighty-events="/events"
             data-mighty-checkout="${new URL("/v1/checkout/sessions", BASE_URL)}"></div>`);
      return;
    }
    let body = "";
    request.on("data", (chunk) => { body += chunk; });
    request.on("end", () => {
      bodies.push(body);
      if (bodies.length > 1) response.writeHead(204).end();
    });
  });
  await new Promise((resolve) => site.listen(0, "127.0.0.1", resolve));
  try {
    const page = await browser.context.newPage();
    await page.goto(`http://127.0.0.1:${site.address().port}/`);
    await until(() => bodies.length === 1, "the first batch");
    await page.close({ runBeforeUnload: true });
    await until(() => bodies.length === 2, "the in-flight batch sent again on page hide", 5_000);
    const views = bodies.map((body) => JSON.parse(body).events.find((event) => event.type === "view")?.id);
    assert.ok(views[0], "the first batch had the view");
    assert.equal(views[1], views[0], "the same event, under its id (the collector keeps one)");
  } finally {
    site.closeAllConnections();
    site.close();
  }
});

test("a failing endpoint keeps the events and sends them, once, when it recovers", async () => {
  const id = await listing();
  const page = await browser.context.newPage();
  const requests = collectorRequests(page);
  let refused = 0;
  await page.route("**/v1/events", async (route) => {
    if (refused < 1) {
      refused += 1;
      await route.fulfill({ status: 503, contentType: "application/json", body: '{"error":{"code":"unavailable","message":"down"}}' });
    } else {
      await route.continue();
    }
  });
  await showListing(page, id, `data-mighty-events="/v1/events"`);
  // One refusal, retried 5 s later: then the collector has it.
  await until(() => requests.length >= 2, "the retry", 15_000);
  const ids = requests.map((request) => JSON.parse(request.body).events.find((event) => event.type === "view")?.id);
  assert.ok(ids[0], "the first batch had the view");
  assert.deepEqual(ids.slice(0, 2), [ids[0], ids[0]], "the same event, retried with its id");
  await until(async () => (await storedViews(id)) === 1, "the view stored once");
  await page.close();
});

test("no endpoint, or consent required and not given: no beacons; after consent, beacons", async () => {
  const id = await listing();
  const plain = await open(browser.context, id, "");
  // Consent in a browser of its own: nothing stored there before.
  const fresh = await launchBrowser();
  try {
    const consent = await open(fresh.context, id, `data-mighty-events="/v1/events" data-mighty-consent="required"`);
    for (const { page } of [plain, consent]) {
      await page.waitForFunction(() => window.__views > 0);
    }
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    assert.equal(plain.requests.length, 0, "no endpoint: nothing sent");
    assert.equal(consent.requests.length, 0, "no consent: nothing sent");
    assert.equal(await consent.page.evaluate(() => localStorage.length), 0);

    await consent.page.evaluate(() => {
      window.Mighty.consent(true);
      return window.Mighty.mount(document.querySelector("[data-mighty]"));
    });
    await until(() => consent.requests.some((request) => request.body?.includes('"type":"view"')), "the view after consent");
    const { events } = JSON.parse(consent.requests.find((request) => request.body.includes('"type":"view"')).body);
    const visitor = await consent.page.evaluate(() => localStorage.getItem("mighty:visitor"));
    assert.ok(visitor);
    assert.equal(events.find((event) => event.type === "view").visitor_id, visitor);
  } finally {
    await plain.page.close();
    await fresh.close();
  }
});

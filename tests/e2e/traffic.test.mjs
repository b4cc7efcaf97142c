// The traffic script of issue 6: real visitors (each a browser of its own, so a visitor id of
// its own) go through the real widget in Chromium: views, demo plays, purchases of a bundle and
// a membership through the sandbox, a second purchase, a renewal with the sandbox clock. The
// seller's dashboard then shows the counts and rates the script expects.
//
// Runs last (file order): it moves the sandbox clock a month forward.
import { test } from "node:test";
import assert from "node:assert/strict";
import { launchBrowser, BASE_URL, PayPage, SELLER_TOKEN, sellerApi as api, until, creatorListing, showListing } from "./support.mjs";

const DAY = 86_400;

function countEvents() {
  window.__seen = { view: 0, "demo-play": 0 };
  for (const type of Object.keys(window.__seen)) {
    document.addEventListener(`mighty:${type}`, () => { window.__seen[type] += 1; });
  }
}

/** One page view of the listing: waits for the view (and the demo's play) to be reported. */
async function visit(context, id) {
  const page = await context.newPage();
  await page.addInitScript(countEvents);
  await showListing(page, id, `data-mighty-events="/v1/events"`);
  await page.waitForFunction(() => window.__seen.view === 1 && window.__seen["demo-play"] === 1);
  const shown = await page.locator(".creators [aria-pressed=true]").getAttribute("data-creator");
  return { page, shown };
}

async function buy(page, offerId, email) {
  const [popup] = await Promise.all([
    page.waitForEvent("popup"),
    page.locator(`[part=offer][data-offer-id="${offerId}"] [part=checkout]`).click(),
  ]);
  await popup.waitForURL(/\/pay\//);
  const pay = new PayPage(popup);
  await pay.fill({ number: "4242 4242 4242 4242", email });
  await pay.submit();
  await page.locator("[part=status]").filter({ hasText: /Paid/ }).waitFor({ timeout: 15_000 });
}

/** The dashboard's Funnel table, as the seller sees it: one object per row. */
async function funnelOnDashboard(id) {
  const seller = await launchBrowser();
  try {
    const page = await seller.context.newPage();
    await page.goto(new URL("/dashboard", BASE_URL).href);
    await page.getByLabel("Seller token").fill(SELLER_TOKEN);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.goto(new URL(`/dashboard/listings/${id}`, BASE_URL).href);
    const table = page.locator("table", { has: page.locator("caption", { hasText: "Per creator and variant" }) });
    // The table sits in a closed <details> under its chart: read its text, not what is rendered.
    const headers = (await table.locator("thead th").allTextContents()).map((text) => text.trim());
    const rows = await table.locator("tbody tr").evaluateAll((rows) =>
      rows.map((row) => [...row.querySelectorAll("th, td")].map((cell) => cell.textContent.trim())));
    return rows.map((cells) => Object.fromEntries(headers.map((header, index) => [header, cells[index]])));
  } finally {
    await seller.close();
  }
}

const percent = (value) => `${(value * 100).toFixed(1)} %`;
const euros = (cents) => `${(cents / 100).toFixed(2)}`;

test("a traffic script through the real widget, then the dashboard shows the expected funnel", async () => {
  const id = await creatorListing("e2e-traffic", [
    { id: "candle", kind: "bundle", name: "Candle", price: 1200 },
    { id: "club", kind: "retainer", name: "Candle club", tiers: [{ id: "monthly", name: "Monthly", price: 1500, interval: "month" }] },
  ]);

  // What each visitor does: purchases, by offer, one page view each (a second purchase is a
  // second visit by the same visitor).
  const script = [
    { email: "amelie@example.com", visits: [["candle"]] },
    { email: "bruno@example.com", visits: [["candle"]] },
    { email: "chloe@example.com", visits: [["club"]] },
    { email: "david@example.com", visits: [["candle"], ["candle"]] },
    { email: null, visits: [[]] },
    { email: null, visits: [[]] },
    { email: null, visits: [[], []] },
  ];
  const expected = new Map(); // variant → {views, commits, revenue, customers: Map(email → {first, more})}
  const segment = (variant) => {
    if (!expected.has(variant)) expected.set(variant, { views: 0, commits: 0, revenue: 0, customers: new Map() });
    return expected.get(variant);
  };
  const price = { candle: 1200, club: 1500 };
  for (const visitor of script) {
    const browser = await launchBrowser();
    try {
      for (const purchases of visitor.visits) {
        const { page, shown } = await visit(browser.context, id);
        const counts = segment(shown);
        counts.views += 1;
        for (const offerId of purchases) {
          await buy(page, offerId, visitor.email);
          counts.commits += 1;
          counts.revenue += price[offerId];
          const customer = counts.customers.get(visitor.email);
          if (customer) customer.repeated = true;
          else counts.customers.set(visitor.email, { repeated: false, offerId });
        }
        // Leaving the page flushes its queued events with sendBeacon.
        await page.goto("about:blank");
        await page.close();
      }
    } finally {
      await browser.close();
    }
  }
  const totalViews = [...expected.values()].reduce((sum, counts) => sum + counts.views, 0);
  await until(async () => {
    const metrics = await api("GET", `/v1/metrics?listing=${id}`);
    return metrics.segments.reduce((sum, counts) => sum + counts.views, 0) === totalViews;
  }, "every view stored");

  // A month later the membership renews: a repeat if it falls within 30 days of the purchase.
  const { orders } = await api("GET", `/v1/orders?listing=${id}`);
  const subscriptionId = orders.find((order) => order.subscription_id).subscription_id;
  const before = await api("GET", `/v1/subscriptions/${subscriptionId}`);
  await api("POST", "/sandbox/clock/advance", { seconds: 31 * DAY });
  const after = await api("GET", `/v1/subscriptions/${subscriptionId}`);
  assert.equal(after.current_period_start, before.current_period_end, "renewed once");
  const periodSeconds = (Date.parse(before.current_period_end) - Date.parse(before.current_period_start)) / 1000;
  for (const counts of expected.values()) {
    for (const customer of counts.customers.values()) {
      if (customer.offerId === "club") {
        counts.revenue += price.club;
        if (periodSeconds <= 30 * DAY) customer.repeated = true;
      }
    }
  }

  const rows = await funnelOnDashboard(id);
  assert.equal(rows.length, expected.size, JSON.stringify(rows));
  for (const [variant, counts] of expected) {
    const row = rows.find((candidate) => candidate.segment === `shown: ${variant}`);
    assert.ok(row, `a row for ${variant}: ${JSON.stringify(rows)}`);
    assert.equal(row.views, String(counts.views), `${variant} views`);
    assert.equal(row["paid commits"], String(counts.commits), `${variant} paid commits`);
    assert.equal(row.conversion, percent(Math.min(counts.commits, counts.views) / counts.views), `${variant} conversion`);
    const customers = [...counts.customers.values()];
    const repeat = customers.length ? percent(customers.filter((customer) => customer.repeated).length / customers.length) : "—";
    assert.equal(row["30-day repeat"], repeat, `${variant} repeat`);
    assert.ok(row.revenue.includes(euros(counts.revenue)), `${variant} revenue ${row.revenue}, expected ${euros(counts.revenue)}`);
  }
});

// Retention by value (issue 15), end to end in Chromium against the real server: a membership
// bought through the API and the hosted pay page, then its manage page. Starting to cancel
// shows one screen with "Cancel now" (one click) and, beside it, a pause of 1 to 3 months and
// each lower tier with its price; the shopper pauses, resumes, moves down a tier and cancels,
// with the keyboard only and no script on the page. The saves reach `GET /v1/metrics`.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { launchBrowser, BASE_URL, PayPage, creatorListing, sellerApi } from "./support.mjs";

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

const TIERS = [
  { id: "basic", name: "Basic", price: 900, interval: "month" },
  { id: "monthly", name: "Monthly", price: 1500, interval: "month" },
  { id: "plus", name: "Plus", price: 2500, interval: "month" },
];

/** Buys `tier` of a fresh listing's club through the API and the pay page: the listing id,
 * the subscription id and the customer token. */
async function buyMembership(page, tier) {
  const listingId = await creatorListing("retention", [{ id: "club", kind: "retainer", name: "Candle club", tiers: TIERS }]);
  const response = await fetch(new URL("/v1/checkout/sessions", BASE_URL), {
    method: "POST",
    headers: { "Content-Type": "application/json", "Idempotency-Key": `retention-${listingId}` },
    body: JSON.stringify({
      listing_id: listingId, offer_id: "club", tier_id: tier, quantity: 1,
      attribution: { creator: null, token: null, variant: null, page: `${BASE_URL}/` },
      return_url: `${BASE_URL}/?mighty_listing=${listingId}`,
    }),
  });
  assert.equal(response.status, 201, await response.clone().text());
  const session = await response.json();
  await page.goto(session.redirect_url);
  const pay = new PayPage(page);
  await pay.fill({ number: "4242 4242 4242 4242" });
  await pay.submit();
  assert.match(await page.locator("h1").innerText(), /Payment received/);
  const state = await (await fetch(new URL(`/v1/checkout/sessions/${session.session_id}`, BASE_URL), {
    headers: { "Mighty-Session-Secret": session.session_secret },
  })).json();
  assert.equal(state.status, "paid");
  return { listingId, subscriptionId: state.subscription_id, token: state.customer_token };
}

/** Presses Enter on the control named `name` (keyboard only). */
async function press(page, role, name) {
  const control = page.getByRole(role, { name });
  await control.focus();
  await Promise.all([page.waitForLoadState("load"), control.press("Enter")]);
  await page.waitForLoadState("load");
}

test("starting to cancel offers a pause and lower tiers, priced, beside a one-click cancel", async () => {
  const page = await browser.context.newPage();
  const scripts = [];
  page.on("request", (request) => {
    if (request.resourceType() === "script") scripts.push(request.url());
  });
  const { listingId, subscriptionId, token } = await buyMembership(page, "plus");
  scripts.length = 0;

  await page.goto(new URL(`/manage/${token}`, BASE_URL).href);
  assert.match(await page.locator("[data-status]").innerText(), /Active/);
  await press(page, "link", "Cancel the membership");
  assert.equal(new URL(page.url()).pathname, `/manage/${token}/cancel`);

  // One screen: the cancel button is there at once, and so are the offers with their prices.
  const cancelNow = page.getByRole("button", { name: "Cancel now" });
  assert.ok(await cancelNow.isVisible(), "Cancel now is on the screen, not behind a step");
  assert.ok(await cancelNow.isEnabled());
  const offers = await page.getByRole("button").allInnerTexts();
  assert.deepEqual(offers.filter((text) => text.startsWith("Pause for")).map((text) => text.replace(/ \(back on .*\)$/, "")), [
    "Pause for 1 month", "Pause for 2 months", "Pause for 3 months",
  ]);
  assert.deepEqual(offers.filter((text) => text.startsWith("Switch to")), [
    "Switch to Monthly: 15.00 EUR / month", "Switch to Basic: 9.00 EUR / month",
  ]);
  for (const text of offers.filter((text) => text.startsWith("Pause for"))) {
    assert.match(text, /\(back on \d{1,2} [A-Z][a-z]+ \d{4}\)$/, text);
  }
  // The screen needs no script.
  assert.deepEqual(scripts, [], "no script on the manage pages");

  // Pause for two months: the page says until when, with a Resume button.
  await press(page, "button", /^Pause for 2 months/);
  assert.equal(new URL(page.url()).pathname, `/manage/${token}`);
  assert.match(await page.locator("[data-status]").innerText(), /^Paused until \d{1,2} [A-Z][a-z]+ \d{4}$/);
  assert.match(await page.getByRole("heading", { name: /Paused until/ }).innerText(), /Paused until/);
  let membership = await sellerApi("GET", `/v1/subscriptions/${subscriptionId}`);
  assert.equal(membership.status, "paused");
  assert.ok(membership.paused_until > membership.current_period_end);

  await press(page, "button", "Resume now");
  assert.match(await page.locator("[data-status]").innerText(), /Active/);
  membership = await sellerApi("GET", `/v1/subscriptions/${subscriptionId}`);
  assert.equal(membership.status, "active");

  // Back to the cancel screen: move down to Basic instead, from the period's end.
  await press(page, "link", "Cancel the membership");
  await press(page, "button", "Switch to Basic: 9.00 EUR / month");
  assert.match(await page.getByRole("heading", { name: /Moving to Basic on/ }).innerText(), /Moving to Basic on \d{1,2} [A-Z][a-z]+ \d{4}/);
  membership = await sellerApi("GET", `/v1/subscriptions/${subscriptionId}`);
  assert.deepEqual([membership.tier_id, membership.pending_tier_id, membership.pending_price], ["plus", "basic", 900]);
  assert.equal(membership.pending_effective_at, membership.current_period_end);

  // And cancel, in one click from the cancel screen.
  await press(page, "link", "Cancel the membership");
  await press(page, "button", "Cancel now");
  assert.match(await page.locator("[data-status]").innerText(), /Canceled/);
  assert.equal(await page.getByRole("link", { name: "Cancel the membership" }).count(), 0);
  membership = await sellerApi("GET", `/v1/subscriptions/${subscriptionId}`);
  assert.equal(membership.status, "canceled");

  // Two saves of one membership: both counted, its recurring revenue once (the latest save's).
  const metrics = await sellerApi("GET", `/v1/metrics?listing=${listingId}`);
  assert.deepEqual(
    [metrics.saves.pauses, metrics.saves.downgrades, metrics.saves.revenue],
    [1, 1, [{ currency: "EUR", mrr_kept: 900, mrr_given_up: 2500 - 900 }]],
  );
  await page.close();
});

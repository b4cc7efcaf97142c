// The card's decisions in the browser (issue 14): a redirect-mode return resumes the offer
// that was bought, by its id (kept in sessionStorage beside the session's secret), not the
// first offer whose price matches the amount.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { launchBrowser, WidgetPage, PayPage, sellerApi } from "./support.mjs";

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

test("redirect mode: of two offers at one price, the return confirms the one bought, and the next offer follows it", async () => {
  const id = `e2e-same-price-${Date.now()}`;
  await sellerApi("PUT", `/v1/listings/${id}`, {
    version: 1, id, title: "Candles", currency: "EUR",
    offers: [
      { id: "lavender", kind: "bundle", name: "Lavender trio", price: 2400 },
      { id: "cedar", kind: "bundle", name: "Cedar trio", price: 2400 },
      { id: "club", kind: "retainer", name: "Candle club", tiers: [{ id: "monthly", name: "Monthly", price: 1500, interval: "month" }] },
    ],
    checkout: { endpoint: "/v1/checkout/sessions" }, allowed_origins: ["*"],
  });
  const host = `<div data-mighty="${id}" data-mighty-checkout="/v1/checkout/sessions" data-mighty-checkout-mode="redirect" data-mighty-eager></div>`;
  const shop = await WidgetPage.open(browser.context, "/www/examples/blank.html", () => {});
  // Back from the partner, the blank page gets its host again.
  await shop.page.addInitScript((html) => {
    document.addEventListener("DOMContentLoaded", () => {
      if (location.search.includes("mighty_session")) document.getElementById("app").innerHTML = html;
    });
  }, host);
  await shop.page.evaluate((html) => { document.getElementById("app").innerHTML = html; }, host);
  await shop.page.locator("[part=offer][data-offer-id=cedar] [part=checkout]").click();
  await shop.page.waitForURL(/\/pay\//);
  const pay = new PayPage(shop.page);
  await pay.fill({ number: "4242 4242 4242 4242" });
  await pay.submit();
  await shop.page.waitForURL(/mighty_session=/, { timeout: 10_000 });
  const status = shop.page.locator("[part=status]");
  await status.filter({ hasText: /Paid/ }).waitFor({ timeout: 15_000 });
  assert.match(await status.innerText(), /Paid €24\.00 for Cedar trio/);
  const [complete] = await shop.waitForEvents("checkout-complete", 1);
  assert.equal(complete.detail.offer_id, "cedar");
  // What comes next after a bundle: the membership.
  assert.equal(await shop.page.getByRole("button", { name: /^Join Candle club/ }).count(), 1);
  assert.equal(await shop.page.evaluate(() => Object.keys(sessionStorage).filter((key) => key.startsWith("mighty_")).length), 0,
    "what was kept for the return is removed once read");
  await shop.page.close();
});

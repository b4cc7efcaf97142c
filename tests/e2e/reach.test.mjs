// Nothing out of reach (issue 14): at the card's documented height (420 px), a long listing
// (a long German title and seller, seven badges, an open drop, a demo, three offers, a
// membership of four tiers with perks) keeps every checkout button reachable, by keyboard
// alone and by pointer, and fully visible when reached, at 320, 375 and 1 000 px, with no
// layout shift. The listing names no checkout endpoint, so each press ends at once with
// `mighty:checkout-error` (`no_checkout`) and its offer id: the proof that it was pressed, and
// the error panel it leaves must not hide the buttons pressed after it.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { launchBrowser, WidgetPage, sellerApi, until } from "./support.mjs";

let browser;
let listingId;
before(async () => {
  browser = await launchBrowser({ locale: "de-DE" });
  listingId = `e2e-reach-${Date.now()}`;
  const hour = 3_600_000;
  const creator = (handle, name) => ({
    handle, name, avatar: `/www/media/${handle}.jpg`,
    demo: { src: `/www/media/${handle}.webm`, poster: `/www/media/${handle}.jpg`, captions: `/www/media/${handle}.vtt` },
  });
  const tier = (id, name, price, perks) => ({ id, name, price, interval: "month", perks });
  await sellerApi("PUT", `/v1/listings/${listingId}`, {
    version: 1, id: listingId, currency: "EUR",
    title: "Handgegossene Lavendel-Duftkerzen aus der Kerzenmanufaktur am Rheinufer im Dreierpack mit Geschenkverpackung",
    summary: "Drei handgegossene Sojawachskerzen mit Lavendel aus der Provence, in einer wiederverwendbaren Geschenkbox.",
    seller: { name: "Kerzenmanufaktur Hildegard Schwarzenberger-Müllerstadt GmbH & Co. KG", location: "Düsseldorf-Oberkassel" },
    creators: [creator("ana", "Ana Ruiz"), creator("theo", "Théo Marchand")],
    trust: {
      rating: { value: 4.7, count: 1284 },
      testimonials: [{ author: "Marie", text: "Wunderbar.", verified: true }],
      badges: ["local-maker", "handmade", "ships-48h", "free-shipping", "organic", "eco", "verified-seller"],
    },
    offers: [
      { id: "trio", kind: "bundle", name: "Dreierpack Lavendel-Duftkerzen mit Geschenkverpackung", price: 2400, compare_at: 3000, items: ["3 Kerzen", "Geschenkbox", "Streichhölzer"] },
      { id: "duo", kind: "bundle", name: "Zweierpack Probierset", price: 1600, items: ["2 Kerzen"] },
      { id: "club", kind: "retainer", name: "Kerzenclub-Mitgliedschaft", tiers: [
        tier("mini", "Mini-Mitgliedschaft", 900, ["eine Kerze im Monat"]),
        tier("monthly", "Monatliche Mitgliedschaft", 1500, ["zwei Kerzen im Monat", "früher Zugang"]),
        tier("plus", "Plus-Mitgliedschaft", 2500, ["drei Kerzen", "früher Zugang zu Drops", "kostenloser Versand"]),
        tier("max", "Maximal-Mitgliedschaft", 4000, ["fünf Kerzen", "alle Drops", "Versand", "Gravur"]),
      ] },
    ],
    // Open for years: other tests move the demo seller's sandbox clock forward.
    drop: { starts_at: new Date(Date.now() - hour).toISOString().replace(/\.\d+Z$/, "Z"), ends_at: new Date(Date.now() + 3650 * 24 * hour).toISOString().replace(/\.\d+Z$/, "Z"), inventory: 50 },
    allowed_origins: ["*"],
  });
});
after(async () => {
  await browser?.close();
});

const OFFERS = ["trio", "duo", "club"];

async function longCard(width) {
  const page = await WidgetPage.open(browser.context, "/www/examples/blank.html");
  await page.page.setViewportSize({ width, height: 900 });
  await page.page.evaluate((id) => {
    document.getElementById("app").innerHTML = `<div data-mighty="${id}" data-mighty-listing="/v1/listings/${id}" data-mighty-locale="de-DE" data-mighty-eager></div>`;
  }, listingId);
  await page.waitForEvents("ready", 1);
  return page;
}

/** Whether the checkout button of `offerId` is fully visible: inside the viewport and the
 * card's scrollport, and on top at its centre and its four edges (nothing covers it). */
function fullyVisible(page, offerId) {
  return page.page.locator(`[part=offer][data-offer-id=${offerId}] [part=checkout]`).evaluate((button) => {
    const root = button.getRootNode();
    const rect = button.getBoundingClientRect();
    if (rect.width === 0 || rect.height === 0) return false;
    if (rect.top < 0 || rect.left < 0 || rect.bottom > innerHeight || rect.right > innerWidth) return false;
    // The middle of each edge (2 px in: its rounded corners are not the button's) and the centre.
    const [x, y] = [rect.left + rect.width / 2, rect.top + rect.height / 2];
    const points = [[x, rect.top + 2], [x, rect.bottom - 2], [rect.left + 2, y], [rect.right - 2, y], [x, y]];
    return points.every(([x, y]) => {
      const hit = root.elementFromPoint(x, y);
      return hit === button || button.contains(hit);
    });
  });
}

/** The card's element that has the focus (inside its shadow root), described. */
function focused(page) {
  return page.page.evaluate(() => {
    const active = document.querySelector("[data-mighty]").shadowRoot.activeElement;
    if (!active) return null;
    return { part: active.getAttribute("part"), offer: active.closest("[data-offer-id]")?.getAttribute("data-offer-id") ?? null };
  });
}

async function pressed(page, offerId, count) {
  await until(async () => (await page.events("checkout-error")).filter((event) => event.detail.offer_id === offerId).length >= count, `mighty:checkout-error for ${offerId}`, 5_000);
}

async function checkLayout(page) {
  assert.equal(await page.layoutShift(), 0);
  assert.equal(await page.host(listingId).evaluate((host) => host.getBoundingClientRect().height), 420);
  assert.deepEqual(page.consoleErrors.filter((text) => text.startsWith("uncaught")), []);
}

for (const width of [320, 375, 1000]) {
  test(`at ${width} px every checkout button is reached by keyboard alone, fully visible, and pressed`, async () => {
    const page = await longCard(width);
    const reached = [];
    for (let step = 0; step < 60 && reached.length < OFFERS.length; step += 1) {
      await page.page.keyboard.press("Tab");
      const now = await focused(page);
      if (now?.part !== "checkout" || reached.includes(now.offer)) continue;
      assert.ok(await fullyVisible(page, now.offer), `${now.offer}'s button is fully visible when focused at ${width} px`);
      await page.page.keyboard.press("Enter");
      await pressed(page, now.offer, 1);
      reached.push(now.offer);
    }
    assert.deepEqual(reached, OFFERS, "every checkout button reached with Tab");
    await checkLayout(page);
    await page.page.close();
  });

  test(`at ${width} px every checkout button is reached by pointer (wheel inside the card), fully visible, and clicked`, async () => {
    const page = await longCard(width);
    const card = await page.page.locator("[part=card]").boundingBox();
    for (const offerId of OFFERS) {
      for (let turn = 0; turn < 40 && !(await fullyVisible(page, offerId)); turn += 1) {
        await page.page.mouse.move(card.x + card.width / 2, card.y + card.height / 2);
        await page.page.mouse.wheel(0, 80);
        await page.page.waitForTimeout(50);
      }
      assert.ok(await fullyVisible(page, offerId), `${offerId}'s button can be scrolled into full view at ${width} px`);
      const box = await page.page.locator(`[part=offer][data-offer-id=${offerId}] [part=checkout]`).boundingBox();
      await page.page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
      await pressed(page, offerId, 1);
    }
    // The page itself did not scroll: the wheel scrolled the card.
    assert.equal(await page.page.evaluate(() => scrollY), 0);
    await checkLayout(page);
    await page.page.close();
  });
}

test("a card taller than its box says so: it scrolls inside, with a cue, and its perks are shown", async () => {
  const page = await longCard(375);
  const scroller = await page.page.locator("[part=card]").evaluate((card) => {
    const style = getComputedStyle(card);
    return { overflowY: style.overflowY, scrollable: card.scrollHeight > card.clientHeight, cue: style.backgroundImage };
  });
  assert.equal(scroller.overflowY, "auto");
  assert.ok(scroller.scrollable);
  assert.match(scroller.cue, /gradient/, "scroll shadows show there is more");
  assert.match(await page.page.locator("[part=tier][data-tier-id=max]").innerText(), /Gravur/);
  await page.page.close();
});

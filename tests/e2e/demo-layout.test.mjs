// The creator demo as the card's hero (issue 14): each creator's own captions and avatar when
// the shopper switches between them, and a layout where no text covers other text (the
// video frame at the video's own aspect, captions in their own box, controls beside them,
// readable chips) at 320, 640 and 1 000 px, light and dark. Screenshots go to
// target/screenshots/ (docs/screenshots/ keeps two of them for the README).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { launchBrowser, WidgetPage, sellerApi, until } from "./support.mjs";

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

const SCREENSHOTS = new URL("../../target/screenshots/", import.meta.url);

/** A listing whose first creator has neither captions nor avatar, and whose second has both. */
async function unevenCreators() {
  const id = `e2e-uneven-${Date.now()}`;
  await sellerApi("PUT", `/v1/listings/${id}`, {
    version: 1, id, title: "Candle studio", currency: "EUR",
    creators: [
      { handle: "plain", name: "Paul Plain", demo: { src: "/www/media/theo.webm", poster: "/www/media/theo.jpg" } },
      { handle: "ana", name: "Ana Ruiz", avatar: "/www/media/ana.jpg", demo: { src: "/www/media/ana.webm", poster: "/www/media/ana.jpg", captions: "/www/media/ana.vtt" } },
    ],
    offers: [{ id: "candle", kind: "bundle", name: "Candle", price: 1200 }],
    allowed_origins: ["*"],
  });
  return id;
}

async function demoCard(path, id, { width = 1000, theme = "light" } = {}) {
  const page = await WidgetPage.open(browser.context, path);
  await page.page.setViewportSize({ width, height: 900 });
  await page.page.emulateMedia({ reducedMotion: "no-preference" });
  await page.page.evaluate(([id, theme]) => {
    document.getElementById("app").innerHTML =
      `<div data-mighty="${id}" data-mighty-listing="/v1/listings/${id}" data-mighty-theme="${theme}" data-mighty-locale="en-US" data-mighty-eager></div>`;
  }, [id, theme]);
  await page.waitForEvents("ready", 1);
  return page;
}

const demo = (page) => page.page.locator("[part=demo]");

async function avatar(page) {
  return demo(page).locator(".avatar").evaluate((image) => ({ src: image.getAttribute("src"), shown: image.getBoundingClientRect().width > 0 }));
}

test("switching creators shows each one's captions and avatar, also after one without them", async () => {
  const id = await unevenCreators();
  // The creator link makes the first shown creator the one without captions or avatar.
  const page = await demoCard("/www/examples/blank.html?mighty_creator=plain", id);
  assert.equal(await demo(page).locator(".by-name").innerText(), "Paul Plain");
  assert.equal((await avatar(page)).shown, false);

  await page.page.locator(".chip[data-creator=ana]").click();
  assert.equal(await demo(page).locator(".by-name").innerText(), "Ana Ruiz");
  const ana = await avatar(page);
  assert.ok(ana.shown && ana.src.endsWith("/www/media/ana.jpg"), JSON.stringify(ana));
  // Ana's captions load and are drawn in their box while her demo plays.
  await demo(page).locator(".captions").filter({ hasText: /wax|lavender|cure/i }).waitFor({ timeout: 10_000 });

  await page.page.locator(".chip[data-creator=plain]").click();
  assert.equal((await avatar(page)).shown, false);
  await until(async () => (await demo(page).locator(".captions").innerText()).trim() === "", "no captions for Paul", 5_000);
  await page.page.locator(".chip[data-creator=ana]").click();
  await demo(page).locator(".captions").filter({ hasText: /\S/ }).waitFor({ timeout: 10_000 });
  await page.page.close();
});

/** Every text node of the demo as rectangles, with the node's text. */
function demoTextBoxes(page) {
  return demo(page).evaluate((figure) => {
    const root = figure.getRootNode();
    const scope = [figure, root.querySelector(".creators")].filter(Boolean);
    const boxes = [];
    for (const element of scope) {
      const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        // Text the shopper cannot see (a control's other word) is not text over text.
        if (!node.textContent.trim() || !node.parentElement.checkVisibility({ visibilityProperty: true })) continue;
        const range = document.createRange();
        range.selectNodeContents(node);
        for (const rect of range.getClientRects()) {
          if (rect.width > 0 && rect.height > 0) boxes.push({ text: node.textContent.trim().slice(0, 24), left: rect.left, top: rect.top, right: rect.right, bottom: rect.bottom });
        }
      }
    }
    const video = figure.querySelector("video").getBoundingClientRect();
    return { boxes, video: { width: video.width, height: video.height } };
  });
}

function overlaps(boxes) {
  const found = [];
  for (let i = 0; i < boxes.length; i += 1) {
    for (let j = i + 1; j < boxes.length; j += 1) {
      const [a, b] = [boxes[i], boxes[j]];
      const x = Math.min(a.right, b.right) - Math.max(a.left, b.left);
      const y = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
      if (x > 1 && y > 1) found.push(`"${a.text}" overlaps "${b.text}"`);
    }
  }
  return found;
}

for (const width of [320, 640, 1000]) {
  for (const theme of ["light", "dark"]) {
    test(`the demo at ${width} px, ${theme}: a real frame, no text over text, captions and controls apart`, async () => {
      const page = await demoCard("/www/examples/blank.html?mighty_creator=ana", "candle-trio", { width, theme });
      await demo(page).locator(".captions").filter({ hasText: /\S/ }).waitFor({ timeout: 10_000 });
      const { boxes, video } = await demoTextBoxes(page);
      assert.deepEqual(overlaps(boxes), [], `at ${width} px, ${theme}`);
      // A frame, not a strip: the demo media are 16:9, shown whole at their own aspect.
      assert.ok(video.height >= 140, `the video frame is ${video.width}×${video.height}`);
      assert.ok(Math.abs(video.width / video.height - 16 / 9) < 0.05, `the frame has the video's aspect: ${video.width}×${video.height}`);
      // The captions box and the controls do not cover the video or each other.
      const parts = await demo(page).evaluate((figure) => Object.fromEntries(["video", ".captions", ".controls", ".by"].map((selector) => {
        const rect = figure.querySelector(selector).getBoundingClientRect();
        return [selector, { left: rect.left, top: rect.top, right: rect.right, bottom: rect.bottom, text: selector }];
      })));
      assert.deepEqual(overlaps(Object.values(parts)), []);
      assert.equal(await page.layoutShift(), 0);
      mkdirSync(SCREENSHOTS, { recursive: true });
      await page.host("candle-trio").screenshot({ path: new URL(`demo-${theme}-${width}.png`, SCREENSHOTS).pathname });
      await page.page.close();
    });
  }
}

// Accessibility and looks: axe-core finds no violation inside the widgets' shadow roots in the
// light and the dark theme, and screenshots of both themes at 320 px and 640 px wide are
// written to target/screenshots/ (kept by CI; the README shows one).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { launchBrowser, BASE_URL } from "./support.mjs";

const AXE = createRequire(import.meta.url).resolve("axe-core/axe.min.js");
const SCREENSHOTS = join(process.cwd(), "target", "screenshots");

let browser;
before(async () => {
  // axe is injected as a script tag, which the page's strict CSP would refuse.
  browser = await launchBrowser({ bypassCSP: true });
});
after(async () => {
  await browser?.close();
});

async function violationsInWidgets(page) {
  await page.addScriptTag({ path: AXE });
  return page.evaluate(async () => {
    const hosts = [...document.querySelectorAll("[data-mighty]")].filter((host) => host.shadowRoot);
    const results = await window.axe.run(
      { include: hosts.map((host) => [host]) },
      { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } },
    );
    return results.violations.map((violation) => ({
      id: violation.id,
      help: violation.help,
      nodes: violation.nodes.map((node) => node.target.join(" ") + ": " + node.failureSummary),
    }));
  });
}

for (const colorScheme of ["light", "dark"]) {
  test(`axe finds no violation inside the widgets of the demo directory (${colorScheme})`, async () => {
    const page = await browser.context.newPage();
    await page.emulateMedia({ colorScheme, reducedMotion: "reduce" });
    await page.goto(new URL("/", BASE_URL).href);
    const hosts = page.locator("[data-mighty]");
    for (let index = 0; index < (await hosts.count()); index += 1) {
      await hosts.nth(index).scrollIntoViewIfNeeded();
    }
    await page.locator("[part=card]").nth(7).waitFor();
    const violations = await violationsInWidgets(page);
    assert.deepEqual(violations, [], JSON.stringify(violations, null, 2));
    await page.close();
  });
}

test("screenshots of both themes at 320 px and 640 px; nothing overflows from 280 px to 720 px", async () => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  for (const theme of ["light", "dark"]) {
    for (const width of [280, 320, 640, 720]) {
      const page = await browser.context.newPage();
      await page.emulateMedia({ reducedMotion: "reduce" });
      await page.goto(new URL("/www/examples/blank.html", BASE_URL).href);
      await page.evaluate(([theme, width]) => {
        const host = document.createElement("div");
        host.setAttribute("data-mighty", "candle-trio");
        host.setAttribute("data-mighty-listing", "/www/listings/candle-trio.json");
        host.setAttribute("data-mighty-theme", theme);
        host.setAttribute("data-mighty-locale", "en-US");
        host.style.width = `${width}px`;
        document.getElementById("app").append(host);
      }, [theme, width]);
      const host = page.locator("[data-mighty]");
      await host.locator("[part=card]").waitFor();
      await page.waitForTimeout(300);
      const box = await host.boundingBox();
      assert.equal(Math.round(box.width), width);
      assert.equal(Math.round(box.height), 420);
      const overflow = await host.evaluate((element) => [...element.shadowRoot.querySelectorAll(".card, .card *")]
        .filter((node) => !node.classList.contains("sr") && node.scrollWidth > node.clientWidth + 1 && getComputedStyle(node).overflowX !== "visible")
        .map((node) => node.className));
      assert.deepEqual(overflow, [], `${theme} ${width}px: nothing scrolls sideways`);
      const cardBox = await host.locator("[part=card]").boundingBox();
      assert.ok(cardBox.width <= width, `${width}px: the card fits`);
      if (width === 320 || width === 640) {
        await host.screenshot({ path: join(SCREENSHOTS, `card-${theme}-${width}.png`) });
      }
      await page.close();
    }
  }
});

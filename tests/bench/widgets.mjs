// Benchmark: 1, 10 and 50 widgets all visible at once, unthrottled and at 4× CPU throttling,
// each in a fresh Chromium (no HTTP or code cache: the cold start), beside an empty page (the
// same page and loader, no host) measured in the same run. Prints, per case, the median over
// the runs of: time from navigation to the last `mighty:ready` (all interactive), the longest
// task, the total blocking time (the sum over tasks of what passes 50 ms) and the JS heap
// in use afterwards. SPEC section 8 and issue 14: no long task (> 50 ms) and TBT <= 50 ms for
// one widget and for ten at 4×; none for fifty unthrottled. A benchmark, not a test: it
// prints and never fails. Run by `cargo xtask bench` against the real server.
import { launchBrowser, BASE_URL } from "../e2e/support.mjs";

const RUNS = Number(process.env.MIGHTY_BENCH_RUNS ?? 3);
// `MIGHTY_BENCH_ONLY=4:1,4:10` measures only those throttle:count cases.
const ONLY = process.env.MIGHTY_BENCH_ONLY?.split(",") ?? null;
const LISTINGS = ["candle-trio", "velo-atelier", "fleurs-de-saone", "atelier-cuir", "kissa-ramen"];
const CARD = { width: 300, height: 420, gap: 10 };

/** Runs before the page: records ready events and long tasks, and (for `count` > 0) puts
 * `count` eager hosts in a grid once the document is parsed. */
function setUp({ count, listings }) {
  window.__bench = { ready: 0, lastReady: 0, tasks: [] };
  document.addEventListener("mighty:ready", () => {
    window.__bench.ready += 1;
    window.__bench.lastReady = performance.now();
  });
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) window.__bench.tasks.push(entry.duration);
  }).observe({ type: "longtask", buffered: true });
  document.addEventListener("DOMContentLoaded", () => {
    // A grid through a constructable sheet: the page's CSP refuses style attributes.
    const sheet = new CSSStyleSheet();
    sheet.replaceSync("#app{display:grid;grid-template-columns:repeat(auto-fill,300px);gap:10px}");
    document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
    const app = document.getElementById("app");
    for (let index = 0; index < count; index += 1) {
      const host = document.createElement("div");
      const listing = listings[index % listings.length];
      host.setAttribute("data-mighty", "");
      host.setAttribute("data-mighty-listing", `/www/listings/${listing}.json`);
      host.setAttribute("data-mighty-eager", "");
      app.append(host);
    }
  });
}

/** One cold run: a fresh browser, a viewport where all `count` cards are visible. */
async function measure(count, throttle) {
  const columns = Math.max(1, Math.min(count, 10));
  const rows = Math.max(1, Math.ceil(count / 10));
  const viewport = { width: columns * (CARD.width + CARD.gap) + 60, height: rows * (CARD.height + CARD.gap) + 200 };
  const browser = await launchBrowser({ viewport });
  try {
    const page = await browser.context.newPage();
    const cdp = await browser.context.newCDPSession(page);
    await cdp.send("Emulation.setCPUThrottlingRate", { rate: throttle });
    await page.addInitScript(setUp, { count, listings: LISTINGS });
    await page.goto(new URL("/www/examples/blank.html", BASE_URL).href);
    // Polled with plain evaluations: Playwright's waitForFunction injects its own large
    // script into the page, a long task of its own at 4× that is not the widget's.
    const deadline = Date.now() + 120_000;
    while (count > 0 && (await page.evaluate(() => window.__bench.ready)) < count) {
      if (Date.now() > deadline) throw new Error(`${count} widgets not ready in 120 s`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await page.waitForLoadState("load");
    // Let what follows the last render (listeners, the first frames) show as tasks too.
    await page.waitForTimeout(1_000);
    const bench = await page.evaluate(() => window.__bench);
    await cdp.send("HeapProfiler.collectGarbage");
    const heap = await cdp.send("Runtime.getHeapUsage");
    const longest = Math.max(0, ...bench.tasks);
    const blocking = bench.tasks.reduce((sum, duration) => sum + Math.max(0, duration - 50), 0);
    return { ready: count > 0 ? bench.lastReady : 0, longest, blocking, longTasks: bench.tasks.length, heapMB: heap.usedSize / 1_048_576 };
  } finally {
    await browser.close();
  }
}

const median = (values) => values.slice().sort((a, b) => a - b)[Math.floor(values.length / 2)];
const pad = (value, width) => String(value).padStart(width);

console.log(`\nwidgets visible at once, cold start (a fresh headless Chromium per run), median of ${RUNS} runs`);
console.log("page         CPU   all interactive (ms)  longest task (ms)  TBT (ms)  long tasks  JS heap (MB)");
for (const throttle of [1, 4]) {
  for (const count of [0, 1, 10, 50]) {
    if (ONLY && !ONLY.includes(`${throttle}:${count}`)) continue;
    const runs = [];
    for (let run = 0; run < RUNS; run += 1) runs.push(await measure(count, throttle));
    const label = count === 0 ? "empty page" : `${count} widget${count > 1 ? "s" : ""}`;
    console.log(
      `${label.padEnd(12)} ${`${throttle}×`.padEnd(5)} ${pad(median(runs.map((row) => row.ready)).toFixed(0), 20)}  ` +
      `${pad(median(runs.map((row) => row.longest)).toFixed(0), 17)}  ${pad(median(runs.map((row) => row.blocking)).toFixed(0), 8)}  ` +
      `${pad(median(runs.map((row) => row.longTasks)), 10)}  ${pad(median(runs.map((row) => row.heapMB)).toFixed(1), 12)}` +
      `   (longest task per run: ${runs.map((row) => row.longest.toFixed(0)).join(", ")})`,
    );
  }
}

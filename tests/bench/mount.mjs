// Benchmark: 50 widgets on one page in headless Chromium. Prints the time from navigation to
// the 50th `mighty:ready`, the longest task seen (SPEC section 8: no long task, i.e. none over
// 50 ms), warm (one browser, five pages) and cold (a fresh browser each). Run by `cargo xtask
// bench` against the real server.
import { launchBrowser, BASE_URL } from "../e2e/support.mjs";

const WIDGETS = 50;
const RUNS = 5;
/** Fresh browsers (no HTTP or code cache): the cold start, where wasm code is compiled lazily
 * on first use and the cards are styled for the first time. */
const COLD_RUNS = 10;

function recorder() {
  window.__bench = { ready: 0, lastReady: 0, longest: 0, longTasks: 0 };
  document.addEventListener("mighty:ready", () => {
    window.__bench.ready += 1;
    window.__bench.lastReady = performance.now();
  });
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      window.__bench.longTasks += 1;
      window.__bench.longest = Math.max(window.__bench.longest, entry.duration);
    }
  }).observe({ type: "longtask", buffered: true });
}

async function measure(context, run) {
  const page = await context.newPage();
  await page.addInitScript(recorder);
  await page.goto(new URL(`/www/examples/fifty.html?run=${run}`, BASE_URL).href);
  await page.waitForFunction((count) => window.__bench.ready >= count, WIDGETS, { timeout: 60_000 });
  await page.waitForTimeout(200);
  const row = await page.evaluate(() => window.__bench);
  await page.close();
  return row;
}

const cold = [];
for (let run = 1; run <= COLD_RUNS; run += 1) {
  const browser = await launchBrowser();
  cold.push(await measure(browser.context, `cold-${run}`));
  await browser.close();
}

const { context, close } = await launchBrowser();
const rows = [];
for (let run = 1; run <= RUNS; run += 1) {
  rows.push(await measure(context, run));
}
await close();

const median = (values) => values.slice().sort((a, b) => a - b)[Math.floor(values.length / 2)];
console.log(`\n50 eager widgets on one page, ${RUNS} runs (headless Chromium, this machine)`);
console.log("run  all ready (ms)  long tasks  longest task (ms)");
rows.forEach((row, index) => {
  console.log(`${String(index + 1).padEnd(4)} ${row.lastReady.toFixed(0).padStart(14)}  ${String(row.longTasks).padStart(10)}  ${row.longest.toFixed(0).padStart(17)}`);
});
console.log(`median ${median(rows.map((row) => row.lastReady)).toFixed(0).padStart(12)}  ${String(median(rows.map((row) => row.longTasks))).padStart(10)}  ${median(rows.map((row) => row.longest)).toFixed(0).padStart(17)}`);

const withLongTask = cold.filter((row) => row.longTasks > 0);
console.log(`\ncold starts, ${COLD_RUNS} fresh browsers: all ready median ${median(cold.map((row) => row.lastReady)).toFixed(0)} ms ` +
  `(${Math.min(...cold.map((row) => row.lastReady)).toFixed(0)}–${Math.max(...cold.map((row) => row.lastReady)).toFixed(0)}); ` +
  `a long task in ${withLongTask.length} of ${COLD_RUNS}` +
  (withLongTask.length ? ` (longest ${Math.max(...withLongTask.map((row) => row.longest)).toFixed(0)} ms)` : ""));

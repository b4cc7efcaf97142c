// Mighty loader: the one script a directory page includes. It defines window.Mighty at once,
// finds [data-mighty] hosts (also ones added later), reserves their box, and fetches the
// WebAssembly bundle only when a host comes within one viewport of being visible (or at once
// for data-mighty-eager, an explicit Mighty.mount, or a checkout return). It must stay under
// 3 KB gzip: no dependencies, no build step beyond placeholder substitution.
// `cargo xtask dist` replaces the __MIGHTY_*__ placeholders.
const GLUE = "__MIGHTY_GLUE__";
const WASM = "__MIGHTY_WASM__";
const CSS = "__MIGHTY_CSS__";
const MESSAGES = "__MIGHTY_MESSAGES__";
const VERSION = "__MIGHTY_VERSION__";
const HEIGHT = "__MIGHTY_CARD_HEIGHT__";
const SELECTOR = "[data-mighty]";
// Every attribute the widget reads (SPEC section 2): only these wake the MutationObserver.
const ATTRIBUTES = ["", "-listing", "-source", "-title", "-seller", "-price", "-currency", "-demo",
  "-demo-poster", "-creator", "-rating", "-reviews", "-checkout", "-checkout-mode", "-events", "-locale",
  "-theme", "-consent", "-attribution-days", "-eager"].map((name) => "data-mighty" + name);

const win = window;
const doc = document;

// Loaded twice (two tags, two URLs): the first runtime serves the page.
if (!(win.Mighty && win.Mighty.version)) {
  const base = import.meta.url;
  const known = new WeakSet(); // hosts this loader has seen
  const stopped = new WeakSet(); // hosts unmounted with Mighty.unmount: left alone
  const mounted = new Set(); // hosts the runtime has mounted
  const configs = new WeakMap(); // Mighty.mount configs, re-used by refresh()
  const queue = [];
  const waiting = new Map(); // host -> resolve() of a Mighty.mount promise
  let runtime = null; // promise of the wasm module's exports
  let consentGiven = null;
  let pumping = false;

  // Reserve the card's height before anything mounts (the embed guide's CSS line does the
  // same before any script runs). :where() keeps it at zero specificity, so the page wins.
  try {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(`:where(${SELECTOR}){display:block;min-height:${HEIGHT}px}`);
    doc.adoptedStyleSheets = [...doc.adoptedStyleSheets, sheet];
  } catch (_) {}

  const fail = (host, message, code) => {
    console.error("Mighty: " + message, host);
    host.dispatchEvent(new CustomEvent("mighty:error", {
      bubbles: true,
      composed: true,
      detail: { listing_id: host.getAttribute("data-mighty") || null, error: { code: code || "bundle_unavailable", message } },
    }));
  };
  // A file of the bundle that did not come: its error names it (and says what it was for).
  const missing = (name, what, code, error) =>
    Object.assign(new Error(`could not load ${what} from ${new URL(name, base).href} (${error})`), { code });
  // Calls into a loaded runtime never reject into the page: what fails is logged.
  const withRuntime = (call) => runtime && runtime.then(call).catch((error) => console.error("Mighty:", error));

  // Resolves in a later task: the page gets to paint and handle input in between.
  const later = () => new Promise((resolve) => setTimeout(resolve, 0));

  const loadRuntime = () => {
    if (!runtime) {
      const glue = new URL(GLUE, base).href;
      // The widget's stylesheet is a file of its own, fetched beside the bundle.
      // Each is settled at once (a rejection left for later would reach the page as an
      // unhandled one while the wasm compiles).
      const file = (name) => fetch(new URL(name, base)).then((response) => response.ok ? response.text() : Promise.reject(new Error(`HTTP ${response.status}`)));
      const css = file(CSS).catch((error) => missing(CSS, "the widget's stylesheet", "stylesheet_unavailable", error));
      // French, Spanish and German words; without them the widget speaks English.
      const messages = file(MESSAGES).catch((error) => {
        console.error("Mighty: " + missing(MESSAGES, "the widget's words", "", error).message + "; the widget speaks English");
        return null;
      });
      // Each step's first run also compiles its wasm code (lazily, on the main thread): a
      // macrotask each, so that a cold start makes no long task.
      // The page's first Intl.NumberFormat loads the browser's locale data: 45 ms at 4× CPU
      // throttling, measured. Built here, in a task of its own while the bundle downloads,
      // it is not part of the first card's render.
      later().then(() => new Intl.NumberFormat(doc.documentElement.lang || void 0)).catch(() => {});
      runtime = import(glue).then(async (module) => {
        await module.default({ module_or_path: new URL(WASM, base) });
        const sheet = await css;
        // Without its stylesheet the card would spill over the page: the fallback stays.
        if (sheet instanceof Error) throw sheet;
        await later();
        module.stylesheet(sheet);
        const words = await messages;
        await later();
        if (words) module.messages(words);
        if (consentGiven !== null) module.consent(consentGiven);
        await later();
        return module;
      });
      runtime.catch(() => {});
    }
    return runtime;
  };

  // Mounts queued hosts, yielding to the page every 8 ms so that many widgets never make
  // one long task.
  const pump = async () => {
    if (pumping) return;
    pumping = true;
    let rt;
    try {
      rt = await loadRuntime();
    } catch (error) {
      for (const host of queue.splice(0)) {
        // Known no more: Mighty.refresh() (or a change the observer sees) tries it again.
        known.delete(host);
        fail(host, error.code ? error.message : `could not load the widget bundle from ${new URL(GLUE, base).href} (${error})`, error.code);
        const resolve = waiting.get(host);
        if (resolve) waiting.delete(host), resolve();
      }
      runtime = null; // a later host may try again
      pumping = false;
      return;
    }
    let slice = performance.now();
    while (queue.length) {
      const host = queue.shift();
      if (stopped.has(host) || !host.isConnected) continue;
      try {
        rt.mount(host, configs.get(host));
        mounted.add(host);
      } catch (error) {
        fail(host, String(error));
      }
      const resolve = waiting.get(host);
      if (resolve) waiting.delete(host), resolve();
      if (performance.now() - slice > 8) {
        await later();
        slice = performance.now();
      }
    }
    pumping = false;
  };

  const enqueue = (host) => {
    if (!queue.includes(host)) queue.push(host);
    pump();
  };

  // Older embedded browsers and some harnesses have no IntersectionObserver: hosts mount at
  // once there (the widget loads a little earlier, nothing breaks).
  const nearViewport = typeof IntersectionObserver == "function" ? new IntersectionObserver((entries) => {
    for (const entry of entries) {
      if (entry.isIntersecting) {
        nearViewport.unobserve(entry.target);
        enqueue(entry.target);
      }
    }
  }, { rootMargin: "100% 100% 100% 100%" }) : null;
  const unobserve = (host) => nearViewport && nearViewport.unobserve(host);

  // A checkout return (section 4) loads at once; the hosts that may be its listing mount at
  // once: `data-mighty` naming it, or empty (the id is the document's; any other value that
  // differs from the document's id is a config error, so those cannot be it).
  const params = new URLSearchParams(location.search);
  const returning = params.has("mighty_session") ? params.get("mighty_listing") : null;

  const discover = (host) => {
    if (known.has(host) || stopped.has(host)) return;
    known.add(host);
    const eager = host.getAttribute("data-mighty-eager");
    if (!nearViewport || (eager !== null && eager !== "false" && eager !== "0") || (returning !== null && [returning, ""].includes(host.getAttribute("data-mighty")))) {
      enqueue(host);
    } else {
      nearViewport.observe(host);
    }
  };

  const forget = (host) => {
    unobserve(host);
    known.delete(host);
    const index = queue.indexOf(host);
    if (index >= 0) queue.splice(index, 1);
    if (mounted.delete(host)) withRuntime((rt) => rt.unmount(host));
  };

  const scan = (root) => {
    if (root.nodeType !== 1) return;
    if (root.matches(SELECTOR)) discover(root);
    for (const host of root.querySelectorAll(SELECTOR)) discover(host);
  };

  const hostsIn = (root) => root.nodeType !== 1 ? [] : [...(root.matches(SELECTOR) ? [root] : []), ...root.querySelectorAll(SELECTOR)];

  // Without MutationObserver, hosts added or changed later are found by Mighty.refresh().
  if (typeof MutationObserver == "function") new MutationObserver((records) => {
    for (const record of records) {
      if (record.type === "attributes") {
        const host = record.target;
        if (!host.hasAttribute("data-mighty") && !configs.has(host)) {
          if (known.has(host)) forget(host);
        } else if (mounted.has(host)) {
          withRuntime((rt) => rt.refresh(host, configs.get(host)));
        } else {
          discover(host);
        }
        continue;
      }
      for (const node of record.removedNodes) {
        for (const host of hostsIn(node)) if (!host.isConnected) forget(host);
      }
      for (const node of record.addedNodes) {
        scan(node);
        // An inline config added to a mounted host re-renders it.
        const host = node.parentElement;
        if (host && mounted.has(host) && node.nodeType === 1 && node.hasAttribute("data-mighty-config")) {
          withRuntime((rt) => rt.refresh(host, configs.get(host)));
        }
      }
    }
  }).observe(doc.documentElement, { childList: true, subtree: true, attributes: true, attributeFilter: ATTRIBUTES });

  win.Mighty = {
    version: VERSION,
    mount(host, config) {
      // Never a throw into the page: a rejected promise says what was wrong.
      if (!(host instanceof Element)) return Promise.reject(new TypeError("Mighty.mount: the first argument must be an element"));
      stopped.delete(host);
      known.add(host);
      unobserve(host);
      if (config !== undefined) configs.set(host, config);
      if (mounted.has(host)) {
        return runtime.then((rt) => rt.mount(host, configs.get(host)));
      }
      const done = new Promise((resolve) => waiting.set(host, resolve));
      enqueue(host);
      return done;
    },
    unmount(host) {
      if (!(host instanceof Element)) return;
      stopped.add(host);
      configs.delete(host);
      forget(host);
    },
    refresh() {
      for (const host of mounted) if (!host.isConnected) forget(host);
      scan(doc.documentElement);
      withRuntime((rt) => { for (const host of mounted) rt.refresh(host, configs.get(host)); });
    },
    consent(given) {
      consentGiven = !!given;
      withRuntime((rt) => rt.consent(consentGiven));
    },
  };

  scan(doc.documentElement);
}

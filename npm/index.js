// @mighty-commerce/widget: importing this module registers Mighty's loader once (it defines
// window.Mighty and watches the page for [data-mighty] hosts) and re-exports its API, so a
// bundled app can `import { mount } from "@mighty-commerce/widget"`. The import has a side
// effect on purpose: package.json's `sideEffects` names this file and the loader, so bundlers
// keep it even when nothing is imported by name.
//
// The loader finds the widget's other files (mighty-<hash>.js, .wasm, .css, .json) next to its
// own URL: once bundled, that is your bundle's URL, so copy those files (package.json's
// `mighty.assets`) next to the bundle. They must be the ones of this package's version.
import "./mighty.js";

// The page's runtime: this package's loader, or one a <script> tag loaded first (the loader
// runs once per page).
const runtime = () => window.Mighty;

/** Mounts (or re-mounts) a widget on `element` at once; see index.d.ts. */
export function mount(element, config) {
  return runtime().mount(element, config);
}

/** Unmounts the widget of `element`; its fallback children show again. */
export function unmount(element) {
  return runtime().unmount(element);
}

/** Finds new hosts, forgets removed ones, re-renders changed ones, retries waiting ones. */
export function refresh() {
  return runtime().refresh();
}

/** Records the shopper's consent (for data-mighty-consent="required"). */
export function consent(given) {
  return runtime().consent(given);
}

/** The version of the widget that serves this page. */
export const version = runtime().version;

// @mighty-commerce/widget outside a browser (the package's "node" condition): server-side
// rendering imports the same module as the page, and the widget only runs in a page. Mount it
// from code that runs in the browser (React's useEffect, Vue's onMounted): there these
// functions are the loader's. Here they do nothing, and `mount` says why.
export function mount() {
  return Promise.reject(new Error("Mighty.mount runs in the browser: call it where the page runs (an effect, onMounted), not during server rendering"));
}

export function unmount() {}

export function refresh() {}

export function consent() {}

export const version = "__MIGHTY_VERSION__";

// A single-page directory without a framework: links navigate with the History API
// (pushState, popstate for back and forward) and each view replaces the previous one's hosts.
// The widget is never told: the loader sees hosts come and go (attributes only).
import "@mighty-commerce/widget";

const checkout = `${MIGHTY_SERVER}/v1/checkout/sessions`;
const TITLES = { "candle-trio": "Lavender candles", "velo-atelier": "Bike care", "kissa-ramen": "Ramen workshop" };

function host(id) {
  const element = document.createElement("div");
  element.dataset.mighty = id;
  element.dataset.mightyCheckout = checkout;
  element.append(Object.assign(document.createElement("p"), { textContent: TITLES[id] }));
  return element;
}

/** A link the app navigates itself (`data-route`). */
function link(path, text) {
  const anchor = Object.assign(document.createElement("a"), { href: path, textContent: text });
  anchor.dataset.route = "";
  return anchor;
}

function render(path) {
  const view = document.getElementById("view");
  const item = path.match(/^\/history\/item\/([A-Za-z0-9_-]+)$/);
  if (item) {
    const back = link("/history/", "Back to all listings");
    view.replaceChildren(Object.assign(document.createElement("h1"), { textContent: TITLES[item[1]] ?? item[1] }), host(item[1]), back);
    return;
  }
  const list = ["candle-trio", "velo-atelier"].flatMap((id) => {
    return [host(id), link(`/history/item/${id}`, `${TITLES[id]}: details`)];
  });
  view.replaceChildren(Object.assign(document.createElement("h1"), { textContent: "All listings" }), ...list);
}

document.addEventListener("click", (event) => {
  const anchor = event.target.closest("a[data-route]");
  if (!anchor || event.metaKey || event.ctrlKey) return;
  event.preventDefault();
  history.pushState(null, "", anchor.href);
  render(location.pathname);
});
window.addEventListener("popstate", () => render(location.pathname));
render(location.pathname);

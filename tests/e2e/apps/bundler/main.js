// An app bundled with esbuild that imports the widget's npm package by name: one host the
// loader finds by itself (attributes), one mounted by script with the package's `mount`.
import { mount, version } from "@mighty-commerce/widget";

const checkout = `${MIGHTY_SERVER}/v1/checkout/sessions`;
const app = document.getElementById("app");

const found = document.createElement("div");
found.dataset.mighty = "candle-trio";
found.dataset.mightyCheckout = checkout;
found.dataset.mightyEager = "";
found.append(Object.assign(document.createElement("p"), { textContent: "Lavender candles, on our shop" }));

const mounted = document.createElement("div");
mounted.id = "mounted";
app.append(found, mounted);

window.__app = { version, mounting: mount(mounted, { id: "velo-atelier", checkout }) };

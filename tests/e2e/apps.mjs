// The example apps of tests/e2e/apps/, built at test time the way an integrator builds theirs:
// the npm package is packed from dist/ (`npm pack`, as it would be published) and installed
// into a scratch node_modules, each app is bundled by esbuild (with React or Vue from the
// repository's devDependencies, never from the widget), the widget's files the package lists
// (`mighty.assets`) are copied next to each bundle, and a small static server serves the apps
// on an origin of their own (the reference server is another origin: the widgets reach it
// cross-origin, as on a real site). Nothing built here is committed.
import { build } from "esbuild";
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { createServer } from "node:http";
import { extname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";
import { BASE_URL } from "./support.mjs";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const SOURCES = join(ROOT, "tests/e2e/apps");
const DIST = process.env.MIGHTY_DIST_DIR ?? join(ROOT, "dist");

/** Each app: its entry points (output name → source), and the defines its framework reads. */
const APPS = {
  bundler: { entries: { app: "main.js", bare: "bare.js" } },
  react: { entries: { app: "main.jsx" }, define: { "process.env.NODE_ENV": '"development"' } },
  vue: {
    entries: { app: "main.js" },
    define: {
      "process.env.NODE_ENV": '"production"',
      __VUE_OPTIONS_API__: "false",
      __VUE_PROD_DEVTOOLS__: "false",
      __VUE_PROD_HYDRATION_MISMATCH_DETAILS__: "false",
    },
  },
  history: { entries: { app: "main.js" } },
};

/** Packs dist/ and installs the tarball into `<work>/node_modules`; returns the package's
 * manifest. */
function installPackage(work) {
  if (!existsSync(join(DIST, "package.json"))) throw new Error(`no npm package in ${DIST}: run \`cargo xtask dist\``);
  const [report] = JSON.parse(execFileSync("npm", ["pack", "--json", "--pack-destination", work, DIST], { cwd: work, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }));
  const target = join(work, "node_modules/@mighty-commerce/widget");
  mkdirSync(target, { recursive: true });
  execFileSync("tar", ["-xzf", join(work, report.filename), "-C", target, "--strip-components=1"]);
  return JSON.parse(readFileSync(join(target, "package.json"), "utf8"));
}

/** Builds the named apps into a scratch folder under target/e2e; returns it and what each
 * build wrote. */
export async function buildApps(names) {
  mkdirSync(join(ROOT, "target/e2e"), { recursive: true });
  const work = mkdtempSync(join(ROOT, "target/e2e/apps-"));
  const manifest = installPackage(work);
  const packageDir = join(work, "node_modules/@mighty-commerce/widget");
  const builds = {};
  for (const name of names) {
    const app = APPS[name];
    const outdir = join(work, "public", name);
    mkdirSync(outdir, { recursive: true });
    const result = await build({
      entryPoints: Object.fromEntries(Object.entries(app.entries).map(([out, source]) => [out, join(SOURCES, name, source)])),
      bundle: true,
      format: "esm",
      platform: "browser",
      target: "es2022",
      outdir,
      jsx: "automatic",
      // The package is installed in the scratch folder, as an app's own node_modules would hold it.
      nodePaths: [join(work, "node_modules")],
      define: { MIGHTY_SERVER: JSON.stringify(BASE_URL), ...app.define },
      metafile: true,
      logLevel: "silent",
    });
    // The widget's files next to the bundle: what the package's README says to do.
    for (const file of manifest.mighty.assets) copyFileSync(join(packageDir, file), join(outdir, file));
    for (const file of readdirSync(join(SOURCES, name)).filter((file) => file.endsWith(".html"))) {
      copyFileSync(join(SOURCES, name, file), join(outdir, file));
    }
    builds[name] = { outdir, metafile: result.metafile, warnings: result.warnings };
  }
  return { work, public: join(work, "public"), manifest, builds, remove: () => rmSync(work, { recursive: true, force: true }) };
}

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".wasm": "application/wasm",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
};

/** Serves `folder` on a free loopback port: files as they are (HTML with `__MIGHTY_SERVER__`
 * filled in), and an app's `index.html` for its paths without an extension (a single-page
 * app's deep links). Records every path asked for. */
export async function serveApps(folder) {
  const requests = [];
  const server = createServer((request, response) => {
    const path = decodeURIComponent(new URL(request.url, "http://apps").pathname);
    requests.push(path);
    let file = normalize(join(folder, path));
    if (!file.startsWith(folder)) return response.writeHead(403).end();
    if (!extname(file)) {
      const app = path.split("/")[1];
      file = join(folder, app, "index.html");
    }
    if (!existsSync(file) || !statSync(file).isFile()) return response.writeHead(404).end();
    const type = TYPES[extname(file)] ?? "application/octet-stream";
    let body = readFileSync(file);
    if (extname(file) === ".html") body = body.toString("utf8").replaceAll("__MIGHTY_SERVER__", BASE_URL);
    response.writeHead(200, { "content-type": type, "cache-control": "no-store" }).end(body);
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const origin = `http://127.0.0.1:${server.address().port}`;
  return { origin, requests, close: () => new Promise((resolve) => server.close(resolve)) };
}

/** The number of `[part=card]` elements on the page (shadow roots pierced). */
export function cardCount(page) {
  return page.locator("[part=card]").count();
}

/** Whether a host element the page kept in `window[name]` is unmounted: its shadow root holds
 * only the slot of its fallback children again (or it never had one). */
export function isUnmounted(page, name) {
  return page.evaluate((key) => {
    const hosts = [].concat(window[key]);
    return hosts.every((host) => !host.shadowRoot || (!host.shadowRoot.querySelector("[part=card]") && host.shadowRoot.querySelector("slot") !== null));
  }, name);
}


//! `dist/` as the npm package `@mighty-commerce/widget`, laid out after the bundle is built:
//! `package.json` (written here), the hand-written `index.js`, `server.js`, `index.d.ts` and
//! `README.md` from `npm/`, beside the loader and the hashed files `dist.rs` wrote. `dist/`
//! stays flat and stays what a CDN serves; the package is a list of its files (`files`), so
//! the compressed copies and the size report are left out of the tarball.
//!
//! What the package promises, and what `cargo xtask test` checks (the "integrators' kit"
//! step and the end-to-end tests): importing it registers the loader (a side effect, which
//! `sideEffects` declares so bundlers keep it), it exports the loader's API with types, and a
//! bundle that copies `mighty.assets` next to itself mounts widgets.

use std::fs;
use std::path::Path;

use serde_json::json;

use crate::integrity::Release;
use crate::run::workspace_root;

pub const PACKAGE_NAME: &str = "@mighty-commerce/widget";

/// The package's hand-written files, from `npm/` (`server.js` gets the version filled in).
const SOURCES: [&str; 4] = ["index.js", "index.d.ts", "server.js", "README.md"];

/// `package.json` for a release whose hashed files are `release`'s, as JSON text: written
/// out in order, since the order of an export's conditions is what tools match by (the first
/// that applies wins: `types` first, `default` last), and serde_json's map sorts keys.
pub fn manifest(release: &Release) -> String {
    // Everything the loader fetches beside itself; the exact-version loader copy is for
    // CDN pages, not bundles.
    let assets: Vec<&str> = release
        .files
        .iter()
        .filter(|file| file.role != "loader")
        .map(|file| file.name.as_str())
        .collect();
    let mut files: Vec<&str> = SOURCES.to_vec();
    files.extend(["mighty.js", "integrity.json"]);
    files.extend(&assets);
    let list = |items: &[&str]| {
        items
            .iter()
            .map(|item| json!(item).to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!(
        r#"{{
  "name": "{PACKAGE_NAME}",
  "version": "{version}",
  "description": "Mighty's embeddable commerce widget: the loader, the WebAssembly bundle and TypeScript declarations. Importing it registers the loader.",
  "license": "MIT OR Apache-2.0",
  "repository": {{ "type": "git", "url": "git+https://github.com/mighty-commerce/mighty.git" }},
  "keywords": ["commerce", "widget", "checkout", "webassembly", "embed"],
  "type": "module",
  "main": "./index.js",
  "module": "./index.js",
  "types": "./index.d.ts",
  "exports": {{
    ".": {{
      "types": "./index.d.ts",
      "node": "./server.js",
      "default": "./index.js"
    }},
    "./loader": "./mighty.js",
    "./integrity.json": "./integrity.json",
    "./package.json": "./package.json"
  }},
  "sideEffects": ["./index.js", "./mighty.js"],
  "files": [{files}],
  "mighty": {{
    "contract": "{contract}",
    "assets": [{assets}]
  }}
}}
"#,
        version = mighty_core::VERSION,
        contract = crate::release::MAJOR_VERSION,
        files = list(&files),
        assets = list(&assets),
    )
}

/// Writes the package's own files into `dist_dir` beside the bundle; returns every file of
/// the package (`package.json` and what its `files` lists).
pub fn lay_out(dist_dir: &Path, release: &Release) -> Result<Vec<String>, String> {
    let sources = workspace_root().join("npm");
    for name in SOURCES {
        let from = sources.join(name);
        let text = fs::read_to_string(&from)
            .map_err(|error| format!("reading {}: {error}", from.display()))?;
        let text = text.replace("__MIGHTY_VERSION__", mighty_core::VERSION);
        fs::write(dist_dir.join(name), text)
            .map_err(|error| format!("writing dist/{name}: {error}"))?;
    }
    let text = manifest(release);
    let manifest: serde_json::Value = serde_json::from_str(&text)
        .map_err(|error| format!("the package.json written is not JSON: {error}"))?;
    fs::write(dist_dir.join("package.json"), text)
        .map_err(|error| format!("writing dist/package.json: {error}"))?;
    let mut files: Vec<String> = vec!["package.json".to_string()];
    files.extend(
        manifest["files"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|file| file.as_str().map(String::from)),
    );
    let mut unpacked_bytes = 0;
    for file in &files {
        unpacked_bytes += fs::metadata(dist_dir.join(file))
            .map_err(|error| format!("the package names dist/{file}, which is missing: {error}"))?
            .len();
    }
    println!(
        "\nnpm package {PACKAGE_NAME}@{} in dist/: {} files, {} bytes unpacked",
        mighty_core::VERSION,
        files.len(),
        unpacked_bytes
    );
    Ok(files)
}

/// The checks of `cargo xtask test`'s "integrators' kit" step, on the package `dist/` holds
/// (built by the same run, or by `cargo xtask dist`): each is a name and its outcome.
///
/// 1. `npm pack` makes the tarball of exactly the files `package.json` lists (no compressed
///    copy, no size report), unpacked into `target/npm/package`;
/// 2. `tsc --noEmit --strict` on `tests/types/` (its tsconfig maps the package name to that
///    folder): the declarations, used and misused;
/// 3. Node imports the package by name (the `node` condition): the server-rendering stub.
pub fn kit_checks(dist_dir: &Path) -> Vec<(&'static str, Result<(), String>)> {
    let root = workspace_root();
    let out = root.join("target/npm");
    let mut checks = Vec::new();
    let packed = pack(dist_dir, &out);
    let packed_ok = packed.is_ok();
    checks.push(("npm pack: the files package.json lists", packed));
    if !packed_ok {
        return checks;
    }
    checks.push((
        "tsc --noEmit --strict tests/types",
        crate::run::run_command(
            std::process::Command::new(root.join("node_modules/.bin/tsc"))
                .args([
                    "--noEmit",
                    "--strict",
                    "--project",
                    "tests/types/tsconfig.json",
                ])
                .current_dir(&root),
        ),
    ));
    checks.push(("the package under Node", import_under_node(&out)));
    checks
}

/// `npm pack` into `out`, unpacked into `out/package`; prints the tarball's size.
fn pack(dist_dir: &Path, out: &Path) -> Result<(), String> {
    let _ = fs::remove_dir_all(out);
    fs::create_dir_all(out).map_err(|error| format!("creating {}: {error}", out.display()))?;
    let listed: serde_json::Value =
        serde_json::from_slice(&fs::read(dist_dir.join("package.json")).map_err(|error| {
            format!("no package in dist/ ({error}): run `cargo xtask dist` first")
        })?)
        .map_err(|error| format!("dist/package.json: {error}"))?;
    let report = crate::run::command_output(
        std::process::Command::new("npm")
            .args(["pack", "--json", "--pack-destination"])
            .arg(out)
            .arg(dist_dir)
            .current_dir(out),
    )?;
    let report: serde_json::Value =
        serde_json::from_str(&report).map_err(|error| format!("npm pack --json: {error}"))?;
    let report = &report[0];
    let mut packed: Vec<&str> = report["files"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|file| file["path"].as_str())
        .collect();
    packed.sort_unstable();
    let mut expected: Vec<&str> = listed["files"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|file| file.as_str())
        .chain(["package.json"])
        .collect();
    expected.sort_unstable();
    if packed != expected {
        return Err(format!(
            "the tarball holds {packed:?}, package.json lists {expected:?}"
        ));
    }
    println!(
        "xtask: {PACKAGE_NAME} tarball {}: {} bytes ({} unpacked, {} files)",
        report["filename"].as_str().unwrap_or_default(),
        report["size"],
        report["unpackedSize"],
        packed.len()
    );
    let tarball = out.join(report["filename"].as_str().unwrap_or_default());
    crate::run::run_command(
        std::process::Command::new("tar")
            .arg("-xzf")
            .arg(&tarball)
            .arg("-C")
            .arg(out),
    )
}

/// Imports the unpacked package by its name from Node: the `node` condition gives the stub,
/// whose `mount` says where to call it and whose version is the package's.
fn import_under_node(out: &Path) -> Result<(), String> {
    let modules = out.join("node_modules/@mighty-commerce");
    fs::create_dir_all(&modules).map_err(|error| error.to_string())?;
    let link = modules.join("widget");
    let _ = fs::remove_file(&link);
    std::os::unix::fs::symlink(out.join("package"), &link).map_err(|error| error.to_string())?;
    let script = format!(
        r#"const widget = await import("{PACKAGE_NAME}");
if (widget.version !== "{version}") throw new Error("version " + widget.version);
for (const name of ["mount", "unmount", "refresh", "consent"]) if (typeof widget[name] !== "function") throw new Error(name);
const refusal = await widget.mount({{}}).then(() => null, (error) => error.message);
if (!/runs in the browser/.test(refusal)) throw new Error("mount: " + refusal);
console.log("the node condition gives the server-rendering stub");"#,
        version = mighty_core::VERSION
    );
    crate::run::run_command(
        std::process::Command::new("node")
            .args(["--input-type=module", "--eval", &script])
            .current_dir(out),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::integrity::HashedFile;

    fn release() -> Release {
        let file = |name: &str, role| HashedFile {
            name: name.to_string(),
            role,
            integrity: "sha384-x".to_string(),
        };
        Release {
            pinned_loader: "mighty-1111111111.js".to_string(),
            files: vec![
                file("mighty-1111111111.js", "loader"),
                file("mighty-2222222222.js", "glue"),
                file("mighty-3333333333.wasm", "wasm"),
                file("mighty-4444444444.css", "stylesheet"),
                file("mighty-5555555555.json", "words"),
            ],
        }
    }

    fn parsed(release: &Release) -> serde_json::Value {
        serde_json::from_str(&manifest(release)).unwrap()
    }

    #[test]
    fn the_manifest_exports_the_api_with_its_types_and_keeps_the_side_effect() {
        let text = manifest(&release());
        let manifest = parsed(&release());
        assert_eq!(manifest["name"], PACKAGE_NAME);
        assert_eq!(manifest["type"], "module");
        // The types are found whichever way a tool reads them.
        assert_eq!(manifest["types"], "./index.d.ts");
        assert_eq!(manifest["exports"]["."]["types"], "./index.d.ts");
        // In order: tools take the first condition that matches (`types` first for
        // TypeScript, `node` before the browser's `default`).
        let at = |needle: &str| text.find(needle).unwrap();
        assert!(
            at("\"types\": \"./index.d.ts\",\n      \"node\"") < at("\"default\": \"./index.js\"")
        );
        assert_eq!(manifest["exports"]["."]["default"], "./index.js");
        assert_eq!(manifest["exports"]["."]["node"], "./server.js");
        let side_effects: Vec<&str> = manifest["sideEffects"]
            .as_array()
            .unwrap()
            .iter()
            .map(|value| value.as_str().unwrap())
            .collect();
        assert!(side_effects.contains(&"./index.js") && side_effects.contains(&"./mighty.js"));
    }

    #[test]
    fn the_package_holds_the_loader_and_every_file_it_fetches_but_no_compressed_copy() {
        let manifest = parsed(&release());
        let files: Vec<&str> = manifest["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|value| value.as_str().unwrap())
            .collect();
        for needed in [
            "index.js",
            "index.d.ts",
            "server.js",
            "mighty.js",
            "mighty-2222222222.js",
            "mighty-3333333333.wasm",
            "mighty-4444444444.css",
            "mighty-5555555555.json",
        ] {
            assert!(files.contains(&needed), "{needed}");
        }
        assert!(
            !files
                .iter()
                .any(|file| file.ends_with(".gz") || file.ends_with(".br"))
        );
        assert!(
            !files.contains(&"mighty-1111111111.js"),
            "the exact-version loader copy is for CDN pages"
        );
        let assets: Vec<&str> = manifest["mighty"]["assets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|value| value.as_str().unwrap())
            .collect();
        assert_eq!(
            assets,
            [
                "mighty-2222222222.js",
                "mighty-3333333333.wasm",
                "mighty-4444444444.css",
                "mighty-5555555555.json"
            ]
        );
    }

    #[test]
    fn lay_out_writes_the_package_beside_the_bundle() {
        let dir = std::env::temp_dir().join(format!("mighty-npm-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let release = release();
        for name in ["mighty.js", "integrity.json"]
            .into_iter()
            .chain(release.files.iter().map(|file| file.name.as_str()))
        {
            fs::write(dir.join(name), b"x").unwrap();
        }
        let files = lay_out(&dir, &release).unwrap();
        let written: serde_json::Value =
            serde_json::from_slice(&fs::read(dir.join("package.json")).unwrap()).unwrap();
        assert_eq!(written, parsed(&release));
        assert!(files.contains(&"package.json".to_string()));
        let server = fs::read_to_string(dir.join("server.js")).unwrap();
        assert!(server.contains(&format!("\"{}\"", mighty_core::VERSION)));
        assert!(!server.contains("__MIGHTY_VERSION__"));
        fs::remove_dir_all(&dir).unwrap();
    }
}

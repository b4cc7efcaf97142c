//! Subresource Integrity for the bundle's content-hashed files, and the exact-version copy of
//! the loader that a page may pin with it.
//!
//! `mighty.js` is the moving URL: a new release replaces it under the same name, so an
//! `integrity` attribute on it breaks every page at the next release. It never gets one here.
//! Files named `mighty-<10 hex digits>.<ext>` never change under their name: their SRI hashes
//! (`sha384-<base64>`, the algorithm browsers and CDNs print) go to `dist/integrity.json` and
//! the terminal. The loader also gets an exact-version copy, `mighty-<hash>.js`, which is what
//! a page that wants `integrity` on its script tag pastes. This module only reads the files
//! `dist.rs` wrote and adds beside them; it never changes one.

use std::fs;
use std::path::Path;

use base64::Engine;
use sha2::{Digest, Sha256, Sha384};

use crate::dist;

/// `sha384-<base64 of the SHA-384 digest>`: the value of an `integrity` attribute.
pub fn subresource_integrity(bytes: &[u8]) -> String {
    format!(
        "sha384-{}",
        base64::engine::general_purpose::STANDARD.encode(Sha384::digest(bytes))
    )
}

/// `mighty-0a1b2c3d4e.wasm` (and `.js`, `.css`, `.json`): a name that never changes content.
/// Compressed copies (`.gz`, `.br`) are the same file to a browser, and are not listed.
pub fn is_content_hashed(name: &str) -> bool {
    let Some(rest) = name.strip_prefix("mighty-") else {
        return false;
    };
    let Some((hash, extension)) = rest.split_once('.') else {
        return false;
    };
    hash.len() == 10
        && hash.bytes().all(|byte| byte.is_ascii_hexdigit())
        && matches!(extension, "js" | "wasm" | "css" | "json")
}

/// The same ten hex digits `dist.rs` names files with (SHA-256's first five bytes).
fn short_hash(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .take(5)
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// One hashed file of the release.
pub struct HashedFile {
    pub name: String,
    /// What it is for: `loader`, `glue`, `wasm`, `stylesheet` or `words`.
    pub role: &'static str,
    pub integrity: String,
}

/// What [`write`] found and wrote.
pub struct Release {
    /// The exact-version loader (`mighty-<hash>.js`, the same bytes as `mighty.js`).
    pub pinned_loader: String,
    pub files: Vec<HashedFile>,
}

/// Writes the exact-version loader beside `mighty.js` (with `.gz` and `.br` copies, as
/// `dist.rs` does for every file), then `integrity.json`, and prints the table.
pub fn write(dist_dir: &Path) -> Result<Release, String> {
    let read = |name: &str| {
        fs::read(dist_dir.join(name))
            .map_err(|error| format!("reading {}: {error}", dist_dir.join(name).display()))
    };
    let loader = read("mighty.js")?;
    let pinned_loader = format!("mighty-{}.js", short_hash(&loader));
    for (name, bytes) in [
        (pinned_loader.clone(), loader.clone()),
        (format!("{pinned_loader}.gz"), dist::gzip(&loader)),
        (format!("{pinned_loader}.br"), dist::brotli(&loader)),
    ] {
        fs::write(dist_dir.join(&name), bytes)
            .map_err(|error| format!("writing dist/{name}: {error}"))?;
    }

    let mut names: Vec<String> = fs::read_dir(dist_dir)
        .map_err(|error| format!("reading {}: {error}", dist_dir.display()))?
        .filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().into_string().ok())
        .filter(|name| is_content_hashed(name))
        .collect();
    names.sort();
    let mut files = Vec::new();
    for name in names {
        let role = match name.rsplit('.').next() {
            Some("wasm") => "wasm",
            Some("css") => "stylesheet",
            Some("json") => "words",
            _ if name == pinned_loader => "loader",
            _ => "glue",
        };
        files.push(HashedFile {
            integrity: subresource_integrity(&read(&name)?),
            name,
            role,
        });
    }
    let release = Release {
        pinned_loader,
        files,
    };
    fs::write(
        dist_dir.join("integrity.json"),
        serde_json::to_string_pretty(&release.to_json()).map_err(|error| error.to_string())? + "\n",
    )
    .map_err(|error| format!("writing dist/integrity.json: {error}"))?;
    release.print();
    Ok(release)
}

impl Release {
    /// `dist/integrity.json`: the pinned loader's name and every hashed file's SRI hash.
    pub fn to_json(&self) -> serde_json::Value {
        let files: serde_json::Map<String, serde_json::Value> = self
            .files
            .iter()
            .map(|file| {
                (
                    file.name.clone(),
                    serde_json::json!({ "role": file.role, "integrity": file.integrity }),
                )
            })
            .collect();
        serde_json::json!({
            "version": mighty_core::VERSION,
            "loader": self.pinned_loader,
            "files": files,
        })
    }

    fn print(&self) {
        println!(
            "\nsubresource integrity (dist/integrity.json; for these exact-version names only, never for mighty.js)"
        );
        for file in &self.files {
            println!("{:<24} {:<10} {}", file.name, file.role, file.integrity);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integrity_is_sha384_in_base64_as_browsers_compute_it() {
        // The example of the SRI specification (W3C, section 3.2) and MDN.
        assert_eq!(
            subresource_integrity(b"alert('Hello, world.');"),
            "sha384-H8BRh8j48O9oYatfu5AZzq6A9RINhZO5H16dQZngK7T62em8MUt1FLm52t+eX6xO"
        );
        // The empty file: SHA-384's well-known empty digest, base64 with no line breaks.
        assert_eq!(
            subresource_integrity(b""),
            "sha384-OLBgp1GsljhM2TJ+sbHjaiH9txEUvgdDTAzHv2P24donTt6/529l+9Ua0vFImLlb"
        );
    }

    #[test]
    fn only_content_hashed_names_are_listed() {
        for name in [
            "mighty-0a1b2c3d4e.js",
            "mighty-0a1b2c3d4e.wasm",
            "mighty-0a1b2c3d4e.css",
            "mighty-0a1b2c3d4e.json",
        ] {
            assert!(is_content_hashed(name), "{name}");
        }
        for name in [
            "mighty.js",
            "mighty-0a1b2c3d4e.wasm.br",
            "mighty-0a1b2c3d4e.js.gz",
            "mighty-abc.js",
            "mighty-0a1b2c3d4z.js",
            "integrity.json",
            "size-report.json",
        ] {
            assert!(!is_content_hashed(name), "{name}");
        }
    }

    #[test]
    fn a_release_pins_the_loader_and_lists_every_hashed_file() {
        let dir = std::env::temp_dir().join(format!("mighty-integrity-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let files: [(&str, &[u8]); 5] = [
            ("mighty.js", b"// loader"),
            ("mighty-0123456789.js", b"// glue"),
            ("mighty-0123456789.js.gz", b"gzip"),
            ("mighty-abcdefabcd.wasm", b"\0asm\x01\0\0\0"),
            ("size-report.json", b"{}"),
        ];
        for (name, bytes) in files {
            fs::write(dir.join(name), bytes).unwrap();
        }
        let release = write(&dir).unwrap();
        let pinned = format!("mighty-{}.js", short_hash(b"// loader"));
        assert_eq!(release.pinned_loader, pinned);
        assert_eq!(fs::read(dir.join(&pinned)).unwrap(), b"// loader");
        assert!(dir.join(format!("{pinned}.br")).is_file());
        let json: serde_json::Value =
            serde_json::from_slice(&fs::read(dir.join("integrity.json")).unwrap()).unwrap();
        assert_eq!(json["loader"], pinned.as_str());
        let listed: Vec<&String> = json["files"].as_object().unwrap().keys().collect();
        let mut expected = [
            "mighty-0123456789.js".to_string(),
            "mighty-abcdefabcd.wasm".to_string(),
            pinned.clone(),
        ];
        expected.sort();
        assert_eq!(listed, expected.iter().collect::<Vec<_>>());
        assert_eq!(json["files"][&pinned]["role"], "loader");
        assert_eq!(json["files"]["mighty-0123456789.js"]["role"], "glue");
        assert_eq!(
            json["files"]["mighty-abcdefabcd.wasm"]["integrity"],
            subresource_integrity(b"\0asm\x01\0\0\0")
        );
        fs::remove_dir_all(&dir).unwrap();
    }
}

//! `cargo xtask dist` after the bundle: what a release adds beside the files `dist.rs` writes,
//! without changing them: the Subresource Integrity hashes and the exact-version loader
//! (`integrity.rs`), and the npm package's files (`npm.rs`). `dist/` stays flat: a CDN serves
//! it as it is, under `/v1/` (see `docs/DEPLOY.md`), and `npm publish dist/` publishes it.

use std::path::PathBuf;

use crate::run::workspace_root;
use crate::{dist, integrity, npm};

/// The major version of the embed contract the bundle implements: the folder a CDN serves it
/// under (`mighty-server` serves `dist/` at `/dist/v1/` too).
pub const MAJOR_VERSION: &str = "v1";

/// Where `dist.rs` wrote the bundle: `MIGHTY_DIST_DIR`, else `dist/`.
pub fn dist_dir() -> PathBuf {
    std::env::var_os("MIGHTY_DIST_DIR").map_or_else(|| workspace_root().join("dist"), PathBuf::from)
}

/// The bundle (`dist::build`), then the release's own files beside it.
pub fn build() -> Result<dist::SizeReport, String> {
    let report = dist::build()?;
    let release = integrity::write(&dist_dir())?;
    npm::lay_out(&dist_dir(), &release)?;
    Ok(report)
}

//! The server's configuration, from the environment (SPEC section 9). `mighty-server --help`
//! prints [`HELP`].

use std::net::SocketAddr;
use std::path::PathBuf;

pub const HELP: &str =
    "mighty-server: Mighty's reference server (demo directory, widget bundle, listing feed)

usage: mighty-server

environment:
  MIGHTY_ADDR           address to listen on (default 127.0.0.1:8080)
  MIGHTY_ROOT           folder holding index.html, www/ and dist/ (default: the working directory)
  MIGHTY_MODE           sandbox (the default); live comes later
  RUST_LOG              log filter, e.g. info or mighty_server=debug (default info)";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    Sandbox,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub address: SocketAddr,
    pub root: PathBuf,
    pub mode: Mode,
}

impl Config {
    /// Reads the configuration; an error names the variable and the fix.
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Result<Config, String> {
        let address_text = get("MIGHTY_ADDR").unwrap_or_else(|| "127.0.0.1:8080".to_string());
        let address = address_text.parse().map_err(|_| {
            format!("MIGHTY_ADDR={address_text:?} is not an address; write it like 127.0.0.1:8080")
        })?;
        let root = get("MIGHTY_ROOT")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("."));
        let mode = match get("MIGHTY_MODE").as_deref() {
            None | Some("sandbox") => Mode::Sandbox,
            Some("live") => {
                return Err("MIGHTY_MODE=live is not available yet; use sandbox".to_string());
            }
            Some(other) => return Err(format!("MIGHTY_MODE={other:?} is not a mode; use sandbox")),
        };
        Ok(Config {
            address,
            root,
            mode,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&str, &str)]) -> Result<Config, String> {
        Config::from_env(|name| {
            pairs
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| value.to_string())
        })
    }

    #[test]
    fn defaults_and_errors() {
        let defaults = config(&[]).unwrap();
        assert_eq!(defaults.address.to_string(), "127.0.0.1:8080");
        assert_eq!(defaults.mode, Mode::Sandbox);
        assert_eq!(
            config(&[("MIGHTY_ADDR", "localhost")]).unwrap_err(),
            "MIGHTY_ADDR=\"localhost\" is not an address; write it like 127.0.0.1:8080"
        );
        assert_eq!(
            config(&[("MIGHTY_MODE", "prod")]).unwrap_err(),
            "MIGHTY_MODE=\"prod\" is not a mode; use sandbox"
        );
    }
}

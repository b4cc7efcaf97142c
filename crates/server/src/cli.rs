//! The command line besides serving: `mighty-server seller add --name NAME`.

use crate::Config;
use crate::store::{Store, new_id};

/// Runs a subcommand; `Ok(output)` is printed on standard output.
pub fn run(arguments: &[String], config: &Config) -> Result<String, String> {
    match arguments {
        [seller, add, rest @ ..] if seller == "seller" && add == "add" => {
            let name = match rest {
                [flag, name] if flag == "--name" && !name.trim().is_empty() => name.trim(),
                _ => return Err("usage: mighty-server seller add --name NAME".to_string()),
            };
            let store = Store::open(&config.database).map_err(|error| error.to_string())?;
            let token = new_id("msk");
            let seller = store
                .add_seller(name, &token, crate::clock::real_now())
                .map_err(|error| error.to_string())?;
            Ok(serde_json::json!({ "seller_id": seller.id, "token": token }).to_string())
        }
        _ => Err(format!(
            "unknown command {:?}; see mighty-server --help",
            arguments.join(" ")
        )),
    }
}

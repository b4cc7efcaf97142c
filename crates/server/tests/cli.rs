//! `mighty-server seller add --name NAME` and `--help`, run as the real binary.

mod support;

use std::process::Command;

use mighty_server::store::{DatabaseUrl, Store};

#[test]
fn seller_add_prints_a_working_token() {
    let root = support::temp_root();
    let database = root.0.join("cli.db");
    let output = Command::new(env!("CARGO_BIN_EXE_mighty-server"))
        .args(["seller", "add", "--name", "Hearth & Wick"])
        .env("DATABASE_URL", format!("sqlite:{}", database.display()))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let printed: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let token = printed["token"].as_str().unwrap();
    assert!(printed["seller_id"].as_str().unwrap().starts_with("sel_"));
    let store = Store::open(&DatabaseUrl::Sqlite(database)).unwrap();
    let seller = store
        .seller_by_token(token)
        .unwrap()
        .expect("the printed token authenticates");
    assert_eq!(seller.name, "Hearth & Wick");
}

#[test]
fn bad_commands_and_configuration_say_what_to_do() {
    let run = |arguments: &[&str], env: &[(&str, &str)]| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_mighty-server"));
        command
            .args(arguments)
            .env("DATABASE_URL", "sqlite::memory:");
        for (name, value) in env {
            command.env(name, value);
        }
        let output = command.output().unwrap();
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
        )
    };
    let (code, stderr, _) = run(&["seller", "add"], &[]);
    assert_eq!(
        (code, stderr.trim()),
        (
            Some(2),
            "mighty-server: usage: mighty-server seller add --name NAME"
        )
    );
    let (code, stderr, _) = run(&["frobnicate"], &[]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("unknown command"));
    let (code, stderr, _) = run(&[], &[("MIGHTY_ADDR", "nowhere")]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("MIGHTY_ADDR=\"nowhere\" is not an address"));
    let (code, _, stdout) = run(&["--help"], &[]);
    assert_eq!(code, Some(0));
    for variable in [
        "MIGHTY_ADDR",
        "DATABASE_URL",
        "MIGHTY_MODE",
        "MIGHTY_SELLER_TOKEN",
    ] {
        assert!(stdout.contains(variable), "--help lists {variable}");
    }
}

#[test]
fn the_schema_is_migrated_once_and_a_newer_database_is_refused() {
    let root = support::temp_root();
    let path = root.0.join("migrate.db");
    let url = DatabaseUrl::Sqlite(path.clone());
    drop(Store::open(&url).unwrap());
    drop(Store::open(&url).unwrap()); // a second start applies nothing twice
    let connection = rusqlite::Connection::open(&path).unwrap();
    let version: i64 = connection
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .unwrap();
    assert_eq!(version, 1);
    connection.pragma_update(None, "user_version", 99).unwrap();
    drop(connection);
    let error = Store::open(&url)
        .err()
        .expect("a newer schema is refused")
        .to_string();
    assert!(
        error.contains("schema version 99, newer than this server knows"),
        "{error}"
    );
}

//! `mighty-server seller add --name NAME` and `--help`, run as the real binary.

mod support;

use std::process::Command;

use mighty_server::store::{DatabaseUrl, Store};

/// Runs one statement on an SQLite file, as an operator's shell would: the first column of
/// each row, as text.
fn sqlite(path: &std::path::Path, statement: &str) -> Vec<String> {
    use sqlx::{Connection, Row};
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut connection =
            sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
                .await
                .unwrap();
        let rows = sqlx::query(statement)
            .fetch_all(&mut connection)
            .await
            .unwrap();
        rows.iter()
            .map(|row| {
                row.try_get::<String, _>(0)
                    .or_else(|_| row.try_get::<i64, _>(0).map(|number| number.to_string()))
                    .unwrap()
            })
            .collect()
    })
}

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
    // A PostgreSQL that cannot be reached at start: a clear error naming it, no hang.
    let started = std::time::Instant::now();
    let (code, stderr, _) = run(
        &[],
        &[
            (
                "DATABASE_URL",
                "postgres://mighty:hunter2@127.0.0.1:1/mighty",
            ),
            (
                "MIGHTY_SECRET_KEY",
                "a-key-of-at-least-32-characters-0123456789",
            ),
            ("MIGHTY_ADDR", "127.0.0.1:0"),
        ],
    );
    assert_ne!(code, Some(0));
    assert!(
        stderr.contains("cannot reach PostgreSQL at postgres://mighty@127.0.0.1:1/mighty"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("hunter2"),
        "the password stays out of messages"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
    // PostgreSQL without the shared key: refused, naming it.
    let (code, stderr, _) = run(
        &[],
        &[("DATABASE_URL", "postgres://mighty@127.0.0.1:1/mighty")],
    );
    assert_ne!(code, Some(0));
    assert!(
        stderr.contains("MIGHTY_SECRET_KEY is required with PostgreSQL"),
        "{stderr}"
    );
    let (code, _, stdout) = run(&["--help"], &[]);
    assert_eq!(code, Some(0));
    for variable in [
        "MIGHTY_ADDR",
        "DATABASE_URL",
        "MIGHTY_MODE",
        "MIGHTY_SELLER_TOKEN",
        "MIGHTY_DB_POOL_SIZE",
        "MIGHTY_SECRET_KEY",
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
    let version = sqlite(&path, "PRAGMA user_version");
    assert_eq!(version, [Store::SCHEMA_VERSION.to_string()]);
    const { assert!(Store::SCHEMA_VERSION >= 2) };
    sqlite(&path, "PRAGMA user_version = 99");
    let error = Store::open(&url)
        .err()
        .expect("a newer schema is refused")
        .to_string();
    assert!(
        error.contains("schema version 99, newer than this server knows"),
        "{error}"
    );
}

#[test]
fn import_writes_listings_and_a_page_and_reports_bad_rows() {
    let root = support::temp_root();
    let csv = root.0.join("directory.csv");
    std::fs::write(&csv, "name,city,category,price,currency\nHearth & Wick,Lyon,Candles,24.00,EUR\nNo Price,Lyon,Bakery,,EUR\n").unwrap();
    let out = root.0.join("site");
    let output = Command::new(env!("CARGO_BIN_EXE_mighty-server"))
        .args([
            "import",
            "--csv",
            csv.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--checkout",
            "https://pay.example/v1/checkout/sessions",
        ])
        .env("DATABASE_URL", "sqlite::memory:")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        (summary["imported"].as_u64(), summary["rejected"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(summary["errors"][0]["line"], 3);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("line 3: price: is missing"), "{stderr}");
    let listing: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("listings/hearth-wick.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(listing["offers"][0]["price"], 2400);
    let page = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(page.contains("data-mighty-listing=\"listings/hearth-wick.json\""));
    assert!(
        std::fs::read_to_string(out.join("directory.css"))
            .unwrap()
            .starts_with("[data-mighty]{min-height:420px}")
    );

    let usage = Command::new(env!("CARGO_BIN_EXE_mighty-server"))
        .args(["import", "--csv"])
        .env("DATABASE_URL", "sqlite::memory:")
        .output()
        .unwrap();
    assert_eq!(usage.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&usage.stderr)
            .contains("usage: mighty-server import --csv FILE --out DIR")
    );
}

#[test]
fn report_prints_a_listings_numbers() {
    let root = support::temp_root();
    let seeds = root.0.join("seeds");
    std::fs::create_dir_all(&seeds).unwrap();
    std::fs::write(
        seeds.join("candle-trio.json"),
        support::listing("candle-trio", None).to_string(),
    )
    .unwrap();
    let database = root.0.join("report.db");
    let run = |arguments: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_mighty-server"))
            .args(arguments)
            .env("DATABASE_URL", format!("sqlite:{}", database.display()))
            .env("MIGHTY_SELLER_TOKEN", support::SELLER)
            .env("MIGHTY_SEED_LISTINGS", &seeds)
            .output()
            .unwrap()
    };
    let output = run(&["report", "--listing", "candle-trio"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.starts_with("candle-trio — "), "{stdout}");
    assert!(stdout.contains("30-day repeat rate"));
    let missing = run(&["report", "--listing", "nope"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no listing \"nope\""));
}

/// Security review 10: the database and the key file beside it are readable by their owner
/// only, and no secret is stored in the database.
#[cfg(unix)]
#[test]
fn the_database_and_key_file_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let root = support::temp_root();
    let database = root.0.join("private.db");
    std::fs::write(&database, b"").unwrap();
    std::fs::set_permissions(&database, std::fs::Permissions::from_mode(0o644)).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_mighty-server"))
        .args(["seller", "add", "--name", "Hearth & Wick"])
        .env("DATABASE_URL", format!("sqlite:{}", database.display()))
        .env_remove("MIGHTY_SECRET_KEY")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mode =
        |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(
        mode(&database),
        0o600,
        "an existing world-readable file is narrowed"
    );
    let state = mighty_server::AppState::open(mighty_server::Config {
        database: DatabaseUrl::Sqlite(database.clone()),
        secret_key: None,
        link_secret: None,
        seller_token: None,
        ..mighty_server::Config::for_tests(root.0.clone())
    })
    .unwrap();
    let key_file = mighty_server::secrets::key_file_path(&database);
    assert_eq!(mode(&key_file), 0o600);
    drop(state);
    let settings = sqlite(&database, "SELECT key FROM settings");
    assert!(
        !settings.iter().any(|key| key.contains("key")),
        "{settings:?}"
    );
}

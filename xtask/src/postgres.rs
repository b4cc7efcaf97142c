//! A throwaway PostgreSQL cluster for the tests and benchmarks: Debian's `postgresql`
//! package (installed at once when root, else the exact command is printed), `initdb` with
//! trust authentication in a temporary directory, on a free loopback port with its own socket
//! directory. `initdb` and `pg_ctl` refuse to run as root: as root they run as the `postgres`
//! user, on a directory it owns. Stopped and removed when dropped.

use std::path::PathBuf;
use std::process::Command;

use crate::run::{command_output, run_command};

/// The oldest PostgreSQL the server supports.
const OLDEST_MAJOR: u32 = 14;

pub struct Cluster {
    dir: PathBuf,
    bin: PathBuf,
    port: u16,
    as_postgres_user: bool,
}

fn is_root() -> bool {
    command_output(Command::new("id").arg("-u")).is_ok_and(|uid| uid.trim() == "0")
}

/// `/usr/lib/postgresql/<major>/bin` of the newest installed PostgreSQL 14 or later.
fn installed_bin() -> Option<PathBuf> {
    let mut majors: Vec<u32> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse().ok())
        .filter(|major| *major >= OLDEST_MAJOR)
        .collect();
    majors.sort_unstable();
    let bin = PathBuf::from(format!("/usr/lib/postgresql/{}/bin", majors.pop()?));
    bin.join("initdb").exists().then_some(bin)
}

fn ensure_installed() -> Result<PathBuf, String> {
    if let Some(bin) = installed_bin() {
        return Ok(bin);
    }
    let install = "apt-get update && apt-get install -y postgresql";
    if !is_root() {
        return Err(format!(
            "PostgreSQL {OLDEST_MAJOR}+ is needed for the storage tests on PostgreSQL; run: sudo sh -c '{install}'"
        ));
    }
    println!("xtask: installing Debian's postgresql");
    run_command(
        Command::new("sh").args(["-c", &format!("DEBIAN_FRONTEND=noninteractive {install}")]),
    )?;
    installed_bin().ok_or_else(|| "postgresql was installed but no initdb was found".to_string())
}

/// Single-quoted for `sh`.
fn quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

impl Cluster {
    /// Makes and starts a cluster; waits until it accepts connections.
    pub fn start() -> Result<Cluster, String> {
        let bin = ensure_installed()?;
        let as_postgres_user = is_root();
        let port = crate::run::free_port()?;
        let dir = std::env::temp_dir().join(format!("mighty-pg-{port}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|error| format!("{}: {error}", dir.display()))?;
        if as_postgres_user {
            let owner = format!("postgres {}", quoted(&dir.display().to_string()));
            run_command(Command::new("sh").args(["-c", &format!("chown {owner}")]))?;
        }
        let cluster = Cluster {
            dir,
            bin,
            port,
            as_postgres_user,
        };
        cluster.run(&cluster.as_owner(&format!(
            "{} -D {} -A trust -U postgres --no-sync",
            quoted(&cluster.tool("initdb")),
            quoted(&cluster.data().display().to_string())
        )))?;
        cluster.run(&cluster.start_command_text())?;
        Ok(cluster)
    }

    fn tool(&self, name: &str) -> String {
        self.bin.join(name).display().to_string()
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// `command` as this cluster's owner: the `postgres` user when we are root.
    fn as_owner(&self, command: &str) -> String {
        if self.as_postgres_user {
            format!("su postgres -s /bin/sh -c {}", quoted(command))
        } else {
            command.to_string()
        }
    }

    fn start_command_text(&self) -> String {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200",
            self.port,
            self.dir.display()
        );
        self.as_owner(&format!(
            "{} -D {} -o {} -l {} -w -t 60 start",
            quoted(&self.tool("pg_ctl")),
            quoted(&self.data().display().to_string()),
            quoted(&options),
            quoted(&self.dir.join("log").display().to_string())
        ))
    }

    /// A shell command that starts the cluster again (the outage test).
    pub fn start_command(&self) -> String {
        self.start_command_text()
    }

    /// A shell command that stops the cluster, disconnecting every client.
    pub fn stop_command(&self) -> String {
        self.as_owner(&format!(
            "{} -D {} -m fast -w -t 60 stop",
            quoted(&self.tool("pg_ctl")),
            quoted(&self.data().display().to_string())
        ))
    }

    fn run(&self, command: &str) -> Result<(), String> {
        run_command(Command::new("sh").args(["-c", command]))
    }

    /// The URL of the cluster's `postgres` database, as its superuser.
    pub fn admin_url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let stop = self.as_owner(&format!(
            "{} -D {} -m immediate -w stop",
            quoted(&self.tool("pg_ctl")),
            quoted(&self.data().display().to_string())
        ));
        let _ = Command::new("sh").args(["-c", &stop]).output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

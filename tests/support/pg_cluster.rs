//! PostgreSQL clusters of a test's own (initdb in a temporary directory, on
//! a free port), for tests that kill, restart or promote servers.

use std::path::PathBuf;

/// The PostgreSQL server programs (`initdb`, `pg_ctl`, `pg_basebackup`):
/// `DAL_TEST_PG_BIN`, or the newest `/usr/lib/postgresql/*/bin`.
pub fn pg_bin() -> Option<PathBuf> {
    if let Ok(dir) = std::env::var("DAL_TEST_PG_BIN") {
        return Some(dir.into());
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|p| p.join("pg_ctl").exists() && p.join("initdb").exists())
        .collect();
    found.sort_by_key(|p| {
        p.parent()
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str())
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0)
    });
    found.pop()
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Whether this process runs as root (PostgreSQL refuses to: its programs
/// then run as `postgres`).
pub fn running_as_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// A temporary directory the server programs may write (owned by
/// `postgres` when they run as it).
pub fn server_dir(prefix: &str, as_postgres: bool) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "{prefix}_{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    ));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    if as_postgres {
        let ok = std::process::Command::new("chown")
            .arg("postgres")
            .arg(&dir)
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        assert!(ok, "chown postgres {}", dir.display());
    }
    dir
}

/// Run a server program (as `postgres` when `as_postgres`).
pub fn run_program(
    bin: &std::path::Path,
    as_postgres: bool,
    program: &str,
    args: &[&str],
) -> Result<(), String> {
    let path = bin.join(program);
    let mut cmd = if as_postgres {
        let mut c = std::process::Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(&path);
        c
    } else {
        std::process::Command::new(&path)
    };
    let out = cmd
        .args(args)
        .output()
        .map_err(|e| format!("{program}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{program} {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// Stand-alone clusters (no replication), one per port, stopped and removed
/// on drop.
pub struct Clusters {
    pub bin: PathBuf,
    pub dir: PathBuf,
    pub ports: Vec<u16>,
    pub as_postgres: bool,
}

impl Clusters {
    /// `n` clusters, started; `Err` when the server programs are missing.
    pub fn create(n: usize, prefix: &str) -> Result<Clusters, String> {
        let bin = pg_bin().ok_or_else(|| {
            "the PostgreSQL server programs (initdb, pg_ctl) under /usr/lib/postgresql/*/bin \
             (or DAL_TEST_PG_BIN)"
                .to_string()
        })?;
        let as_postgres = running_as_root();
        let c = Clusters {
            bin,
            dir: server_dir(prefix, as_postgres),
            ports: (0..n).map(|_| free_port()).collect(),
            as_postgres,
        };
        for i in 0..n {
            let data = c.data(i);
            c.run(
                "initdb",
                &["-D", &data, "-U", "postgres", "--auth=trust", "--no-sync"],
            )?;
            let conf = format!(
                "port = {}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{}'\n\
                 max_connections = 100\nshared_buffers = 16MB\n",
                c.ports[i],
                c.dir.display()
            );
            std::fs::write(format!("{data}/postgresql.conf"), conf).map_err(|e| e.to_string())?;
            c.start(i)?;
        }
        Ok(c)
    }

    pub fn run(&self, program: &str, args: &[&str]) -> Result<(), String> {
        run_program(&self.bin, self.as_postgres, program, args)
    }

    pub fn data(&self, i: usize) -> String {
        self.dir.join(format!("c{i}")).display().to_string()
    }

    pub fn start(&self, i: usize) -> Result<(), String> {
        let data = self.data(i);
        let log = format!("{}/c{i}.log", self.dir.display());
        self.run(
            "pg_ctl",
            &["-D", &data, "-l", &log, "-w", "-t", "60", "start"],
        )
    }

    /// Stop cluster `i` the way a crash would (`-m immediate`: no
    /// checkpoint, connections cut).
    pub fn kill(&self, i: usize) -> Result<(), String> {
        self.run("pg_ctl", &["-D", &self.data(i), "-m", "immediate", "stop"])
    }

    pub fn url(&self, i: usize) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.ports[i])
    }
}

impl Drop for Clusters {
    fn drop(&mut self) {
        for i in 0..self.ports.len() {
            let _ = self.kill(i);
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

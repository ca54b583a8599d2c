//! Compile-time measurement: how much dal's derive costs a crate next to the
//! usual sqlx + serde derives.
//!
//! Writes a throwaway Cargo workspace into a temporary directory with two
//! crates holding the same 50 structs in `src/entities.rs`:
//!
//! - `ents_dal`: `#[derive(dal::Entity)]`, chained by relations (entity `i`
//!   has `#[dal(belongs_to = E{i-1})] parent_id` and
//!   `#[dal(has_many(children = E{i+1}::PARENT))]`), as bench/src/dal_impl.rs
//!   declares `Parent`/`Child`;
//! - `ents_base`: `#[derive(serde::Serialize, serde::Deserialize, sqlx::FromRow)]`.
//!
//! Both use the bench's `Cargo.lock` (same versions; dal by path) and one
//! `CARGO_TARGET_DIR` under the temporary directory. Dependencies are built
//! once, untimed, per crate and profile; then, `--n` times (default 4) per
//! profile (debug, release) and crate, interleaved: touch `src/entities.rs`,
//! time `cargo build -p <crate>`. Prints the medians and dal/baseline.
//!
//!   cargo run --release --manifest-path bench/Cargo.toml --bin compile-time -- [--n 4] [--keep]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};

const ENTITIES: usize = 50;

fn fields(i: usize, relation: bool) -> String {
    let mut s = String::new();
    if relation {
        s.push_str("    #[dal(id)]\n");
    }
    s.push_str("    pub id: i64,\n");
    if i > 0 {
        if relation {
            s.push_str(&format!("    #[dal(belongs_to = E{:02})]\n", i - 1));
        }
        s.push_str("    pub parent_id: i64,\n");
    }
    for (name, len) in [("name", 100), ("email", 150)] {
        if relation {
            s.push_str(&format!("    #[dal(length = {len})]\n"));
        }
        s.push_str(&format!("    pub {name}: String,\n"));
    }
    s.push_str(
        "    pub age: i32,\n    pub score: f64,\n    pub active: bool,\n    pub created_at: NaiveDateTime,\n",
    );
    s
}

fn dal_entities() -> String {
    let mut s = String::from(
        "//! 50 dal entities chained by belongs_to / has_many (generated).\n\nuse chrono::NaiveDateTime;\nuse dal::Entity;\n",
    );
    for i in 0..ENTITIES {
        let has_many = if i + 1 < ENTITIES {
            format!(", has_many(children = E{:02}::PARENT)", i + 1)
        } else {
            String::new()
        };
        s.push_str(&format!(
            "\n#[derive(Entity, Debug, Clone)]\n#[dal(table = \"e{i:02}\"{has_many})]\npub struct E{i:02} {{\n{}}}\n",
            fields(i, true)
        ));
    }
    s
}

fn base_entities() -> String {
    let mut s = String::from(
        "//! The same 50 structs with serde and sqlx::FromRow (generated).\n\nuse chrono::NaiveDateTime;\n",
    );
    for i in 0..ENTITIES {
        s.push_str(&format!(
            "\n#[derive(serde::Serialize, serde::Deserialize, sqlx::FromRow, Debug, Clone)]\npub struct E{i:02} {{\n{}}}\n",
            fields(i, false)
        ));
    }
    s
}

fn write(path: &Path, text: &str) -> Result<()> {
    if let Some(d) = path.parent() {
        std::fs::create_dir_all(d)?;
    }
    std::fs::write(path, text).with_context(|| format!("write {}", path.display()))
}

fn generate(root: &Path, bench: &Path) -> Result<()> {
    let dal = bench.join("../dal").canonicalize()?;
    write(
        &root.join("Cargo.toml"),
        "[workspace]\nmembers = [\"ents_dal\", \"ents_base\"]\nresolver = \"3\"\n\n[profile.release]\ndebug = \"line-tables-only\"\n",
    )?;
    std::fs::copy(bench.join("Cargo.lock"), root.join("Cargo.lock"))?;
    write(
        &root.join("ents_dal/Cargo.toml"),
        &format!(
            "[package]\nname = \"ents_dal\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n[dependencies]\ndal = {{ path = {:?} }}\nchrono = {{ version = \"0.4\", default-features = false, features = [\"std\", \"clock\"] }}\n",
            dal.display().to_string()
        ),
    )?;
    write(&root.join("ents_dal/src/lib.rs"), "pub mod entities;\n")?;
    write(&root.join("ents_dal/src/entities.rs"), &dal_entities())?;
    write(
        &root.join("ents_base/Cargo.toml"),
        "[package]\nname = \"ents_base\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n[dependencies]\nserde = { version = \"1\", features = [\"derive\"] }\nsqlx = { version = \"0.9\", default-features = false, features = [\"runtime-tokio\", \"postgres\", \"mysql\", \"sqlite\", \"chrono\", \"derive\", \"rust_decimal\"] }\nchrono = { version = \"0.4\", default-features = false, features = [\"std\", \"clock\", \"serde\"] }\n",
    )?;
    write(&root.join("ents_base/src/lib.rs"), "pub mod entities;\n")?;
    write(&root.join("ents_base/src/entities.rs"), &base_entities())?;
    Ok(())
}

fn build(root: &Path, krate: &str, release: bool) -> Result<Duration> {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(root)
        .args(["build", "--quiet", "-p", krate])
        .env("CARGO_TARGET_DIR", root.join("target"))
        .env_remove("CARGO_PROFILE_RELEASE_INCREMENTAL")
        .env_remove("RUSTFLAGS");
    if release {
        cmd.arg("--release");
    }
    let t0 = Instant::now();
    let out = cmd.output()?;
    let took = t0.elapsed();
    if !out.status.success() {
        bail!(
            "cargo build -p {krate}{} failed:\n{}",
            if release { " --release" } else { "" },
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(took)
}

fn touch(path: &Path) -> Result<()> {
    let f = std::fs::OpenOptions::new().append(true).open(path)?;
    f.set_modified(std::time::SystemTime::now())?;
    Ok(())
}

fn median(v: &[Duration]) -> Duration {
    let mut v = v.to_vec();
    v.sort();
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2
    }
}

fn main() -> Result<()> {
    let mut n = 4usize;
    let mut keep = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--n" => n = args.next().context("--n N")?.parse()?,
            "--keep" => keep = true,
            other => bail!("unknown argument {other:?} (--n N, --keep)"),
        }
    }
    ensure!(n > 0, "--n must be at least 1");
    let command = std::env::args().collect::<Vec<_>>().join(" ");
    let bench = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::Builder::new().prefix("dal-compile-").tempdir()?;
    let root = dir.path().to_path_buf();
    generate(&root, &bench)?;
    println!("command: {command}");
    println!(
        "workspace: {} ({ENTITIES} structs per crate)",
        root.display()
    );
    let crates = ["ents_dal", "ents_base"];
    for release in [false, true] {
        for k in crates {
            let t0 = Instant::now();
            build(&root, k, release)?;
            eprintln!(
                "  prebuilt {k} ({}) in {:.0}s",
                if release { "release" } else { "debug" },
                t0.elapsed().as_secs_f64()
            );
        }
    }
    // [profile][crate] -> times
    let mut times = vec![vec![Vec::new(); crates.len()]; 2];
    for round in 0..n {
        for (p, release) in [false, true].into_iter().enumerate() {
            for (c, k) in crates.iter().enumerate() {
                touch(&root.join(k).join("src/entities.rs"))?;
                let t = build(&root, k, release)?;
                eprintln!(
                    "  round {} {k} {}: {:.2}s",
                    round + 1,
                    if release { "release" } else { "debug" },
                    t.as_secs_f64()
                );
                times[p][c].push(t);
            }
        }
    }
    println!(
        "\nrebuild after touching src/entities.rs ({ENTITIES} structs), median of {n}; target: dal/baseline <= 1.0x debug, <= 1.2x release"
    );
    println!(
        "{:<8} | {:>22} | {:>26} | {:>14}",
        "profile", "dal (50 Entity + rel.)", "baseline (serde + FromRow)", "dal / baseline"
    );
    for (p, name) in ["debug", "release"].into_iter().enumerate() {
        let d = median(&times[p][0]);
        let b = median(&times[p][1]);
        println!(
            "{name:<8} | {:>21.2}s | {:>25.2}s | {:>13.2}x",
            d.as_secs_f64(),
            b.as_secs_f64(),
            d.as_secs_f64() / b.as_secs_f64()
        );
    }
    for (p, name) in ["debug", "release"].into_iter().enumerate() {
        for (c, k) in crates.iter().enumerate() {
            let all: Vec<String> = times[p][c]
                .iter()
                .map(|t| format!("{:.2}", t.as_secs_f64()))
                .collect();
            println!("  {name} {k}: {} s", all.join(", "));
        }
    }
    if keep {
        let kept = dir.keep();
        println!("kept {}", kept.display());
    }
    Ok(())
}

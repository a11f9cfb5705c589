//! `cargo xtask bench segment-api`: builds the server (the `server` profile, as deployed) and
//! runs its `bench segment-api` command: track calls posted to Segment's `/v1/batch` by
//! concurrent clients into a fresh SQLite database (`target/bench/segment-api.db`), reported as
//! events per second with the load average around it (the machines are shared). Options go
//! through unchanged (`--ingest-events N`, `--ingest-batch N`, `--ingest-clients N`,
//! `--ingest-database-url postgres://…/empty-db`).

use std::{path::Path, process::Command};

use crate::{build, cmd};

pub fn run(root: &Path, rest: &[String]) -> anyhow::Result<()> {
    build::server(root)?;
    if let Ok(load) = std::fs::read_to_string("/proc/loadavg") {
        println!("\nLoad average before the bench: {}", load.trim());
    }
    let dir = root.join("target/bench");
    // 200,000 calls unless told otherwise: the server's own default for `--ingest-events` is 0
    // since the upload API's backfill replaced that figure in `bench segments`.
    let events: &[&str] = if rest.iter().any(|a| a.starts_with("--ingest-events")) {
        &[]
    } else {
        &["--ingest-events", "200000"]
    };
    cmd::run(
        Command::new(build::server_binary(root))
            .args(["bench", "segment-api", "--dir"])
            .arg(&dir)
            .args(["--ingest-batch", "500"])
            .args(events)
            .args(rest)
            .env("RUST_LOG", "warn"),
    )?;
    if let Ok(load) = std::fs::read_to_string("/proc/loadavg") {
        println!("Load average after the bench: {}", load.trim());
    }
    Ok(())
}

//! `cargo xtask bench segments`: builds the server (the `server` profile, as deployed) and runs
//! its `bench segments` command: first the backfill (profiles then events through the upload
//! API into a growing database, per event order and distribution, events/s per step, the
//! server's CPU, I/O and peak RSS; see docs/scaling.md), then it builds or reuses the reference
//! data set under `target/bench` and prints the estimate's median, member streaming and the
//! database size. Options go through unchanged: `--backfill-only`, `--backfill-events N
//! --backfill-profiles M`, `--postgres-url postgres://…/DB` (PostgreSQL too, on a copy of the
//! data set kept in that database), `--backfill-postgres-url` …

use std::{path::Path, process::Command};

use anyhow::bail;

use crate::{build, cmd};

pub fn run(root: &Path, args: &[String]) -> anyhow::Result<()> {
    let Some((what, rest)) = args.split_first() else {
        bail!("usage: cargo xtask bench segments|segment-api|sync …");
    };
    match what.as_str() {
        "segments" => {}
        "segment-api" => return crate::bench_segment_api::run(root, rest),
        "sync" => return sync(rest),
        _ => bail!("unknown benchmark {what:?}; there are: segments, segment-api, sync"),
    }
    build::server(root)?;
    // The machines are shared: the load says how much of the CPU the figures had.
    if let Ok(load) = std::fs::read_to_string("/proc/loadavg") {
        println!("\nLoad average before the bench: {}", load.trim());
    }
    let dir = root.join("target/bench");
    cmd::run(
        Command::new(build::server_binary(root))
            .args(["bench", "segments", "--dir"])
            .arg(&dir)
            .args(rest)
            .env("RUST_LOG", "warn"),
    )?;
    if let Ok(load) = std::fs::read_to_string("/proc/loadavg") {
        println!("Load average after the bench: {}", load.trim());
    }
    Ok(())
}

/// `cargo xtask bench sync [MEMBERS]`: the criterion-less bench binary `server/benches/sync.rs`,
/// built with the `server` profile: hashing, a full sync of MEMBERS into the sandbox, and an
/// incremental run with 1% churn.
fn sync(rest: &[String]) -> anyhow::Result<()> {
    cmd::run(
        Command::new(env!("CARGO"))
            .args([
                "bench",
                "-p",
                "server",
                "--bench",
                "sync",
                "--profile",
                "server",
                "--",
            ])
            .args(rest),
    )
}

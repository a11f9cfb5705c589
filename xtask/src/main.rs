//! Project automation, run as `cargo xtask <command>` (an alias in `.cargo/config.toml`).
//!
//! Every command first makes sure the machine has what the build needs (idempotent, and quick
//! when already done), then does its work. See `README.md` for the two commands that matter:
//! `cargo xtask run` and `cargo xtask test`.

// This is a command-line tool: printing to stdout is its job.
#![allow(clippy::print_stdout)]

mod bench;
mod bench_segment_api;
mod build;
mod cmd;
mod css;
mod fuzz;
mod postgres;
mod setup;
mod size;
mod size_breakdown;
mod test;

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

const USAGE: &str = "\
Usage: cargo xtask <command> [options]

Commands:
  run [--port N] [--database-url URL] [--demo]
        Set up, build the app (release) and the server, and start it.
  test  Set up, then fmt, clippy (native and wasm32), all Rust tests (the server's on SQLite and
        again on PostgreSQL: TEST_POSTGRES_URL, or the local server on 127.0.0.1:5432, started
        if it is down), the Playwright suite against a freshly built server on a temporary
        database, the app's payload size and budgets (see `size`), and the API fuzz (see `fuzz`).
  fuzz  Build the server (release) and fuzz its whole API from its OpenAPI document with
        Schemathesis (pinned, installed once into target/fuzz-venv): signed in as an admin,
        failing on any 5xx, any answer that does not match its schema, and any invalid request
        the server accepts. About two minutes.
  build Set up and build the app and the server, without starting anything, and print the
        app's payload (failing when it is over budget, see `size`).
        --spa: build the app only (quicker while working on its size).
  setup Install what the build needs (wasm target, wasm-bindgen CLI, npm packages, Chromium).
  size  Print the app's payload size (wasm + js + css, raw and brotli) from the last build:
        the first visit, what opening each lazily loaded group of pages downloads, and every
        file. Fails when the first visit is above 200 KB brotli or a group above 150 KB (or
        above its allowance, for the groups still over: see `xtask/src/size.rs`).
        --breakdown: build the app with function names (into target/size-breakdown)
        and show which kinds of code its compressed size goes to, then what each module
        of the split (main, pages, shared chunks) holds.
  bench sync [MEMBERS]
        Audience sync benchmarks (optimised build): normalise + hash 6-key rows, a full sync of
        MEMBERS (default 1,000,000) into the sandbox, and an incremental run with 1% churn.
  bench segments [--profiles N] [--events N] [--days N] [--runs N] [--ingest-events N]
                 [--postgres-url postgres://…/DB]
        Build the server and measure the reference segment's estimate (median of 5), member
        streaming (what the sync reads) and the upload API's ingestion rate on the reference data
        set (1M profiles, 20M events; built once into target/bench and reused while the schema is
        unchanged). With --postgres-url, the data set is also copied into that PostgreSQL
        database (created, kept between runs) and the estimate and streaming measured there.
        --ingest-events 0 skips ingestion.
  bench segment-api [--ingest-events N] [--ingest-batch N] [--ingest-clients N]
        Build the server and measure ingestion through Segment's tracking API: N track calls
        (default 200,000) posted to /v1/batch in batches of 500 by 4 concurrent clients into a
        fresh SQLite database; prints events/s and the load average around the run.
";

fn main() {
    if let Err(err) = real_main() {
        eprintln!("\nxtask: error: {err:#}");
        std::process::exit(1);
    }
}

fn real_main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let command = args.next().unwrap_or_default();
    let rest: Vec<String> = args.collect();
    let root = workspace_root()?;
    std::env::set_current_dir(&root)?;
    match command.as_str() {
        "run" => build::run(&root, &parse_run_args(&rest)?),
        "test" => test::run(&root, &rest),
        "fuzz" => fuzz::run(&root, &rest),
        "build" if rest.iter().any(|a| a == "--spa") => {
            setup::ensure(&root, setup::Needs::BUILD)?;
            build::spa(&root)?;
            size::report(&root)
        }
        "build" => {
            setup::ensure(&root, setup::Needs::BUILD)?;
            build::spa(&root)?;
            build::server(&root)?;
            size::report(&root)
        }
        "setup" => setup::ensure(&root, setup::Needs::ALL),
        "size" if rest.iter().any(|a| a == "--breakdown") => size_breakdown::report(&root),
        "size" => size::report(&root),
        "bench" => bench::run(&root, &rest),
        "" | "help" | "-h" | "--help" => {
            print!("{USAGE}");
            Ok(())
        }
        other => bail!("unknown command {other:?}\n\n{USAGE}"),
    }
}

/// Options of `cargo xtask run`.
pub struct RunArgs {
    pub port: u16,
    pub database_url: Option<String>,
    pub demo: bool,
}

fn parse_run_args(args: &[String]) -> anyhow::Result<RunArgs> {
    let mut out = RunArgs {
        port: 3000,
        database_url: None,
        demo: false,
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) => (f, Some(v.to_owned())),
            None => (arg.as_str(), None),
        };
        let mut value = |name: &str| {
            inline
                .clone()
                .or_else(|| it.next().cloned())
                .with_context(|| format!("{name} needs a value"))
        };
        match flag {
            "--port" => {
                let v = value("--port")?;
                out.port = v
                    .parse()
                    .with_context(|| format!("--port {v:?} is not a port"))?;
            }
            "--database-url" => out.database_url = Some(value("--database-url")?),
            "--demo" => out.demo = true,
            other => bail!("unknown option {other:?} for `run`\n\n{USAGE}"),
        }
    }
    Ok(out)
}

fn workspace_root() -> anyhow::Result<PathBuf> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest
        .parent()
        .map(Path::to_path_buf)
        .context("xtask lives one level below the workspace root")
}

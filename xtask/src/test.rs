//! `cargo xtask test`: every check CI runs, in the order that fails fastest.

use std::{net::TcpListener, path::Path, process::Command, time::Instant};

use anyhow::bail;

use crate::{build, cmd, fuzz, postgres, setup, size};

pub fn run(root: &Path, args: &[String]) -> anyhow::Result<()> {
    if let Some(arg) = args.first() {
        bail!("`test` takes no options (got {arg:?})");
    }
    let start = Instant::now();
    setup::ensure(root, setup::Needs::ALL)?;

    cmd::run(Command::new("cargo").args(["fmt", "--all", "--check"]))?;
    // The app is browser-only: it is linted for wasm32, the rest natively.
    cmd::run(Command::new("cargo").args([
        "clippy",
        "--locked",
        "--workspace",
        "--exclude",
        "app",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;
    cmd::run(Command::new("cargo").args([
        "clippy",
        "--locked",
        "--package",
        "app",
        "--package",
        "shared",
        "--lib",
        "--target",
        "wasm32-unknown-unknown",
        "--",
        "-D",
        "warnings",
    ]))?;
    // Every Rust test on SQLite first (the default backend), then the server's again on
    // PostgreSQL: the suite's `spawn_app` gives each test its own database when
    // `TEST_POSTGRES_URL` is set.
    cmd::run(
        Command::new("cargo")
            .args(["test", "--locked", "--workspace", "--exclude", "app"])
            .env_remove("TEST_POSTGRES_URL"),
    )?;
    server_tests_on_postgres()?;

    build::spa(root)?;
    // The payload's budgets (issue 19), before the slow steps: a page grown too large fails here.
    size::report(root)?;
    build::server(root)?;
    // Prints, among its results, the campaign list's first meaningful paint (first-paint.spec.ts).
    end_to_end(root)?;
    // The OpenAPI document against the server it describes.
    fuzz::fuzz(root)?;

    println!("\nAll checks passed in {}.", cmd::human(start.elapsed()));
    Ok(())
}

/// The server's unit and integration tests on a throwaway PostgreSQL database, dropped afterwards
/// (also when a test fails) with every database the tests created from it.
fn server_tests_on_postgres() -> anyhow::Result<()> {
    let admin = postgres::admin_url()?;
    let run = postgres::RunDatabase::create(&admin)?;
    println!(
        "\nThe server's tests again, on PostgreSQL, from the database {} (dropped afterwards, with \
         every database the tests create from it)",
        run.name()
    );
    cmd::run(
        Command::new("cargo")
            .args([
                "test",
                "--locked",
                "--package",
                "server",
                "--lib",
                "--test",
                "api",
            ])
            .env("TEST_POSTGRES_URL", run.url()),
    )
}

/// The Playwright suite, against the freshly built server on a temporary database.
fn end_to_end(root: &Path) -> anyhow::Result<()> {
    let port = free_port()?;
    let db_dir = tempdir()?;
    let result = cmd::run(
        Command::new("npx")
            .args(["playwright", "test"])
            .current_dir(root.join("end2end"))
            .env("SERVER_BIN", build::server_binary(root))
            .env("E2E_PORT", port.to_string())
            .env(
                "E2E_DATABASE_URL",
                format!("sqlite://{}/e2e.db", db_dir.display()),
            )
            .env("CHROMIUM_PATH", setup::CHROMIUM),
    );
    let _ = std::fs::remove_dir_all(&db_dir);
    result
}

pub fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn tempdir() -> anyhow::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("fb-audiences-e2e-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

//! Installs what the build and the tests need. Every step checks first, so a second run costs a
//! few milliseconds; nothing is downloaded except from the package registries.

use std::{fs, path::Path, process::Command};

use anyhow::{Context, bail};

use crate::cmd;

pub const CHROMIUM: &str = "/usr/bin/chromium";

/// Which parts of the set-up a command needs.
#[derive(Clone, Copy)]
pub struct Needs {
    pub browser: bool,
}

impl Needs {
    pub const BUILD: Self = Self { browser: false };
    pub const ALL: Self = Self { browser: true };
}

pub fn ensure(root: &Path, needs: Needs) -> anyhow::Result<()> {
    wasm_target()?;
    wasm_bindgen_cli(root)?;
    npm_packages(root)?;
    if needs.browser {
        chromium()?;
    }
    Ok(())
}

fn wasm_target() -> anyhow::Result<()> {
    let installed = cmd::output(Command::new("rustup").args(["target", "list", "--installed"]))
        .unwrap_or_default();
    if installed
        .lines()
        .any(|l| l.trim() == "wasm32-unknown-unknown")
    {
        return Ok(());
    }
    cmd::run(Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]))
}

/// The wasm-bindgen version the app links against, read from `Cargo.lock`: the CLI must match it
/// exactly or the generated JS and the module disagree.
pub fn pinned_wasm_bindgen(root: &Path) -> anyhow::Result<String> {
    let lock = fs::read_to_string(root.join("Cargo.lock")).context("reading Cargo.lock")?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == "name = \"wasm-bindgen\""
            && let Some(version) = lines
                .next()
                .and_then(|l| l.strip_prefix("version = \""))
                .and_then(|v| v.strip_suffix('"'))
        {
            return Ok(version.to_owned());
        }
    }
    bail!("Cargo.lock has no wasm-bindgen package")
}

fn wasm_bindgen_cli(root: &Path) -> anyhow::Result<()> {
    let want = pinned_wasm_bindgen(root)?;
    let have = cmd::output(Command::new("wasm-bindgen").arg("--version")).unwrap_or_default();
    if have.split_whitespace().nth(1) == Some(want.as_str()) {
        return Ok(());
    }
    println!(
        "wasm-bindgen CLI {want} is needed (found: {:?}); installing (~3 min)",
        have.trim()
    );
    // Without --locked: the CLI's published lockfile pins a crate the registry no longer serves.
    cmd::run(Command::new("cargo").args([
        "install",
        "wasm-bindgen-cli",
        "--version",
        &format!("={want}"),
    ]))
}

fn npm_packages(root: &Path) -> anyhow::Result<()> {
    let dir = root.join("end2end");
    let lock = dir.join("package-lock.json");
    let stamp = dir.join("node_modules/.package-lock.json");
    let fresh = match (fs::metadata(&lock), fs::metadata(&stamp)) {
        (Ok(l), Ok(s)) => s.modified()? >= l.modified()?,
        _ => false,
    };
    if fresh {
        return Ok(());
    }
    if cmd::output(Command::new("npm").arg("--version")).is_none() {
        bail!("npm is missing: install Node.js 20+ with npm (Debian: apt-get install nodejs npm)");
    }
    cmd::run(
        Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(&dir),
    )
}

fn chromium() -> anyhow::Result<()> {
    if Path::new(CHROMIUM).exists() {
        return Ok(());
    }
    if !is_root() {
        bail!("Chromium is missing: run `sudo apt-get install -y chromium` (Debian's package)");
    }
    cmd::run(Command::new("apt-get").arg("update").arg("-qq"))?;
    cmd::run(
        Command::new("apt-get")
            .args(["install", "-y", "-qq", "chromium"])
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )
}

fn is_root() -> bool {
    cmd::output(Command::new("id").arg("-u")).is_some_and(|uid| uid.trim() == "0")
}

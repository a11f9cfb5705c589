//! Running external commands: echoed before they run, timed, and failing loudly.

use std::{
    process::Command,
    time::{Duration, Instant},
};

use anyhow::{Context, bail};

/// Runs `cmd`, streaming its output, and fails if it exits non-zero.
pub fn run(cmd: &mut Command) -> anyhow::Result<()> {
    let shown = show(cmd);
    println!("\n$ {shown}");
    let start = Instant::now();
    let status = cmd
        .status()
        .with_context(|| format!("cannot start `{shown}` (is it installed?)"))?;
    println!("  ({} for `{}`)", human(start.elapsed()), short(&shown));
    if !status.success() {
        bail!("`{shown}` failed ({status})");
    }
    Ok(())
}

/// Runs `cmd` quietly and returns its stdout, or `None` if it cannot run or fails.
pub fn output(cmd: &mut Command) -> Option<String> {
    let out = cmd.output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

pub fn human(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs < 60.0 {
        format!("{secs:.1}s")
    } else {
        format!("{}m{:02}s", d.as_secs() / 60, d.as_secs() % 60)
    }
}

fn show(cmd: &Command) -> String {
    std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(|s| s.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

fn short(shown: &str) -> String {
    shown
        .split_whitespace()
        .take(4)
        .collect::<Vec<_>>()
        .join(" ")
}

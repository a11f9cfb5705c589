//! The browser payload: what a first visit downloads (wasm + js + css), raw and brotli-compressed.

use std::{fs, io::Write, path::Path};

use anyhow::Context;

use crate::build::SITE;

const FILES: [&str; 4] = ["pkg/app_bg.wasm", "pkg/app.js", "boot.js", "main.css"];

/// The files worth a brotli copy: the server sends `<file>.br` to browsers that accept brotli
/// (the other files are a few hundred bytes).
const PRECOMPRESSED: [&str; 3] = ["pkg/app_bg.wasm", "pkg/app.js", "main.css"];

/// Writes `<file>.br` beside each large asset of the built site, unless it is newer than the
/// file. Quality 11 takes seconds for the WASM: paid once per build here, not by the server on
/// every first visit.
pub fn precompress(site: &Path) -> anyhow::Result<()> {
    for file in PRECOMPRESSED {
        let path = site.join(file);
        let br_path = site.join(format!("{file}.br"));
        if is_fresh(&br_path, &path) {
            continue;
        }
        let bytes = fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        fs::write(&br_path, brotli(&bytes)?)
            .with_context(|| format!("writing {}", br_path.display()))?;
    }
    Ok(())
}

/// Whether `derived` exists and was written after `source` last changed.
fn is_fresh(derived: &Path, source: &Path) -> bool {
    let modified = |p: &Path| fs::metadata(p).and_then(|m| m.modified()).ok();
    matches!((modified(derived), modified(source)), (Some(d), Some(s)) if d >= s)
}

pub fn report(root: &Path) -> anyhow::Result<()> {
    let site = root.join(SITE);
    println!("\nSPA payload ({SITE}):");
    println!("  {:<18} {:>10} {:>10}", "file", "raw", "brotli");
    let (mut raw_total, mut br_total) = (0, 0);
    for file in FILES {
        let path = site.join(file);
        let bytes = fs::read(&path)
            .with_context(|| format!("{SITE}/{file} is missing: run `cargo xtask build`"))?;
        // What the server sends when the build left a copy; the same computation otherwise.
        let br_path = site.join(format!("{file}.br"));
        let br = match fs::read(&br_path) {
            Ok(br) if is_fresh(&br_path, &path) => br.len(),
            _ => brotli(&bytes)?.len(),
        };
        raw_total += bytes.len();
        br_total += br;
        println!("  {file:<18} {:>10} {:>10}", kb(bytes.len()), kb(br));
    }
    println!(
        "  {:<18} {:>10} {:>10}",
        "total",
        kb(raw_total),
        kb(br_total)
    );
    Ok(())
}

fn brotli(bytes: &[u8]) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::new();
    {
        // Quality 11, window 22: the most a static pre-compression step can get.
        let mut writer = brotli::CompressorWriter::new(&mut out, 64 * 1024, 11, 22);
        writer.write_all(bytes)?;
    }
    Ok(out)
}

#[allow(clippy::cast_precision_loss)] // sizes are far below 2^52 bytes
pub fn kb(n: usize) -> String {
    format!("{:.1} KB", n as f64 / 1024.0)
}

//! The browser payload: what a first visit downloads (wasm + js + css), raw and brotli-compressed.

use std::{fs, io::Write, path::Path};

use anyhow::Context;

use crate::build::SITE;

const FILES: [&str; 4] = ["pkg/app_bg.wasm", "pkg/app.js", "boot.js", "main.css"];

pub fn report(root: &Path) -> anyhow::Result<()> {
    let site = root.join(SITE);
    println!("\nSPA payload ({SITE}):");
    println!("  {:<18} {:>10} {:>10}", "file", "raw", "brotli");
    let (mut raw_total, mut br_total) = (0, 0);
    for file in FILES {
        let bytes = fs::read(site.join(file))
            .with_context(|| format!("{SITE}/{file} is missing: run `cargo xtask build`"))?;
        let br = brotli_len(&bytes)?;
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

fn brotli_len(bytes: &[u8]) -> anyhow::Result<usize> {
    let mut out = Vec::new();
    {
        // Quality 11, window 22: what a static pre-compression step would use.
        let mut writer = brotli::CompressorWriter::new(&mut out, 64 * 1024, 11, 22);
        writer.write_all(bytes)?;
    }
    Ok(out.len())
}

#[allow(clippy::cast_precision_loss)] // sizes are far below 2^52 bytes
fn kb(n: usize) -> String {
    format!("{:.1} KB", n as f64 / 1024.0)
}

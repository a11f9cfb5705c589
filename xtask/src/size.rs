//! The browser payload: what a first visit downloads (wasm + js + css), raw and brotli-compressed.

use std::{fs, io::Write, path::Path};

use anyhow::Context;

use crate::build::{CHUNK_MAP, SITE};

/// What every first visit downloads: the main module and its glue (`app.js` imports the chunk
/// loader, `__wasm_split.js`, statically), `boot.js` and the stylesheet. The lazily loaded pages'
/// chunks come on top, each when its page is first opened.
const FIRST_VISIT: [&str; 5] = [
    "pkg/app_bg.wasm",
    "pkg/app.js",
    "pkg/__wasm_split.js",
    "boot.js",
    "main.css",
];

/// Writes `<file>.br` beside each large asset of the built site (every module, chunk and script
/// of `pkg`, and the stylesheet), unless it is newer than the file. The server sends it to
/// browsers that accept brotli. Quality 11 takes seconds for the WASM: paid once per build
/// here, not by the server on every first visit.
pub fn precompress(site: &Path) -> anyhow::Result<()> {
    let mut files = pkg_files(site)?;
    files.push("main.css".to_owned());
    for file in files {
        let path = site.join(&file);
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

/// The `.wasm` and `.js` files of `pkg`, as paths relative to the site, sorted.
fn pkg_files(site: &Path) -> anyhow::Result<Vec<String>> {
    let pkg = site.join("pkg");
    let mut files = Vec::new();
    for entry in fs::read_dir(&pkg).with_context(|| format!("reading {}", pkg.display()))? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        if name.ends_with(".wasm") || name.ends_with(".js") {
            files.push(format!("pkg/{name}"));
        }
    }
    files.sort();
    Ok(files)
}

/// Whether `derived` exists and was written after `source` last changed.
fn is_fresh(derived: &Path, source: &Path) -> bool {
    let modified = |p: &Path| fs::metadata(p).and_then(|m| m.modified()).ok();
    matches!((modified(derived), modified(source)), (Some(d), Some(s)) if d >= s)
}

/// Raw and brotli size of one file of the site: the brotli copy the server sends when the build
/// left a fresh one, the same computation otherwise.
fn sizes(site: &Path, file: &str) -> anyhow::Result<(usize, usize)> {
    let path = site.join(file);
    let bytes = fs::read(&path)
        .with_context(|| format!("{SITE}/{file} is missing: run `cargo xtask build`"))?;
    let br_path = site.join(format!("{file}.br"));
    let br = match fs::read(&br_path) {
        Ok(br) if is_fresh(&br_path, &path) => br.len(),
        _ => brotli(&bytes)?.len(),
    };
    Ok((bytes.len(), br))
}

pub fn report(root: &Path) -> anyhow::Result<()> {
    let site = root.join(SITE);
    println!("\nSPA payload ({SITE}), first visit:");
    println!("  {:<24} {:>10} {:>10}", "file", "raw", "brotli");
    let (mut raw_total, mut br_total) = (0, 0);
    for file in FIRST_VISIT {
        let (raw, br) = sizes(&site, file)?;
        raw_total += raw;
        br_total += br;
        println!("  {file:<24} {:>10} {:>10}", kb(raw), kb(br));
    }
    println!(
        "  {:<24} {:>10} {:>10}",
        "first visit",
        kb(raw_total),
        kb(br_total)
    );

    // Each lazily loaded page: the chunks the router fetches when it is first opened.
    let chunk_map = fs::read_to_string(root.join(CHUNK_MAP)).unwrap_or_default();
    let mut pages = Vec::new();
    for line in chunk_map.lines() {
        let Some((page, chunks)) = line.trim().trim_end_matches(',').split_once(": ") else {
            continue;
        };
        let mut page_br = 0;
        for chunk in chunks.trim_matches(['[', ']']).split(", ") {
            page_br += sizes(&site, &format!("pkg/{}", chunk.trim_matches('"')))?.1;
        }
        // Split points are named `<function>_<hash>`: keep the function's name.
        let page = page.trim_matches('"');
        let page = page.rsplit_once('_').map_or(page, |(name, _)| name);
        pages.push((page.to_owned(), page_br));
    }
    if !pages.is_empty() {
        println!(
            "\nLazily loaded pages (brotli, on first opening, chunks shared between pages counted each time):"
        );
        for (page, br) in &pages {
            println!("  {page:<24} {:>10}", kb(*br));
        }
    }
    let (mut all_raw, mut all_br) = (0, 0);
    for file in pkg_files(&site)?
        .iter()
        .map(String::as_str)
        .chain(["boot.js", "main.css"])
    {
        let (raw, br) = sizes(&site, file)?;
        all_raw += raw;
        all_br += br;
    }
    println!(
        "\nEvery file of the SPA: {} raw, {} brotli",
        kb(all_raw),
        kb(all_br)
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

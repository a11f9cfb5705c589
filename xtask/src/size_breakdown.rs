//! `cargo xtask size --breakdown`: where the WASM's compressed bytes go, by kind of code.
//!
//! It builds the app once more with function names kept, into its own target directory so the
//! shipped build is untouched. v0 symbol mangling names generic arguments, so code that leptos
//! compiles once per closure of ours can be told from the framework's own. Each row is a group of
//! functions picked by their demangled names (groups may overlap). "marginal" is how much the
//! brotli-compressed code shrinks when the group is left out: what removing that code would save.
//! Raw bytes mislead here: hundreds of generic copies compress to almost nothing.
//!
//! The figures are for the code section of the module as rustc writes it, before wasm-bindgen
//! and wasm-opt, compressed at brotli quality 9 (quality 11 would take minutes for all rows).

use std::{fs, io::Write, path::Path, process::Command};

use anyhow::{Context, bail};

use crate::{cmd, size::kb};

const TARGET_DIR: &str = "target/size-breakdown";

/// Modules whose code compresses to less than this get no per-source rows.
const MODULE_ROWS_FROM: usize = 8 * 1024;

/// Per module, the sources with the most raw code get a row (their marginal size is computed).
const OWNER_ROWS: usize = 40;

/// A row: its label and which functions (by demangled name) it holds.
struct Group {
    label: &'static str,
    holds: fn(&str) -> bool,
}

fn own_app(n: &str) -> bool {
    starts_with_crate(n, "app::")
}

/// Mentions one of our closures among its generic arguments. `app::` must start a path (not end
/// a longer crate name such as `webapp::`).
fn for_app_closure(n: &str) -> bool {
    n.match_indices("app::").any(|(i, _)| {
        let starts_path = !n[..i]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_');
        starts_path
            && n[i..]
                .split(['<', '>', ',', ' '])
                .next()
                .is_some_and(|path| path.contains("{closure#"))
    })
}

fn starts_with_crate(n: &str, krate: &str) -> bool {
    n.trim_start_matches(['<', '&']).starts_with(krate)
}

const GROUPS: &[Group] = &[
    Group {
        label: "app: component bodies",
        holds: |n| n.contains("untrack_with_diagnostics") && n.contains("app::"),
    },
    Group {
        label: "app: its own functions and closures",
        holds: own_app,
    },
    Group {
        label: "framework code compiled per app closure",
        holds: |n| !own_app(n) && !n.contains("untrack_with_diagnostics") && for_app_closure(n),
    },
    Group {
        label: "serde: deserialising",
        holds: |n| {
            ["Deserializ", "serde_json::de", "Visitor", "visit_"]
                .iter()
                .any(|p| n.contains(p))
        },
    },
    Group {
        label: "serde: serialising",
        holds: |n| n.contains("Serializ") || n.contains("serde_json::ser"),
    },
    Group {
        label: "jiff (dates and time zones)",
        holds: |n| n.contains("jiff"),
    },
    Group {
        label: "shared: its own functions",
        holds: |n| starts_with_crate(n, "shared::"),
    },
    Group {
        label: "leptos_router",
        holds: |n| n.contains("leptos_router"),
    },
    Group {
        label: "reactive_graph: its own functions",
        holds: |n| starts_with_crate(n, "reactive_graph::"),
    },
    Group {
        label: "tachys (rendering): its own functions",
        holds: |n| starts_with_crate(n, "tachys::"),
    },
    Group {
        label: "core::fmt (formatting)",
        holds: |n| n.contains("core::fmt"),
    },
    Group {
        label: "slice sorting",
        holds: |n| n.contains("core::slice::sort"),
    },
];

pub fn report(root: &Path) -> anyhow::Result<()> {
    cmd::run(
        crate::build::wasm_release_build(&mut Command::new("cargo"))
            .env("CARGO_TARGET_DIR", root.join(TARGET_DIR))
            .env("CARGO_PROFILE_RELEASE_STRIP", "false")
            // Replaces every `rustflags` of the config (the file's and the size flags), so it
            // repeats them.
            .env(
                "RUSTFLAGS",
                format!(
                    "--cfg erase_components -Csymbol-mangling-version=v0 -Clink-args=--emit-relocs {}",
                    crate::build::SIZE_FLAGS.join(" ")
                ),
            ),
    )?;
    let path = root
        .join(TARGET_DIR)
        .join("wasm32-unknown-unknown/release/app.wasm");
    let bytes = fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
    let (functions, data) = functions(&bytes)?;

    let all: Vec<&[u8]> = functions.iter().map(|f| f.body).collect();
    let full = compressed_len(&all)?;
    let raw: usize = all.iter().map(|b| b.len()).sum();
    println!(
        "\nWASM code by kind ({} functions, {} raw, {} brotli-9; before wasm-bindgen and wasm-opt):",
        functions.len(),
        kb(raw),
        kb(full)
    );
    println!(
        "  {:<44} {:>7} {:>11} {:>13}",
        "group", "count", "raw", "marginal br"
    );
    for group in GROUPS {
        let (inside, outside): (Vec<&Function<'_>>, Vec<&Function<'_>>) =
            functions.iter().partition(|f| (group.holds)(&f.name));
        let rest: Vec<&[u8]> = outside.iter().map(|f| f.body).collect();
        let raw: usize = inside.iter().map(|f| f.body.len()).sum();
        println!(
            "  {:<44} {:>7} {:>11} {:>13}",
            group.label,
            inside.len(),
            kb(raw),
            kb(full - compressed_len(&rest)?)
        );
    }
    println!(
        "\nData section (strings, vtables, lookup tables): {} raw, {} brotli-9.",
        kb(data.len()),
        kb(compressed_len(&[data])?)
    );
    by_module(root, &bytes)
}

/// Cuts the named module at its split points, as `cargo xtask build` does, and prints what each
/// output module holds: its code's size and the sources that weigh most in it (marginal
/// brotli-9, as above). This shows which code a page's download carries and which chunks code
/// shared between groups of pages lands in.
fn by_module(root: &Path, module: &[u8]) -> anyhow::Result<()> {
    let dir = root.join(TARGET_DIR).join("split");
    if dir.exists() {
        fs::remove_dir_all(&dir)?;
    }
    fs::create_dir_all(&dir)?;
    let main = dir.join("main.wasm");
    let mut options = wasm_split_cli_support::Options::new(module);
    options.output_dir = &dir;
    options.main_out_path = &main;
    let split = wasm_split_cli_support::transform(options)
        .map_err(|e| anyhow::anyhow!("splitting the WASM module: {e:?}"))?;
    let mut users = std::collections::BTreeMap::<String, Vec<String>>::new();
    for (page, chunks) in split.prefetch_map {
        for chunk in chunks {
            users.entry(chunk).or_default().push(page.clone());
        }
    }
    let mut modules: Vec<(String, Vec<u8>)> = vec![("main".to_owned(), fs::read(&main)?)];
    for entry in fs::read_dir(&dir)? {
        let path = entry?.path();
        let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned());
        if let Some(stem) = stem.filter(|s| s != "main")
            && path.extension().is_some_and(|e| e == "wasm")
        {
            modules.push((stem, fs::read(&path)?));
        }
    }
    modules.sort_by_key(|m| std::cmp::Reverse(m.1.len()));
    println!(
        "\nBy output module (code only, brotli-9, before wasm-bindgen and wasm-opt; a chunk \
         lists the split points that fetch it):"
    );
    for (name, bytes) in &modules {
        // A chunk of a few tiny functions can come without a name section: nothing to attribute.
        let Ok((functions, data)) = functions(bytes) else {
            println!("  {name}: no function names, {} raw", kb(bytes.len()));
            continue;
        };
        let all: Vec<&[u8]> = functions.iter().map(|f| f.body).collect();
        let full = compressed_len(&all)?;
        let users = users
            .get(name)
            .map(|u| format!(" ({})", u.join(", ")))
            .unwrap_or_default();
        println!(
            "  {name}{users}: {} functions, code {} brotli-9, data {} raw",
            functions.len(),
            kb(full),
            kb(data.len())
        );
        // One compression per row: only the modules and owners that can matter get one (a
        // full listing compressed once per owner of 70 modules took over an hour).
        if full < MODULE_ROWS_FROM {
            continue;
        }
        let mut owners = std::collections::BTreeMap::<String, Vec<usize>>::new();
        for (i, f) in functions.iter().enumerate() {
            owners.entry(owner(&f.name)).or_default().push(i);
        }
        let mut owners: Vec<(String, Vec<usize>)> = owners.into_iter().collect();
        owners.sort_by_key(|(_, members)| {
            std::cmp::Reverse(
                members
                    .iter()
                    .map(|&i| functions[i].body.len())
                    .sum::<usize>(),
            )
        });
        owners.truncate(OWNER_ROWS);
        let mut rows = Vec::new();
        for (owner, members) in owners {
            let members: std::collections::BTreeSet<usize> = members.into_iter().collect();
            let rest: Vec<&[u8]> = functions
                .iter()
                .enumerate()
                .filter(|(i, _)| !members.contains(i))
                .map(|(_, f)| f.body)
                .collect();
            rows.push((full.saturating_sub(compressed_len(&rest)?), owner));
        }
        rows.sort_by(|a, b| b.cmp(a));
        for (marginal, owner) in rows.iter().take(20) {
            println!("      {:>9}  {owner}", kb(*marginal));
        }
    }
    Ok(())
}

/// Where a function comes from: the app's or `shared`'s module (two levels below the crate),
/// the app's module for framework code compiled for one of its closures, or else the crate.
fn owner(name: &str) -> String {
    let name = name.trim_start_matches(['<', '&']);
    let name = name.strip_prefix("mut ").unwrap_or(name);
    let app_path = name
        .match_indices("app::")
        .find(|(i, _)| {
            !name[..*i]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_alphanumeric() || c == '_')
        })
        .map(|(i, _)| &name[i..]);
    let path = if name.starts_with("shared::") {
        name
    } else if let Some(app) = app_path {
        app
    } else {
        return name
            .split("::")
            .next()
            .unwrap_or(name)
            .split(['<', ' '])
            .next()
            .unwrap_or(name)
            .to_owned();
    };
    path.split(['<', '>', ' ', '{', '(', ','])
        .next()
        .unwrap_or(path)
        .split("::")
        .take(4)
        .collect::<Vec<_>>()
        .join("::")
}

struct Function<'a> {
    name: String,
    body: &'a [u8],
}

/// The module's defined functions with their demangled names (from the `name` section), and
/// its data section.
fn functions(wasm: &[u8]) -> anyhow::Result<(Vec<Function<'_>>, &[u8])> {
    if wasm.get(..4) != Some(b"\0asm") {
        bail!("not a WASM module");
    }
    let mut imported = 0;
    let mut bodies = Vec::new();
    let mut data: &[u8] = &[];
    let mut names = std::collections::HashMap::new();
    let mut r = Reader { bytes: wasm, at: 8 };
    while r.at < wasm.len() {
        let id = r.byte()?;
        let len = r.uleb()?;
        let mut s = Reader {
            bytes: r.take(len)?,
            at: 0,
        };
        match id {
            // Imports: count the functions, which come first in the function index space.
            2 => {
                for _ in 0..s.uleb()? {
                    let module = s.uleb()?;
                    s.take(module)?;
                    let field = s.uleb()?;
                    s.take(field)?;
                    match s.byte()? {
                        0 => {
                            s.uleb()?;
                            imported += 1;
                        }
                        1 => {
                            s.byte()?;
                            limits(&mut s)?;
                        }
                        2 => limits(&mut s)?,
                        3 => {
                            s.take(2)?;
                        }
                        kind => bail!("unknown import kind {kind}"),
                    }
                }
            }
            11 => data = s.bytes,
            10 => {
                for _ in 0..s.uleb()? {
                    let size = s.uleb()?;
                    bodies.push(s.take(size)?);
                }
            }
            0 => {
                let name_len = s.uleb()?;
                if s.take(name_len)? != b"name" {
                    continue;
                }
                while s.at < s.bytes.len() {
                    let sub = s.byte()?;
                    let size = s.uleb()?;
                    let mut sub_reader = Reader {
                        bytes: s.take(size)?,
                        at: 0,
                    };
                    if sub != 1 {
                        continue;
                    }
                    for _ in 0..sub_reader.uleb()? {
                        let index = sub_reader.uleb()?;
                        let len = sub_reader.uleb()?;
                        let raw = String::from_utf8_lossy(sub_reader.take(len)?);
                        names.insert(index, format!("{:#}", rustc_demangle::demangle(&raw)));
                    }
                }
            }
            _ => {}
        }
    }
    if names.is_empty() {
        bail!("the module has no function names (built with `strip`?)");
    }
    let functions = bodies
        .into_iter()
        .enumerate()
        .map(|(i, body)| Function {
            name: names.remove(&(imported + i)).unwrap_or_default(),
            body,
        })
        .collect();
    Ok((functions, data))
}

fn limits(r: &mut Reader<'_>) -> anyhow::Result<()> {
    let flags = r.uleb()?;
    r.uleb()?;
    if flags & 1 == 1 {
        r.uleb()?;
    }
    Ok(())
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn byte(&mut self) -> anyhow::Result<u8> {
        let b = *self.bytes.get(self.at).context("truncated WASM")?;
        self.at += 1;
        Ok(b)
    }

    fn uleb(&mut self) -> anyhow::Result<usize> {
        let (mut value, mut shift) = (0usize, 0);
        loop {
            let b = self.byte()?;
            value |= usize::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(value);
            }
            shift += 7;
        }
    }

    fn take(&mut self, n: usize) -> anyhow::Result<&'a [u8]> {
        let end = self.at.checked_add(n).context("truncated WASM")?;
        let slice = self.bytes.get(self.at..end).context("truncated WASM")?;
        self.at = end;
        Ok(slice)
    }
}

fn compressed_len(parts: &[&[u8]]) -> anyhow::Result<usize> {
    let mut out = Vec::new();
    {
        let mut writer = brotli::CompressorWriter::new(&mut out, 64 * 1024, 9, 22);
        for part in parts {
            writer.write_all(part)?;
        }
    }
    Ok(out.len())
}

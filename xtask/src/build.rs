//! Building the SPA (release WASM → wasm-bindgen → wasm-opt, plus static files) into
//! `target/site`, and the server binary that embeds it.

use std::{
    fs,
    path::{Path, PathBuf},
    process::Command,
};

use anyhow::Context;

use crate::{RunArgs, cmd, setup};

pub const SITE: &str = "target/site";
/// The server's build profile (see the root `Cargo.toml`): release speed, unwinding panics.
pub const SERVER_PROFILE: &str = "server";

const WASM_FEATURES: [&str; 7] = [
    "--enable-bulk-memory",
    "--enable-bulk-memory-opt",
    "--enable-multivalue",
    "--enable-mutable-globals",
    "--enable-nontrapping-float-to-int",
    "--enable-reference-types",
    "--enable-sign-ext",
];

/// Turns off wasm-opt's inlining (see `spa`).
const NO_INLINING: [&str; 3] = [
    "--always-inline-max-function-size=0",
    "--flexible-inline-max-function-size=0",
    "--one-caller-inline-max-function-size=0",
];

pub fn server_binary(root: &Path) -> PathBuf {
    root.join("target").join(SERVER_PROFILE).join("server")
}

/// Compiler flags that make the browser's module smaller without changing what it does
/// (docs/payload.md, "Compiler flags"): a derived `Debug` prints the type's name only (nothing
/// the user reads is worded by a derived `Debug`; `{:?}` of strings and numbers is unchanged),
/// and a panic's message no longer carries its source file, line and column. Measured together
/// on 2026-12-07: first visit 215.0 → 208.4 KB brotli, stats 158.5 → 144.7, Segments 188.5 →
/// 173.5, the wizard 324.6 → 307.2 (`-Zfmt-debug=none` saved only 0.3 KB more, and would blank
/// every `{:?}`).
///
/// They are unstable (`-Z`) flags of the one toolchain the build uses, allowed on a stable
/// compiler by `RUSTC_BOOTSTRAP=1` for this one build: should a later toolchain drop them, the
/// build fails at once and naming the flag (it cannot change behaviour silently), and deleting
/// this list restores the plain build. `RUSTC_BOOTSTRAP` also lets build scripts that probe for
/// nightly features (eyre's, for one) find them: that touches only the `release` profile's
/// artifacts, which no other command of ours builds (the server has its own profile, tests and
/// clippy theirs), so run `cargo build --release` by hand with the same variable, or not at all.
pub const SIZE_FLAGS: [&str; 2] = ["-Zfmt-debug=shallow", "-Zlocation-detail=none"];

/// `cargo build` of the browser's release module, with [`SIZE_FLAGS`] added to the rustflags of
/// `.cargo/config.toml` (a `--config` array is appended to the file's, not put in its place).
pub fn wasm_release_build(command: &mut Command) -> &mut Command {
    let flags = SIZE_FLAGS.map(|f| format!("\"{f}\"")).join(", ");
    command
        .args(["build", "--locked", "--package", "app"])
        .args(["--target", "wasm32-unknown-unknown", "--release"])
        .arg("--config")
        .arg(format!(
            "target.wasm32-unknown-unknown.rustflags = [{flags}]"
        ))
        .env("RUSTC_BOOTSTRAP", "1")
}

/// Builds the browser app into `target/site`.
pub fn spa(root: &Path) -> anyhow::Result<()> {
    cmd::run(wasm_release_build(&mut Command::new("cargo")))?;
    let site = root.join(SITE);
    let pkg = site.join("pkg");
    fs::create_dir_all(&pkg)?;

    // Splitting, wasm-bindgen and wasm-opt take most of a warm build: skip them when the module
    // is unchanged.
    let module = root.join("target/wasm32-unknown-unknown/release/app.wasm");
    let bytes = fs::read(&module).with_context(|| format!("reading {}", module.display()))?;
    let fingerprint = format!("{:016x}-{}", fnv1a(&bytes), bytes.len());
    let stamp = pkg.join(".built-from");
    let up_to_date = fs::read_to_string(&stamp).is_ok_and(|s| s == fingerprint)
        && pkg.join("app_bg.wasm").exists()
        && pkg.join("app.js").exists();
    if up_to_date {
        println!("\nSPA module unchanged: keeping {}/pkg", SITE);
    } else {
        // Every file of `pkg` comes from this module: start empty so that no chunk of an older
        // build is left behind.
        fs::remove_dir_all(&pkg)?;
        fs::create_dir_all(&pkg)?;
        let main = split(root, &bytes, &pkg)?;
        cmd::run(
            Command::new("wasm-bindgen")
                .arg(&main)
                // The chunks import the main module's functions by their linker names.
                .args(["--keep-lld-exports", "--target", "web", "--no-typescript"])
                .args(["--out-name", "app", "--out-dir"])
                .arg(&pkg),
        )?;
        let mut modules = Vec::new();
        for entry in fs::read_dir(&pkg)? {
            let wasm = entry?.path();
            if wasm.extension().is_some_and(|e| e == "wasm") {
                modules.push(wasm);
            }
        }
        optimise_all(root, modules)?;
        for js in ["app.js", "__wasm_split.js"] {
            minify_js(root, &pkg.join(js))?;
        }
        fs::write(&stamp, fingerprint)?;
    }

    copy_dir(&root.join("public"), &site)?;
    let css = fs::read_to_string(root.join("style/main.css")).context("reading style/main.css")?;
    write_if_changed(&site.join("main.css"), crate::css::minify(&css).as_bytes())?;
    crate::size::precompress(&site)
}

/// Where [`split`] writes the main module (for wasm-bindgen) and the chunk map.
const SPLIT_DIR: &str = "target/wasm-split";
/// The chunk map [`split`] writes: for each lazy page (split point), the chunk files it loads.
pub const CHUNK_MAP: &str = "target/wasm-split/chunks.json";

/// Cuts the module at its `#[lazy]` split points (the app's lazily loaded pages): the chunks and
/// their loader, `__wasm_split.js`, go to `pkg`; the main module, which still needs
/// wasm-bindgen, is written to [`SPLIT_DIR`] and its path returned. The module must be linked
/// with `--emit-relocs` (see `.cargo/config.toml`): the splitter moves code by its relocations.
fn split(root: &Path, module: &[u8], pkg: &Path) -> anyhow::Result<PathBuf> {
    let dir = root.join(SPLIT_DIR);
    fs::create_dir_all(&dir)?;
    let main = dir.join("main.wasm");
    let mut options = wasm_split_cli_support::Options::new(module);
    options.output_dir = pkg;
    options.main_out_path = &main;
    options.main_module = "./app.js";
    let split = wasm_split_cli_support::transform(options)
        .map_err(|e| anyhow::anyhow!("splitting the WASM module: {e:?}"))?;
    let mut pages: Vec<_> = split.prefetch_map.into_iter().collect();
    pages.sort();
    let map: Vec<String> = pages
        .iter()
        .map(|(page, chunks)| {
            let chunks: Vec<String> = chunks.iter().map(|c| format!("\"{c}.wasm\"")).collect();
            format!("  \"{page}\": [{}]", chunks.join(", "))
        })
        .collect();
    fs::write(
        root.join(CHUNK_MAP),
        format!("{{\n{}\n}}\n", map.join(",\n")),
    )?;
    Ok(main)
}

/// Runs wasm-opt on every module, on as many threads as there are cores: there are a few dozen
/// chunks, and one after the other they took about 2½ minutes on 2 cores. The largest go first,
/// so that no thread is left with the main module at the end.
fn optimise_all(root: &Path, mut modules: Vec<PathBuf>) -> anyhow::Result<()> {
    modules.sort_by_key(|m| fs::metadata(m).map_or(0, |m| m.len()));
    let queue = std::sync::Mutex::new(modules);
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| -> anyhow::Result<()> {
                    loop {
                        let next = queue.lock().expect("no thread panics holding it").pop();
                        match next {
                            Some(wasm) => optimise(root, &wasm)?,
                            None => return Ok(()),
                        }
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .try_for_each(|w| w.join().expect("wasm-opt worker panicked"))
    })
}

/// Runs wasm-opt on one module (the main one or a chunk) in place.
///
/// npm's binaryen, never Debian's (v108 breaks wasm-bindgen's externref table). The modules
/// have no target-features section, so name the features rustc enables by default for
/// wasm32-unknown-unknown (never `--all-features`).
///
/// `-O2` without inlining: what users download is the brotli-compressed module, and wasm-opt's
/// inlining (above all of functions with one caller) makes it smaller raw but far less
/// compressible. Measured on this app (2026-11-29, module brotli): no wasm-opt 533 KB, `-Oz`
/// 571 KB, `-O2` 571 KB, `-Os` 568 KB, `-O1 --converge` 524 KB; after the hand-written
/// deserialisers: `-O1 --converge` 509.1 KB, `-O2 --converge` 555.2 KB, the same without
/// one-caller inlining 498.1 KB, without any inlining 497.7 KB (`-Os` 498.7 KB, `-O3`
/// 498.3 KB, `-Oz` 502.1 KB, all without inlining).
fn optimise(root: &Path, wasm: &Path) -> anyhow::Result<()> {
    cmd::run(
        Command::new(root.join("end2end/node_modules/.bin/wasm-opt"))
            .args(["-O2", "--converge"])
            .args(NO_INLINING)
            .args(WASM_FEATURES)
            .arg(wasm)
            .arg("-o")
            .arg(wasm),
    )
}

/// Minifies a JS file of the first visit in place: wasm-bindgen's glue and the chunk loader are
/// written to be read (58 and 29 KB raw), and terser takes 2.4 KB off their brotli copies
/// (8.2 → 6.4 and 1.6 → 1.1 KB). `--module`: both are ES modules, so their top-level names are
/// private and may be shortened; their exports, and the property names the WASM imports by
/// (`wasm.__wbg_…`), are kept.
fn minify_js(root: &Path, js: &Path) -> anyhow::Result<()> {
    cmd::run(
        Command::new(root.join("end2end/node_modules/.bin/terser"))
            .arg(js)
            .args(["--module", "--compress", "--mangle", "--output"])
            .arg(js),
    )
}

/// Builds the server, which embeds `target/site` (so build the SPA first).
pub fn server(root: &Path) -> anyhow::Result<()> {
    let _ = root;
    cmd::run(Command::new("cargo").args([
        "build",
        "--locked",
        "--package",
        "server",
        "--profile",
        SERVER_PROFILE,
    ]))
}

/// `cargo xtask run`: set up, build, start the server in the foreground.
pub fn run(root: &Path, args: &RunArgs) -> anyhow::Result<()> {
    setup::ensure(root, setup::Needs::BUILD)?;
    spa(root)?;
    server(root)?;
    let url = format!("http://127.0.0.1:{}", args.port);
    let mut server = Command::new(server_binary(root));
    server
        .arg("serve")
        .env("BIND", format!("127.0.0.1:{}", args.port));
    if let Some(db) = &args.database_url {
        server.env("DATABASE_URL", db);
    }
    if args.demo {
        server.arg("--demo");
    }
    println!("\nStarting the server: open {url} (Ctrl-C stops it)\n");
    cmd::run(&mut server)
}

fn copy_dir(from: &Path, to: &Path) -> anyhow::Result<()> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from).with_context(|| format!("reading {}", from.display()))? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            copy_if_changed(&entry.path(), &target)?;
        }
    }
    Ok(())
}

/// Copies only when the content differs: the release server embeds `target/site`, so a fresh
/// modification time alone would make cargo rebuild it (over a minute) on every run.
fn copy_if_changed(from: &Path, to: &Path) -> anyhow::Result<()> {
    let bytes = fs::read(from).with_context(|| format!("reading {}", from.display()))?;
    write_if_changed(to, &bytes)
}

/// Writes `bytes` to `to` unless it holds them already (see [`copy_if_changed`]).
fn write_if_changed(to: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    if fs::read(to).is_ok_and(|old| old == bytes) {
        return Ok(());
    }
    fs::write(to, bytes).with_context(|| format!("writing {}", to.display()))
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

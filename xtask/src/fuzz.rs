//! `cargo xtask fuzz` (and the last step of `cargo xtask test`): a schema-driven fuzz of the whole
//! API with [Schemathesis](https://schemathesis.readthedocs.io), against the release server on a
//! throwaway SQLite database.
//!
//! Schemathesis reads `/api/openapi.json` and sends every operation valid and invalid requests
//! (signed in as an admin, with this site's `Origin`, and the upload API key). The run fails on
//! any 5xx, any status or answer the document does not describe, and any request the document
//! calls invalid that the server accepts. The document is the contract; this keeps it true.

use std::{
    io::{Read, Write},
    net::TcpStream,
    path::{Path, PathBuf},
    process::{Child, Command},
    time::{Duration, Instant},
};

use anyhow::{Context, bail};

use crate::{build, cmd, test};

/// Pinned, so that a new release cannot change what passes.
const SCHEMATHESIS: &str = "4.32.5";
const VENV: &str = "target/fuzz-venv";
/// Which credential goes to which security scheme of the document.
const CONFIG: &str = "xtask/fuzz/schemathesis.toml";
/// Test cases per operation and phase: enough to find what a schema gets wrong, few enough that
/// the whole run takes about two minutes on two cores.
const MAX_EXAMPLES: &str = "10";

const ADMIN_EMAIL: &str = "fuzz-admin@example.com";
const ADMIN_PASSWORD: &str = "fuzz-admin-password";
const UPLOAD_KEY: &str = "fuzz-upload-key-0123456789";
const THROWAWAY_SECRET_KEY: &str =
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

/// Operations whose effect would end the fuzz's own session, so every later request would test
/// nothing but "not signed in": signing out, and changing a user (the only admin could be
/// disabled, demoted or given a new password, which signs it out everywhere).
const EXCLUDED: [&str; 2] = ["logout", "update_user"];

/// Operations sent only invalid requests (which change nothing), in a run of their own: a valid
/// `PUT /settings/facebook` may switch the server to the live Graph API, which this machine
/// cannot reach, and every Facebook route would answer 503 from then on.
const INVALID_ONLY: [&str; 1] = ["put_facebook_settings"];

/// `cargo xtask fuzz`: builds the server, then fuzzes it.
pub fn run(root: &Path, args: &[String]) -> anyhow::Result<()> {
    if let Some(arg) = args.first() {
        bail!("`fuzz` takes no options (got {arg:?})");
    }
    build::server(root)?;
    fuzz(root)
}

/// Fuzzes the already built release server.
pub fn fuzz(root: &Path) -> anyhow::Result<()> {
    let start = Instant::now();
    let st = ensure_schemathesis(root)?;
    let port = test::free_port()?;
    let dir = root
        .join("target")
        .join(format!("fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let mut server = Server(start_server(root, port, &dir)?);
    let result = (|| {
        let base = format!("http://127.0.0.1:{port}");
        wait_until_up(&mut server.0, port)?;
        let token = sign_in(port)?;
        let st_run = |what: &str| {
            let mut st_run = Command::new(&st);
            st_run
                .arg("--config-file")
                .arg(root.join(CONFIG))
                .arg("run")
                .arg(format!("{base}/api/openapi.json"))
                .args([
                    "--checks",
                    "not_a_server_error,status_code_conformance,response_schema_conformance,\
                     negative_data_rejection",
                    "--max-examples",
                    MAX_EXAMPLES,
                    // One worker: with two (threads), hypothesis' lambda descriptions call
                    // `ast.parse` concurrently, which CPython 3.11 can fail with "AST constructor
                    // recursion depth mismatch" (a runtime error of the tool, not of our API): it
                    // failed one full run of 2026-12-07 that way.
                    "--workers",
                    "1",
                    "--request-timeout",
                    "10",
                    "--generation-database",
                    "none",
                    "--no-color",
                    "--report",
                    "junit",
                ])
                .arg("--report-dir")
                .arg(dir.join(format!("report-{what}")))
                // The credentials, for the security schemes of the config file.
                .env("FUZZ_SESSION", &token)
                .env("FUZZ_ORIGIN", &base)
                .env("FUZZ_API_KEY", UPLOAD_KEY)
                // Its own cache, not the user's home, and its `.schemathesis` folder in the
                // run's folder rather than the work tree.
                .env("HYPOTHESIS_STORAGE_DIRECTORY", dir.join("hypothesis"))
                .current_dir(&dir);
            st_run
        };
        let mut all = st_run("all");
        for id in EXCLUDED.into_iter().chain(INVALID_ONLY) {
            all.args(["--exclude-operation-id", id]);
        }
        cmd::run(&mut all)?;
        let mut invalid = st_run("invalid-only");
        for id in INVALID_ONLY {
            invalid.args(["--include-operation-id", id]);
        }
        cmd::run(invalid.args(["--mode", "negative"]))
    })();
    drop(server);
    if result.is_ok() {
        let _ = std::fs::remove_dir_all(&dir);
    } else {
        println!(
            "\nThe fuzz failed: its report and the server's log are in {}",
            dir.display()
        );
    }
    result?;
    println!("\nFuzz passed in {}.", cmd::human(start.elapsed()));
    Ok(())
}

/// A virtualenv under `target/` with the pinned Schemathesis; installed once.
fn ensure_schemathesis(root: &Path) -> anyhow::Result<PathBuf> {
    let venv = root.join(VENV);
    let st = venv.join("bin").join("st");
    let stamp = venv.join(format!(".schemathesis-{SCHEMATHESIS}"));
    if st.exists() && stamp.exists() {
        return Ok(st);
    }
    cmd::run(Command::new("python3").args(["-m", "venv"]).arg(&venv))?;
    cmd::run(
        Command::new(venv.join("bin").join("pip"))
            .args(["install", "--quiet", "--disable-pip-version-check"])
            .arg(format!("schemathesis=={SCHEMATHESIS}")),
    )?;
    std::fs::write(&stamp, "")?;
    Ok(st)
}

/// Stops the server however the fuzz ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_server(root: &Path, port: u16, dir: &Path) -> anyhow::Result<Child> {
    let log = std::fs::File::create(dir.join("server.log"))?;
    Command::new(build::server_binary(root))
        .arg("serve")
        .env("BIND", format!("127.0.0.1:{port}"))
        // The in-process sandbox, never facebook.com.
        .env_remove("FACEBOOK_GRAPH_URL")
        .env_remove("FACEBOOK_MODE")
        .env(
            "DATABASE_URL",
            format!("sqlite://{}/fuzz.db", dir.display()),
        )
        .env("ADMIN_EMAIL", ADMIN_EMAIL)
        .env("ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("UPLOAD_API_KEY", UPLOAD_KEY)
        // Seals the credentials a fuzzed `PUT /settings/facebook` stores in a throwaway database.
        .env("SECRET_KEY", THROWAWAY_SECRET_KEY)
        .env_remove("FACEBOOK_ACCESS_TOKEN")
        .env_remove("PUBLIC_URL")
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
        .context("starting the server (is it built?)")
}

fn wait_until_up(server: &mut Child, port: u16) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = server.try_wait()? {
            bail!("the server exited at start ({status})");
        }
        if request(port, "GET", "/api/health", "").is_ok_and(|r| r.starts_with("HTTP/1.1 200")) {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("the server did not answer /api/health within a minute");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Signs in as the admin; returns the session token.
fn sign_in(port: u16) -> anyhow::Result<String> {
    let body = format!(r#"{{"email":"{ADMIN_EMAIL}","password":"{ADMIN_PASSWORD}"}}"#);
    let answer = request(port, "POST", "/api/login", &body)?;
    let status = answer.lines().next().unwrap_or_default();
    if !status.starts_with("HTTP/1.1 200") {
        bail!("signing in to the fuzzed server failed: {status}");
    }
    answer
        .lines()
        .take_while(|l| !l.is_empty())
        .filter_map(|l| l.split_once(':'))
        .filter(|(name, _)| name.eq_ignore_ascii_case("set-cookie"))
        .find_map(|(_, value)| {
            let value = value.trim().strip_prefix("fba_session=")?;
            Some(value.split(';').next().unwrap_or_default().to_owned())
        })
        .context("signing in set no session cookie")
}

/// One HTTP/1.1 request, the whole answer as text (the API's answers here are small JSON).
fn request(port: u16, method: &str, path: &str, body: &str) -> anyhow::Result<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nOrigin: http://127.0.0.1:{port}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer)?;
    Ok(answer.replace("\r\n", "\n"))
}

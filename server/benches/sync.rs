//! Audience sync benchmarks: `cargo xtask bench sync [MEMBERS]` (an optimised build).
//!
//! 1. Normalise + SHA-256 rows of 6 match keys, on 1 and 2 threads.
//! 2. A full sync of MEMBERS profiles (default 1,000,000) into the server's own sandbox, end to
//!    end: segment computed in the database (a fresh SQLite file, or the empty database named
//!    by `BENCH_DATABASE_URL`, e.g. PostgreSQL), hashed, sent over HTTP in 10,000-row `usersreplace`
//!    batches, audience attached, size read back.
//! 3. An incremental run after 1% of the members changed their e-mail (1% removed and 1% added
//!    again, the same wire work as 1% leaving and 1% joining). The change is made by SQL, so the
//!    changed profiles have no stored match-key fingerprint and the run reads their keys.

#![allow(clippy::print_stdout)]

use std::time::Instant;

use jiff::Timestamp;
use serde_json::{Value, json};
use server::{
    config::Config,
    db::Db,
    facebook::hashing::{MatchKey, hash_rows_with_threads},
};

/// CPU seconds used by this process so far (user + system), from `/proc/self/stat`: the
/// server's work (the sandbox runs in a child process, [`sandbox_cpu_seconds`]); on a shared
/// machine it is steadier than wall-clock time.
fn cpu_seconds() -> f64 {
    cpu_seconds_of("self")
}

/// CPU seconds of process `pid` ("self" for this one).
fn cpu_seconds_of(pid: &str) -> f64 {
    let read = || -> Option<f64> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        let after = stat.rsplit_once(')')?.1;
        let fields: Vec<&str> = after.split_whitespace().collect();
        Some((fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?) / 100.0)
    };
    read().unwrap_or(f64::NAN)
}

/// Peak resident memory of process `pid` ("self" for this one), in MiB (`VmHWM`).
fn peak_rss_mib(pid: &str) -> f64 {
    status_mib(pid, "VmHWM:")
}

fn rss_mib(pid: &str) -> f64 {
    status_mib(pid, "VmRSS:")
}

fn status_mib(pid: &str, field: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix(field))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// The Graph API sandbox in a process of its own (this binary run as `sandbox-child`), so the
/// server's memory and CPU are measured without Facebook's side: the sandbox keeps every
/// member's hashes (~250 MB a million), which the real Facebook keeps on its own machines.
struct SandboxChild {
    child: std::process::Child,
    graph_url: String,
}

impl SandboxChild {
    fn spawn() -> anyhow::Result<Self> {
        use std::io::BufRead;
        let mut child = std::process::Command::new(std::env::current_exe()?)
            .arg("sandbox-child")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| anyhow::anyhow!("no stdout"))?;
        let mut line = String::new();
        std::io::BufReader::new(stdout).read_line(&mut line)?;
        let addr = line
            .trim()
            .strip_prefix("listening on ")
            .ok_or_else(|| anyhow::anyhow!("the sandbox process said {line:?}"))?;
        Ok(Self {
            graph_url: format!("http://{addr}{}", server::sandbox::GRAPH_PREFIX),
            child,
        })
    }

    fn pid(&self) -> String {
        self.child.id().to_string()
    }
}

impl Drop for SandboxChild {
    fn drop(&mut self) {
        // Closing its stdin ends it.
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

/// `sandbox-child`: a server on a throwaway database whose only use is its sandbox; prints its
/// address and runs until stdin closes.
async fn sandbox_child() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let url = format!("sqlite://{}/sandbox.db", dir.path().display());
    let config = Config::from_lookup(|k| match k {
        "BIND" => Some("127.0.0.1:0".into()),
        "DATABASE_URL" => Some(url.clone()),
        "WORKER" => Some("off".into()),
        _ => None,
    })?;
    let server = server::start(config).await?;
    println!("listening on {}", server.addr);
    tokio::task::spawn_blocking(|| {
        let mut sink = Vec::new();
        let _ = std::io::Read::read_to_end(&mut std::io::stdin(), &mut sink);
    })
    .await?;
    server.shutdown().await
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn hashing(n: usize) {
    let rows: Vec<[String; 6]> = (0..n)
        .map(|i| {
            [
                format!("  User.{i}@Example.COM "),
                format!("+1 (555) {:03}-{:04}", i % 1000, i % 10_000),
                format!("Mary{}", i % 97),
                format!("O'Brien-{}", i % 89),
                "San Francisco".to_owned(),
                "US".to_owned(),
            ]
        })
        .collect();
    let schema = [
        MatchKey::Email,
        MatchKey::Phone,
        MatchKey::Fn,
        MatchKey::Ln,
        MatchKey::Ct,
        MatchKey::Country,
    ];
    for threads in [1, 2] {
        let mut best = f64::MAX;
        let mut best_cpu = f64::MAX;
        for _ in 0..5 {
            let cpu = cpu_seconds();
            let start = Instant::now();
            let batch = hash_rows_with_threads(&schema, &rows, threads);
            best = best.min(start.elapsed().as_secs_f64());
            best_cpu = best_cpu.min(cpu_seconds() - cpu);
            assert_eq!(batch.len(), n);
        }
        println!(
            "hash: {threads} thread(s): {n} rows x 6 keys in {best:.3}s = {:.0} rows/s ({best_cpu:.2} CPU-s)",
            n as f64 / best
        );
    }
}

async fn json_of(res: reqwest::Response) -> Value {
    let status = res.status();
    let body: Value = res.json().await.expect("JSON answer");
    assert!(status.is_success(), "{status}: {body}");
    body
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    if std::env::args().nth(1).as_deref() == Some("sandbox-child") {
        return sandbox_child().await;
    }
    let members: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    println!("load average at start: {}", load_average());
    hashing(1_000_000);

    let dir = tempfile::tempdir()?;
    // `BENCH_DATABASE_URL` (an empty PostgreSQL database, say) measures another database;
    // otherwise a fresh SQLite file.
    let url = std::env::var("BENCH_DATABASE_URL")
        .unwrap_or_else(|_| format!("sqlite://{}/bench.db", dir.path().display()));
    println!("database: {}", server::db::redact_url(&url));
    let sandbox = SandboxChild::spawn()?;
    println!("sandbox: a process of its own, {}", sandbox.graph_url);
    let config = Config::from_lookup(|k| match k {
        "FACEBOOK_GRAPH_URL" => Some(sandbox.graph_url.clone()),
        "BIND" => Some("127.0.0.1:0".into()),
        "DATABASE_URL" => Some(url.clone()),
        "WORKER" => Some("off".into()),
        "ADMIN_EMAIL" => Some("bench@example.com".into()),
        "ADMIN_PASSWORD" => Some("bench-password-0123".into()),
        _ => None,
    })?;
    let server = server::start(config).await?;
    let base = format!("http://{}", server.addr);
    // Signed in as the admin, as the browser would be (session cookie, same-origin header).
    let admin = server::auth::users::credentials(&server.state.db, "bench@example.com")
        .await?
        .ok_or_else(|| anyhow::anyhow!("the bench admin was not created"))?;
    let token =
        server::auth::session::start(&server.state.db, admin.0, server::campaigns::now()).await?;
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(reqwest::header::ORIGIN, base.parse()?);
    headers.insert(
        reqwest::header::COOKIE,
        format!("{}={token}", server::auth::session::COOKIE).parse()?,
    );
    let http = reqwest::Client::builder()
        .default_headers(headers)
        .build()?;
    let start = Instant::now();
    // The same profiles on either database; generated by the database itself, so the setup is
    // quick and not part of what is measured.
    match &server.state.db {
        Db::Sqlite(pool) => {
            sqlx::query(
                "with recursive n(i) as (select 0 union all select i + 1 from n where i + 1 < ?) \
                 insert into profiles (identity, email, phone, first_name, last_name, city, \
                 country, created_at, updated_at) \
                 select 'u' || i, 'user' || i || '@example.com', '+1415' || printf('%07d', i), \
                 'mary' || (i % 97), 'lee' || (i % 89), 'pune', 'in', 0, 0 from n",
            )
            .bind(members as i64)
            .execute(pool)
            .await?;
        }
        Db::Postgres(pool) => {
            sqlx::query(
                "insert into profiles (identity, email, phone, first_name, last_name, city, \
                 country, created_at, updated_at) \
                 select 'u' || i, 'user' || i || '@example.com', '+1415' || lpad(i::text, 7, '0'), \
                 'mary' || (i % 97), 'lee' || (i % 89), 'pune', 'in', 0, 0 \
                 from generate_series(0, $1 - 1) i",
            )
            .bind(members as i64)
            .execute(pool)
            .await?;
            sqlx::query("analyze profiles").execute(pool).await?;
        }
    }
    // The count the ingestion keeps with the profiles (the rows above bypass it): without it
    // the engine lists every profile id to know the universe (`group_concat` of 10M ids, a
    // ~90 MB string read twice per run), which a real database never does.
    let count = "update profile_count set n = (select count(*) from profiles) where id = 1";
    match &server.state.db {
        Db::Sqlite(pool) => sqlx::query(count).execute(pool).await.map(drop)?,
        Db::Postgres(pool) => sqlx::query(count).execute(pool).await.map(drop)?,
    }
    // Their match-key fingerprints, as a run stores them for the profiles it reads: the runs
    // below measure a database whose profiles have them (the first run over profiles without
    // them stores them, a one-off cost reported here).
    let fill = Instant::now();
    let filled = server::engine::store_missing_fingerprints(&server.state.db, |m| {
        server::sync::members::fingerprint(m) as i64
    })
    .await?;
    println!(
        "setup: {members} profiles inserted in {:.1}s, {filled} fingerprints stored in {:.1}s (not measured below)",
        (fill - start).as_secs_f64(),
        fill.elapsed().as_secs_f64()
    );

    let account = "act_100000000000001";
    let campaigns = json_of(
        http.get(format!(
            "{base}/api/facebook/ad-accounts/{account}/campaigns"
        ))
        .send()
        .await?,
    )
    .await;
    let fb_campaign = campaigns[0]["id"].as_str().unwrap_or_default().to_owned();
    let ad_sets = json_of(
        http.get(format!(
            "{base}/api/facebook/campaigns/{fb_campaign}/adsets"
        ))
        .send()
        .await?,
    )
    .await;
    let start_date = Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date()
        .tomorrow()?
        .tomorrow()?;
    // Everyone: nobody ever did an event that does not exist.
    let draft = json!({
        "name": "Bench: everyone",
        "schedule": {"time_zone":"UTC","kind":"recurring","repeat":{"every":"days","interval":1},
                     "time":"00:00","start_date": start_date.to_string(),"end":{"kind":"never"}},
        "audience": {"kind":"group","combine":"all_of","rules":[
            {"kind":"event","did":false,"event":"Never happens","window":{"kind":"ever"}}]},
        "target": {"ad_account_id": account, "campaign_id": fb_campaign,
                   "ad_set_id": ad_sets[0]["id"]}
    });
    let created = json_of(
        http.post(format!("{base}/api/campaigns"))
            .json(&draft)
            .send()
            .await?,
    )
    .await;
    let id = created["id"].as_i64().unwrap_or_default();
    json_of(
        http.post(format!("{base}/api/campaigns/{id}/publish"))
            .send()
            .await?,
    )
    .await;

    let timed_run = async |label: &str| -> anyhow::Result<()> {
        json_of(
            http.post(format!("{base}/api/campaigns/{id}/runs"))
                .json(&json!({}))
                .send()
                .await?,
        )
        .await;
        let start = Instant::now();
        let cpu = cpu_seconds();
        let sandbox_cpu = cpu_seconds_of(&sandbox.pid());
        server::jobs::drain(&server.state, server::campaigns::now()).await?;
        let secs = start.elapsed().as_secs_f64();
        let cpu = cpu_seconds() - cpu;
        let sandbox_cpu = cpu_seconds_of(&sandbox.pid()) - sandbox_cpu;
        let runs = json_of(
            http.get(format!("{base}/api/campaigns/{id}/runs"))
                .send()
                .await?,
        )
        .await;
        let run = &runs[0];
        println!(
            "{label}: {secs:.2}s end to end (server {cpu:.2} CPU-s, sandbox {sandbox_cpu:.2} CPU-s, load {}); state {}, mode {}, members {}, added {}, removed {}, rows sent {}, approx size after {}–{}",
            load_average(),
            run["state"],
            run["mode"],
            run["members"],
            run["added"],
            run["removed"],
            run["rows_done"],
            run["approx_after_lower"],
            run["approx_after_upper"]
        );
        anyhow::ensure!(run["state"] == "succeeded", "the run failed: {run}");
        Ok(())
    };
    // Where a run's time goes, part one: the segment streamed from the database and diffed
    // against the confirmed membership, nothing sent (a dry run does exactly that).
    let dry_run = async |label: &str| -> anyhow::Result<()> {
        let start = Instant::now();
        let cpu = cpu_seconds();
        json_of(
            http.post(format!("{base}/api/campaigns/{id}/runs"))
                .json(&json!({"dry_run": true}))
                .send()
                .await?,
        )
        .await;
        println!(
            "{label}: {:.2}s ({:.2} CPU-s) for the segment and the diff alone (dry run)",
            start.elapsed().as_secs_f64(),
            cpu_seconds() - cpu
        );
        Ok(())
    };
    // The hashing measurement and the set-up are not the sync's: the peak is counted from here
    // (writing 5 to `clear_refs` resets `VmHWM`).
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    // What the process holds already (the set-up's garbage the allocator kept counts in the
    // peak below), and the peak after each phase.
    println!("server RSS before the runs: {:.0} MiB", rss_mib("self"));
    let peak = |after: &str| {
        println!(
            "  server peak RSS so far (after {after}): {:.0} MiB",
            peak_rss_mib("self")
        )
    };
    dry_run("before the full sync").await?;
    peak("the dry run");
    timed_run("full sync").await?;
    peak("the full sync");
    let churn = "update profiles set email = 'changed' || id || '@example.com' where id % 100 = 0";
    match &server.state.db {
        Db::Sqlite(pool) => sqlx::query(churn).execute(pool).await.map(drop)?,
        Db::Postgres(pool) => sqlx::query(churn).execute(pool).await.map(drop)?,
    }
    dry_run("before the incremental run").await?;
    peak("the second dry run");
    timed_run("incremental, 1% churn").await?;
    println!(
        "peak RSS: server (this process, with the bench's client) {:.0} MiB, sandbox process {:.0} MiB",
        peak_rss_mib("self"),
        peak_rss_mib(&sandbox.pid())
    );
    server.shutdown().await?;
    Ok(())
}

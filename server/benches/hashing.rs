//! Throughput of match-key normalisation + SHA-256 hashing (6 keys per row).
//!
//! `cargo bench -p server --bench hashing --profile server` (optionally `-- <rows>`).

#![allow(clippy::print_stdout)]

use std::time::Instant;

use server::facebook::hashing::{MatchKey, hash_rows_with_threads};

/// CPU seconds used by this process so far (user + system), from `/proc/self/stat`; the machine
/// is shared, so rows per CPU-second is steadier than rows per wall-clock second.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let after = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

fn main() {
    let n: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(1_000_000);
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
        for _ in 0..3 {
            let cpu0 = cpu_seconds();
            let start = Instant::now();
            let batch = hash_rows_with_threads(&schema, &rows, threads);
            let secs = start.elapsed().as_secs_f64();
            if let (Some(a), Some(b)) = (cpu0, cpu_seconds()) {
                best_cpu = best_cpu.min(b - a);
            }
            assert_eq!(batch.len(), n);
            best = best.min(secs);
        }
        println!(
            "{threads} thread(s): {n} rows x 6 keys in {:.3}s wall = {:.0} rows/s; {:.2} CPU-s = {:.0} rows per CPU-second",
            best,
            n as f64 / best,
            best_cpu,
            n as f64 / best_cpu
        );
    }
}

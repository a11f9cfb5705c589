//! Throughput of match-key normalisation + SHA-256 hashing (6 keys per row).
//!
//! `cargo bench -p server --bench hashing --profile server` (optionally `-- <rows>`).

#![allow(clippy::print_stdout)]

use std::time::Instant;

use server::facebook::hashing::{MatchKey, hash_rows_with_threads};

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
        for _ in 0..3 {
            let start = Instant::now();
            let batch = hash_rows_with_threads(&schema, &rows, threads);
            let secs = start.elapsed().as_secs_f64();
            assert_eq!(batch.len(), n);
            best = best.min(secs);
        }
        println!(
            "{threads} thread(s): {n} rows x 6 keys in {:.3}s = {:.0} rows/s",
            best,
            n as f64 / best
        );
    }
}

//! What the store benchmarks share: the run count from the command line and the summary line.

use std::time::Duration;

/// Runs to time: the first argument, else `default` (at least one).
pub fn runs(default: usize) -> usize {
    std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(default)
        .max(1)
}

/// `median …, p95 …, max … (N runs)`, each with `digits` decimals.
pub fn summary(mut v: Vec<Duration>, digits: usize) -> String {
    v.sort();
    let at = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
    format!(
        "median {:.*?}, p95 {:.*?}, max {:.*?} ({} runs)",
        digits,
        at(0.5),
        digits,
        at(0.95),
        digits,
        v[v.len() - 1],
        v.len()
    )
}

//! Login rate limiting: token buckets in memory, one per account (e-mail) and one per client IP.
//!
//! Per account it stops password guessing against one person; per IP (ten times looser, since a
//! whole school may share one address) it stops spraying many accounts. State is per process.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Utc};

/// Above this many tracked keys, full buckets are forgotten (they carry no information).
const PRUNE_AT: usize = 10_000;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: DateTime<Utc>,
}

/// Token buckets keyed by account and by IP.
#[derive(Debug)]
pub struct LoginLimiter {
    per_minute: f64,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl LoginLimiter {
    /// A limiter allowing `per_minute` attempts per account (bursts up to that many) and ten
    /// times that per IP.
    pub fn new(per_minute: u32) -> Self {
        Self {
            per_minute: f64::from(per_minute.max(1)),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one attempt for `account` and `ip` at `now`; `Err(seconds)` says how long to wait.
    pub fn check(&self, account: &str, ip: &str, now: DateTime<Utc>) -> Result<(), u64> {
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if buckets.len() > PRUNE_AT {
            let cap = self.per_minute * 10.0;
            buckets.retain(|_, b| b.tokens + elapsed_minutes(b.updated, now) * cap < cap);
        }
        let account_key = format!("a:{account}");
        let ip_key = format!("i:{ip}");
        let wait_a = peek(&buckets, &account_key, self.per_minute, now);
        let wait_i = peek(&buckets, &ip_key, self.per_minute * 10.0, now);
        if wait_a > 0.0 || wait_i > 0.0 {
            let secs = wait_a.max(wait_i).ceil();
            // ceil of a small positive float: at most a minute.
            return Err(if secs >= 1.0 { secs as u64 } else { 1 });
        }
        take(&mut buckets, account_key, self.per_minute, now);
        take(&mut buckets, ip_key, self.per_minute * 10.0, now);
        Ok(())
    }
}

fn elapsed_minutes(from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
    let ms = (to - from).num_milliseconds().max(0);
    // Milliseconds as f64: exact up to 2^53 ms (285,000 years).
    ms as f64 / 60_000.0
}

fn level(b: Option<&Bucket>, cap: f64, now: DateTime<Utc>) -> f64 {
    match b {
        None => cap,
        Some(b) => (b.tokens + elapsed_minutes(b.updated, now) * cap).min(cap),
    }
}

/// Seconds until one token is available (0 if one is).
fn peek(buckets: &HashMap<String, Bucket>, key: &str, cap: f64, now: DateTime<Utc>) -> f64 {
    let tokens = level(buckets.get(key), cap, now);
    if tokens >= 1.0 {
        0.0
    } else {
        (1.0 - tokens) / cap * 60.0
    }
}

fn take(buckets: &mut HashMap<String, Bucket>, key: String, cap: f64, now: DateTime<Utc>) {
    let tokens = level(buckets.get(&key), cap, now) - 1.0;
    buckets.insert(
        key,
        Bucket {
            tokens,
            updated: now,
        },
    );
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};

    use super::*;

    #[test]
    fn an_account_gets_its_burst_then_waits_then_refills() {
        let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let limiter = LoginLimiter::new(3);
        for _ in 0..3 {
            assert!(limiter.check("a@x", "1.1.1.1", t0).is_ok());
        }
        let wait = limiter.check("a@x", "1.1.1.1", t0).unwrap_err();
        assert!((1..=20).contains(&wait), "{wait}");
        // Another account from the same IP is not blocked by the first one's bucket.
        assert!(limiter.check("b@x", "1.1.1.1", t0).is_ok());
        assert!(
            limiter
                .check("a@x", "1.1.1.1", t0 + Duration::seconds(21))
                .is_ok()
        );
    }

    #[test]
    fn one_ip_spraying_many_accounts_is_stopped() {
        let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let limiter = LoginLimiter::new(1);
        for i in 0..10 {
            assert!(limiter.check(&format!("u{i}@x"), "9.9.9.9", t0).is_ok());
        }
        assert!(limiter.check("new@x", "9.9.9.9", t0).is_err());
        assert!(limiter.check("new@x", "8.8.8.8", t0).is_ok());
    }
}

//! Per-token request rate limits (docs/serve.md "Rate limits").
//!
//! Every authenticated token has its own token bucket, so one misbehaving program (a looping
//! intake script) exhausts only its own allowance while the hotline desk and the dashboards
//! go on. A token's limit is, in this order: its own (recorded in its `TokenIssued` event,
//! `plaint token create --rate-limit`), the server's default for its role
//! (`plaint serve --token-rate-limit ROLE=RATE[/BURST]`), the server's default for every role
//! (`--token-rate-limit '*=RATE[/BURST]'`), else none. A rate of 0 is unlimited. The global
//! `--rate-limit` stays a ceiling over all requests together.
//!
//! Buckets exist for live tokens only: one is made when a token first passes authentication
//! and buckets of tokens no longer live are dropped whenever there are more buckets than live
//! tokens, so memory is bounded by the log's live tokens, whatever callers send.

use plaint::access::{RateLimit, Role};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The server's default limits by role.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokenRateLimits {
    /// The default of the tokens of one role.
    pub by_role: BTreeMap<Role, RateLimit>,
    /// The default of every role without its own entry (`*=…`); `None`: unlimited.
    pub every_role: Option<RateLimit>,
}

impl TokenRateLimits {
    /// Adds one `ROLE=RATE[/BURST]` (`*=RATE[/BURST]` for every role without its own).
    pub fn add(&mut self, spec: &str) -> Result<(), String> {
        let Some((role, limit)) = spec.split_once('=') else {
            return Err(format!(
                "token rate limit {spec:?}: expected ROLE=RATE[/BURST] (e.g. intake=50/100, or *=20 for every role)"
            ));
        };
        let limit = RateLimit::parse(limit)?;
        match role.trim() {
            "*" => self.every_role = Some(limit),
            name => {
                let role: Role = name
                    .parse()
                    .map_err(|e: plaint::access::UnknownRole| format!("token rate limit {spec:?}: {e}"))?;
                self.by_role.insert(role, limit);
            }
        }
        Ok(())
    }

    /// The limit a token of `role` with its own limit `own` has; `None`: unlimited.
    pub fn limit_for(&self, role: Role, own: Option<RateLimit>) -> Option<RateLimit> {
        own.or_else(|| self.by_role.get(&role).copied())
            .or(self.every_role)
            .filter(|l| !l.is_unlimited())
    }
}

/// The monotonic clock the buckets refill by: the process's, or one a test drives.
#[derive(Clone, Default)]
pub struct RateClock(Option<Arc<dyn Fn() -> Duration + Send + Sync>>);

impl RateClock {
    /// A clock reading `now()` as the time since an origin of the caller's (a test holds it
    /// still, so no bucket refills between two requests however slow the machine is).
    pub fn manual(now: impl Fn() -> Duration + Send + Sync + 'static) -> RateClock {
        RateClock(Some(Arc::new(now)))
    }

    fn now(&self, origin: Instant) -> Duration {
        match &self.0 {
            Some(f) => f(),
            None => origin.elapsed(),
        }
    }
}

impl std::fmt::Debug for RateClock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "RateClock(manual)"
        } else {
            "RateClock(monotonic)"
        })
    }
}

/// A token bucket: `level` requests may pass now; it refills at the limit's rate up to its
/// burst.
struct Bucket {
    limit: RateLimit,
    level: f64,
    at: Duration,
}

impl Bucket {
    fn new(limit: RateLimit, now: Duration) -> Bucket {
        Bucket {
            limit,
            level: limit.burst as f64,
            at: now,
        }
    }

    /// `Ok` when a request may pass at `now`; else the whole seconds until one may.
    fn take(&mut self, now: Duration) -> Result<(), u64> {
        let rate = self.limit.per_second as f64;
        let elapsed = now.saturating_sub(self.at).as_secs_f64();
        self.level = (self.level + elapsed * rate).min(self.limit.burst as f64);
        self.at = self.at.max(now);
        if self.level >= 1.0 {
            self.level -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - self.level) / rate).ceil().max(1.0) as u64)
        }
    }
}

/// Why a request was refused: the limit it hit and the seconds until one may pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Refused {
    pub(crate) limit: RateLimit,
    pub(crate) retry_after: u64,
}

/// The buckets of the live tokens.
pub(crate) struct TokenLimiter {
    limits: TokenRateLimits,
    clock: RateClock,
    origin: Instant,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl TokenLimiter {
    pub(crate) fn new(limits: TokenRateLimits, clock: RateClock) -> TokenLimiter {
        TokenLimiter {
            limits,
            clock,
            origin: Instant::now(),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one request from the bucket of the live token `token_id` (role `role`, its own
    /// limit `own`). `live` tells which tokens are live and `live_count` how many; buckets
    /// of other tokens are dropped when there are more buckets than live tokens.
    pub(crate) fn take(
        &self,
        token_id: &str,
        role: Role,
        own: Option<RateLimit>,
        live_count: impl FnOnce() -> usize,
        live: impl Fn(&str) -> bool,
    ) -> Result<(), Refused> {
        let Some(limit) = self.limits.limit_for(role, own) else {
            return Ok(());
        };
        let now = self.clock.now(self.origin);
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if !buckets.contains_key(token_id) && buckets.len() >= live_count() {
            buckets.retain(|id, _| live(id));
        }
        let bucket = buckets
            .entry(token_id.to_owned())
            .or_insert_with(|| Bucket::new(limit, now));
        bucket.take(now).map_err(|retry_after| Refused { limit, retry_after })
    }

    /// How many buckets are held (one per live token that sent a limited request).
    #[cfg(test)]
    fn len(&self) -> usize {
        self.buckets.lock().unwrap().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering};

    fn limit(per_second: u32, burst: u32) -> RateLimit {
        RateLimit { per_second, burst }
    }

    #[test]
    fn the_own_limit_wins_over_the_role_then_every_role_and_zero_is_unlimited() {
        let mut l = TokenRateLimits::default();
        l.add("intake=5/10").unwrap();
        l.add("*=2").unwrap();
        assert_eq!(l.limit_for(Role::Intake, None), Some(limit(5, 10)));
        assert_eq!(l.limit_for(Role::Analyst, None), Some(limit(2, 2)));
        assert_eq!(l.limit_for(Role::Intake, Some(limit(1, 1))), Some(limit(1, 1)));
        assert_eq!(l.limit_for(Role::Intake, Some(limit(0, 0))), None, "0: unlimited");
        assert_eq!(TokenRateLimits::default().limit_for(Role::Intake, None), None);
        let e = l.add("clerk=5").unwrap_err();
        assert!(e.contains("\"clerk=5\""), "{e}");
        let e = l.add("intake").unwrap_err();
        assert!(e.contains("ROLE=RATE"), "{e}");
    }

    #[test]
    fn a_bucket_refills_at_its_rate_up_to_its_burst() {
        let t = Arc::new(AtomicU64::new(0));
        let clock = {
            let t = t.clone();
            RateClock::manual(move || Duration::from_millis(t.load(Ordering::SeqCst)))
        };
        let mut l = TokenRateLimits::default();
        l.add("*=2/3").unwrap();
        let limiter = TokenLimiter::new(l, clock);
        let take = || limiter.take("a", Role::Intake, None, || 1, |_| true);
        for _ in 0..3 {
            take().unwrap();
        }
        assert_eq!(take().unwrap_err().retry_after, 1);
        t.store(500, Ordering::SeqCst); // half a second: one request at 2/s
        take().unwrap();
        assert!(take().is_err());
        t.store(60_000, Ordering::SeqCst); // a long quiet spell refills to the burst only
        for _ in 0..3 {
            take().unwrap();
        }
        assert!(take().is_err());
    }

    #[test]
    fn buckets_of_tokens_no_longer_live_are_dropped() {
        let mut l = TokenRateLimits::default();
        l.add("*=1").unwrap();
        let limiter = TokenLimiter::new(l, RateClock::manual(|| Duration::ZERO));
        limiter.take("a", Role::Intake, None, || 2, |_| true).unwrap();
        limiter.take("b", Role::Intake, None, || 2, |_| true).unwrap();
        assert_eq!(limiter.len(), 2);
        // `a` was revoked: one live token besides the newcomer `c`.
        limiter.take("c", Role::Intake, None, || 2, |id| id != "a").unwrap();
        assert_eq!(limiter.len(), 2);
        assert!(limiter.take("b", Role::Intake, None, || 2, |id| id != "a").is_err());
    }
}

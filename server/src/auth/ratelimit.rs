//! Login throttling, in memory: after too many failed attempts for one account, or from one
//! address, further attempts are refused for a while, even with the right password.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

/// Failed attempts allowed per account in a [`WINDOW`].
pub const PER_ACCOUNT: u32 = 5;
/// Failed attempts allowed per client address in a [`WINDOW`] (several accounts, one attacker).
pub const PER_ADDRESS: u32 = 20;
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Above this many tracked keys, expired ones are dropped, so the map stays bounded.
const PRUNE_ABOVE: usize = 10_000;

#[derive(Default)]
pub struct LoginThrottle {
    failures: Mutex<HashMap<String, (u32, Instant)>>,
}

impl LoginThrottle {
    /// `Err(seconds to wait)` while `account` or `address` is over its limit.
    pub fn check(&self, account: &str, address: &str) -> Result<(), u64> {
        let now = Instant::now();
        let map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let wait = [
            (account_key(account), PER_ACCOUNT),
            (address_key(address), PER_ADDRESS),
        ]
        .into_iter()
        .filter_map(|(key, limit)| {
            let (count, since) = map.get(&key)?;
            let left = WINDOW.checked_sub(now.duration_since(*since))?;
            (*count >= limit).then_some(left.as_secs().max(1))
        })
        .max();
        wait.map_or(Ok(()), Err)
    }

    pub fn failed(&self, account: &str, address: &str) {
        let now = Instant::now();
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > PRUNE_ABOVE {
            map.retain(|_, (_, since)| now.duration_since(*since) < WINDOW);
        }
        for key in [account_key(account), address_key(address)] {
            let entry = map.entry(key).or_insert((0, now));
            if now.duration_since(entry.1) >= WINDOW {
                *entry = (0, now);
            }
            entry.0 += 1;
        }
    }

    /// A successful sign-in clears the account's failures (not the address's).
    pub fn succeeded(&self, account: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(&account_key(account));
    }
}

fn account_key(account: &str) -> String {
    format!("account:{account}")
}

fn address_key(address: &str) -> String {
    format!("address:{address}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_is_locked_after_its_failures_and_others_are_not() {
        let t = LoginThrottle::default();
        for _ in 0..PER_ACCOUNT {
            assert!(t.check("a@x.com", "1.2.3.4").is_ok());
            t.failed("a@x.com", "1.2.3.4");
        }
        let wait = t.check("a@x.com", "5.6.7.8").unwrap_err();
        assert!(wait > 0 && wait <= WINDOW.as_secs());
        assert!(t.check("b@x.com", "1.2.3.4").is_ok());
        t.succeeded("b@x.com");
        assert!(t.check("a@x.com", "1.2.3.4").is_err());
    }

    #[test]
    fn an_address_is_locked_after_failures_on_many_accounts() {
        let t = LoginThrottle::default();
        for i in 0..PER_ADDRESS {
            t.failed(&format!("user{i}@x.com"), "9.9.9.9");
        }
        assert!(t.check("new@x.com", "9.9.9.9").is_err());
        assert!(t.check("new@x.com", "8.8.8.8").is_ok());
    }
}

//! A command's state-free part, done ahead of its decision (issue 15, wave 11).
//!
//! `plaint serve` decides the single commands of many requests together, one group at a time
//! (its group commit): whatever the domain does there is serial. What does not depend on the
//! complaint's state can be done before, on each request's own task, in parallel: the command's
//! digest (what a retry is compared with) and, for a `receive` with personal fields, their
//! sealing under the customer's key. [`prepare`] does that part; [`crate::state::decide_prepared`]
//! decides the prepared command exactly as [`crate::state::decide_with`] decides the command
//! itself, taking from the preparation only what it would have computed the same.
//!
//! The key is the one thing the preparation cannot know for sure: which key seals a customer's
//! fields is the vault's (its live key, or a new one), and the vault may change between the
//! preparation and the decision (an erasure, a key made by a command decided meanwhile). So the
//! preparation records the key it sealed under, and the decision uses the sealing only when its
//! context names that very key (id and secret); under any other key, it seals again, as if
//! nothing had been prepared. The sealing is a pure function of the key, the ids and the fields
//! ([`crate::personal::seal_customer`]), so a sealing used is byte for byte the one the decision
//! would have made.

use crate::command::{Command, CommandBody, CommandDigest};
use crate::event::SealedPersonal;
use crate::personal::{self, CustomerKey};

/// A command with its state-free part done ahead ([`prepare`]). The command cannot be changed
/// afterwards: what was prepared always belongs to it.
#[derive(Debug, Clone)]
pub struct PreparedCommand {
    cmd: Command,
    ahead: Ahead,
}

/// What [`prepare`] did ahead of a command's decision.
#[derive(Debug, Clone)]
pub struct Ahead {
    /// The command's digest ([`Command::digest`]).
    digest: CommandDigest,
    /// A `receive`'s personal fields sealed, with the key they were sealed under.
    sealed: Option<(CustomerKey, SealedPersonal)>,
}

impl Ahead {
    /// The command's digest.
    pub fn digest(&self) -> CommandDigest {
        self.digest
    }

    /// The personal fields sealed ahead, when they were sealed under `key` (id and secret).
    pub fn sealed_under(&self, key: &CustomerKey) -> Option<&SealedPersonal> {
        self.sealed.as_ref().filter(|(k, _)| k == key).map(|(_, sealed)| sealed)
    }
}

impl PreparedCommand {
    /// The command.
    pub fn command(&self) -> &Command {
        &self.cmd
    }

    /// The command back, with what was prepared dropped.
    pub fn into_command(self) -> Command {
        self.cmd
    }

    /// What was prepared.
    pub fn ahead(&self) -> &Ahead {
        &self.ahead
    }

    /// The key the personal fields were sealed under ahead, if they were.
    pub fn sealing_key(&self) -> Option<&CustomerKey> {
        self.ahead.sealed.as_ref().map(|(key, _)| key)
    }
}

/// Does a command's state-free part ahead of its decision: its digest and, for a `receive`
/// with personal fields, their sealing under `key` (the key the caller expects the decision's
/// context to name: the customer's live key, or the new one it proposes). Without a key, or
/// when sealing fails (only on absurd sizes: the decision reports it), only the digest.
///
/// ```
/// use plaint_domain::prepare::prepare;
/// use plaint_domain::Command;
/// let cmd: Command = serde_json::from_str(r#"{"command_id":"c-1","complaint_id":"CMP-1",
///     "actor":"cs-1","command":"reopen","reason":"客户不满意"}"#).unwrap();
/// let prepared = prepare(cmd.clone(), None);
/// assert_eq!(prepared.ahead().digest(), cmd.digest());
/// assert_eq!(prepared.into_command(), cmd);
/// ```
pub fn prepare(cmd: Command, key: Option<CustomerKey>) -> PreparedCommand {
    let digest = cmd.digest();
    let sealed = match (&cmd.body, key) {
        (CommandBody::Receive(r), Some(key)) => {
            personal::seal_customer(cmd.complaint_id.as_str(), cmd.command_id.as_str(), &r.customer, &key)
                .ok()
                .flatten()
                .map(|sealed| (key, sealed))
        }
        _ => None,
    };
    PreparedCommand {
        cmd,
        ahead: Ahead { digest, sealed },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::Calendar;
    use crate::personal::MatchSecret;
    use crate::policy::Policy;
    use crate::repeat::NoPriors;
    use crate::state::{decide_prepared, ComplaintState, Context};
    use crate::{EventData, Timestamp};

    fn receive(name: &str) -> Command {
        serde_json::from_str(&format!(
            r#"{{"command_id": "c-1", "complaint_id": "CMP-7", "actor": "cs-014", "command": "receive",
                "channel": "hotline", "region": "杭州", "description": "包裹破损",
                "customer": {{"name": "{name}", "phone": "13800138000"}}}}"#
        ))
        .unwrap()
    }

    /// `decide_prepared` takes the sealing done ahead when its key is the context's: a marker
    /// sealing (another name's, under the same key) comes out as the event's, which a fresh
    /// sealing never would.
    #[test]
    fn the_sealing_done_ahead_is_the_one_decided() {
        let key = CustomerKey {
            id: "owner.k1".to_owned(),
            secret: [3; 32],
        };
        let cmd = receive("陈静");
        let marker = prepare(receive("MARKER"), Some(key.clone()));
        let (_, marker_sealed) = marker.ahead.sealed.clone().unwrap();
        let prepared = PreparedCommand {
            ahead: Ahead {
                digest: cmd.digest(),
                sealed: Some((key.clone(), marker_sealed.clone())),
            },
            cmd,
        };
        let (policy, calendar, secret) = (
            Policy::default(),
            Calendar::china_mainland(),
            MatchSecret::from_bytes([7; 32]),
        );
        let ctx = Context {
            now: Timestamp::parse_rfc3339("2026-11-25T09:00:00+08:00").unwrap(),
            policy: &policy,
            calendar: &calendar,
            customer_key: Some(&key),
            match_secret: &secret,
        };
        let events = decide_prepared(&ComplaintState::default(), &prepared, &ctx, &NoPriors).unwrap();
        let EventData::Received(r) = &events[0].data else {
            panic!("a receive records Received first");
        };
        assert_eq!(r.customer.personal.as_ref(), Some(&marker_sealed));
    }
}

//! Access control (docs/serve.md "Roles and tokens"; issue 15): the roles a back office gives
//! its programs and people, the one table of what each role may do, API tokens as events, and
//! the audit record of every reveal of personal data.
//!
//! The table [`Role::permits`] is the only place that says who may send which command or read
//! what; `plaint serve` asks it for every request. Tokens and reveals are events in the log, so
//! they share the log's guarantees (durable, hash-chained, verified, the same on every server
//! of one PostgreSQL database):
//!
//! - [`TokenIssued`] / [`TokenRevoked`] in the stream [`TOKEN_STREAM`]. A token is a random
//!   secret printed once at creation; the log keeps only its BLAKE3 hash ([`token_hash`]).
//! - [`PersonalDataRevealed`] in the stream [`REVEAL_STREAM`]: who (the event's actor and the
//!   token), whose data (the complaint), when (the event's time) and why (the reason given).
//!
//! Every complaint state and figure ignores these events. This module does no I/O and draws no
//! random number: the caller brings the secret, the time and the token table.

use crate::event::ApproverRole;
use crate::ids::{Actor, ComplaintId, IdError};
use crate::CommandBody;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// The stream holding [`TokenIssued`] and [`TokenRevoked`] (a valid complaint id no intake uses).
pub const TOKEN_STREAM: &str = "access-tokens";
/// The stream holding [`PersonalDataRevealed`].
pub const REVEAL_STREAM: &str = "access-reveals";
/// Longest reason of a reveal or a revocation, in bytes.
pub const ACCESS_REASON_LEN_MAX: usize = 500;
/// Length of a token id (hex digits): the public part of a token, shown by `token list`.
pub const TOKEN_ID_LEN: usize = 12;
/// Length of a token's secret part (hex digits): 256 bits of entropy.
pub const TOKEN_SECRET_LEN: usize = 64;
/// The prefix of every token, so a leaked one is recognisable (secret scanners).
pub const TOKEN_PREFIX: &str = "plaint_";

/// A role a token carries. Its rights are [`Role::permits`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// 受理: takes complaints in, checks them, classifies and dispatches them.
    Intake,
    /// 处理: works a dispatched ticket to its answer, revisit and close.
    Handler,
    /// 主管 / 督办: escalates, supervises, redirects and reopens.
    Supervisor,
    /// 财务: grants compensation.
    Finance,
    /// 分析: reports and statistics; personal data only masked.
    Analyst,
    /// 审计: reads everything, the audit trail included, and may reveal; sends no command.
    Auditor,
    /// 部门负责人: a supervisor's rights, approving compensation up to the `department_head`
    /// band (docs/domain.md R-COMP-6). Appended at the end (tokens record the role by index).
    DepartmentHead,
    /// 中心负责人: a supervisor's rights, approving compensation of any amount.
    CenterDirector,
    /// 系统管理: creates, lists and revokes API tokens (through a running server); reads no
    /// complaint and sends no command.
    Admin,
}

impl Role {
    /// Every role, in the order of the documentation.
    pub const ALL: [Role; 9] = [
        Role::Intake,
        Role::Handler,
        Role::Supervisor,
        Role::Finance,
        Role::Analyst,
        Role::Auditor,
        Role::DepartmentHead,
        Role::CenterDirector,
        Role::Admin,
    ];

    /// The stable snake_case name.
    pub fn name(self) -> &'static str {
        match self {
            Role::Intake => "intake",
            Role::Handler => "handler",
            Role::Supervisor => "supervisor",
            Role::Finance => "finance",
            Role::Analyst => "analyst",
            Role::Auditor => "auditor",
            Role::DepartmentHead => "department_head",
            Role::CenterDirector => "center_director",
            Role::Admin => "admin",
        }
    }

    /// The highest compensation approver level this role acts in (docs/domain.md R-COMP-6):
    /// an `approve_compensation` naming a higher `role` is refused to it. `None`: it approves
    /// nothing.
    pub fn approver_level(self) -> Option<ApproverRole> {
        match self {
            Role::Supervisor => Some(ApproverRole::Supervisor),
            Role::DepartmentHead => Some(ApproverRole::DepartmentHead),
            Role::CenterDirector => Some(ApproverRole::CenterDirector),
            Role::Intake | Role::Handler | Role::Finance | Role::Analyst | Role::Auditor | Role::Admin => None,
        }
    }

    /// The command kinds (the import format's names, [`CommandBody::name`]) this role may send.
    /// A kind in no list is refused to every role.
    pub fn commands(self) -> &'static [&'static str] {
        match self {
            Role::Intake => &[
                "receive",
                "verify",
                "reject",
                "merge_as_duplicate",
                "classify",
                "dispatch",
                "withdraw",
            ],
            Role::Handler => &[
                "classify",
                "dispatch",
                "redispatch",
                "put_on_hold",
                "resume",
                "respond",
                "revisit",
                "reopen",
                "close",
                "withdraw",
                // Issue 17: the closed loop, first-contact ownership, proposing compensation,
                // the incident group's customer-service member, improvement actions.
                "record_revisit_attempt",
                "transfer_ownership",
                "propose_compensation",
                "link_incident",
                "report_incident_progress",
                "record_improvement",
                // 纠纷升级 (R-DSP-1): litigation, media, regulator.
                "record_dispute_escalation",
            ],
            // The approver levels above the supervisor hold the supervisor's rights; what they
            // may approve is `approver_level`.
            Role::Supervisor | Role::DepartmentHead | Role::CenterDirector => &[
                "escalate",
                "redispatch",
                "reopen",
                "put_on_hold",
                "resume",
                "close",
                // Issue 17: 督办, ownership transfers, approving or refusing compensation (the
                // amount's approver level is the domain's check), major-incident groups.
                "open_supervision",
                "transfer_ownership",
                "approve_compensation",
                "refuse_compensation",
                "open_incident",
                "link_incident",
                "report_incident_progress",
                "record_improvement",
                // 纠纷升级 (R-DSP-1): litigation, media, regulator.
                "record_dispute_escalation",
            ],
            Role::Finance => &["compensate", "pay_compensation"],
            Role::Analyst | Role::Auditor | Role::Admin => &[],
        }
    }

    /// Whether this role may do `access`. The one table of rights: `plaint serve` asks it for
    /// every request, and docs/serve.md prints it.
    pub fn permits(self, access: Access<'_>) -> bool {
        match access {
            // A response carrying compensation grants money: it needs the right to
            // `compensate` (finance), not the right to `respond`.
            Access::Command(CommandBody::Respond(r)) if r.compensation.is_some() => {
                self.commands().contains(&"compensate")
            }
            // The approver level the command names must be the caller's or below (R-COMP-6):
            // a supervisor's token cannot approve as the centre director.
            Access::Command(CommandBody::ApproveCompensation(a)) => {
                self.commands().contains(&"approve_compensation") && self.approver_level().is_some_and(|l| l >= a.role)
            }
            Access::Command(body) => self.commands().contains(&body.name()),
            Access::CommandKind(kind) => self.commands().contains(&kind),
            Access::Read => self != Role::Admin,
            Access::Report => matches!(
                self,
                Role::Supervisor
                    | Role::DepartmentHead
                    | Role::CenterDirector
                    | Role::Finance
                    | Role::Analyst
                    | Role::Auditor
            ),
            Access::Reveal => matches!(
                self,
                Role::Intake
                    | Role::Handler
                    | Role::Supervisor
                    | Role::DepartmentHead
                    | Role::CenterDirector
                    | Role::Auditor
            ),
            Access::Audit => matches!(self, Role::Auditor),
            Access::Tokens => matches!(self, Role::Admin),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a role name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("role {0:?} does not exist; the roles are intake, handler, supervisor, finance, analyst, auditor, department_head, center_director, admin")]
pub struct UnknownRole(pub String);

impl std::str::FromStr for Role {
    type Err = UnknownRole;
    fn from_str(s: &str) -> Result<Role, UnknownRole> {
        Role::ALL
            .into_iter()
            .find(|r| r.name() == s)
            .ok_or_else(|| UnknownRole(s.to_owned()))
    }
}

/// What a request asks to do, as [`Role::permits`] judges it.
#[derive(Debug, Clone, Copy)]
pub enum Access<'a> {
    /// Send this command (judged on its kind, and for a response on its compensation).
    Command(&'a CommandBody),
    /// Send a command of this kind ([`CommandBody::name`]).
    CommandKind(&'a str),
    /// Read tickets, histories, the queue and the event stream, personal data masked.
    Read,
    /// Read reports, SLA figures and statistics.
    Report,
    /// See a complaint's personal fields in clear (recorded as [`PersonalDataRevealed`]).
    Reveal,
    /// Read the audit trail and verify the log.
    Audit,
    /// Create, list and revoke API tokens.
    Tokens,
}

/// An API token was issued. The secret itself is never recorded: only its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenIssued {
    /// The public part of the token ([`TOKEN_ID_LEN`] hex digits).
    pub token_id: String,
    /// Who or what uses it (`hotline-desk`, `finance-system`); the actor of its requests.
    pub name: String,
    /// Its role.
    pub role: Role,
    /// BLAKE3 of the whole token, 64 hex digits ([`token_hash`]).
    pub hash: String,
    /// Its own request rate limit (schema version 2; `None`: the server's default for its
    /// role, docs/serve.md "Rate limits").
    pub rate_limit: Option<RateLimit>,
}

/// A token's own request rate limit: `per_second` requests per second with bursts of up to
/// `burst`; `per_second` 0 means unlimited (the server's global ceiling still applies).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RateLimit {
    /// Requests per second (0: unlimited).
    pub per_second: u32,
    /// How many requests may come at once after a quiet spell (at least 1 when limited).
    pub burst: u32,
}

impl RateLimit {
    /// `RATE` or `RATE/BURST` (`20` is 20 per second with bursts of 20; `20/100` bursts of
    /// 100; `0` unlimited).
    pub fn parse(text: &str) -> Result<RateLimit, String> {
        let bad = || {
            format!(
                "rate limit {text:?}: expected RATE or RATE/BURST (requests per second, whole numbers; 0 is unlimited)"
            )
        };
        let (rate, burst) = match text.trim().split_once('/') {
            Some((r, b)) => (r.trim(), Some(b.trim())),
            None => (text.trim(), None),
        };
        let per_second: u32 = rate.parse().map_err(|_| bad())?;
        let burst: u32 = match burst {
            Some(b) => b.parse().map_err(|_| bad())?,
            None => per_second,
        };
        if per_second > 0 && burst == 0 {
            return Err(format!("rate limit {text:?}: a burst of 0 would refuse every request; give a burst of at least 1 (or a rate of 0 for unlimited)"));
        }
        Ok(RateLimit { per_second, burst })
    }

    /// Whether this limit lets every request pass.
    pub fn is_unlimited(self) -> bool {
        self.per_second == 0
    }
}

impl std::fmt::Display for RateLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.is_unlimited() {
            f.write_str("unlimited")
        } else {
            write!(f, "{}/s (burst {})", self.per_second, self.burst)
        }
    }
}

/// An API token was revoked: from this event on it authenticates nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRevoked {
    /// The token revoked.
    pub token_id: String,
    /// Why.
    pub reason: String,
}

/// A complaint's personal fields were shown in clear: who (the event's actor, the token and
/// its role), whose data (the complaint), when (the event's time) and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonalDataRevealed {
    /// Whose data: the complaint whose customer fields were opened.
    pub complaint_id: ComplaintId,
    /// The token the request came with (empty when revealed without one, e.g. by the CLI).
    pub token_id: String,
    /// The role it was revealed under.
    pub role: Role,
    /// Why, as the caller stated it.
    pub reason: String,
}

/// Why an access decision refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AccessRefusal {
    /// The token name is not a valid actor name.
    #[error("token name: {0}")]
    BadName(IdError),
    /// A live token already has this name.
    #[error("a live token named {name:?} exists already (token {token_id}); revoke it first or pick another name")]
    NameTaken {
        /// The name.
        name: String,
        /// The live token holding it.
        token_id: String,
    },
    /// The token id is already used (a new token must draw another secret).
    #[error("token id {0} is already used")]
    IdTaken(String),
    /// The token id or hash is not well formed.
    #[error("token {what} {value:?} is not {expected}")]
    Malformed {
        /// `id` or `hash`.
        what: &'static str,
        /// What was given.
        value: String,
        /// What was expected.
        expected: &'static str,
    },
    /// No token with this id or name.
    #[error("no token with id or name {0:?}")]
    UnknownToken(String),
    /// The token was revoked already.
    #[error("token {token_id} ({name}) was revoked already")]
    AlreadyRevoked {
        /// The token.
        token_id: String,
        /// Its name.
        name: String,
    },
    /// The role may not reveal personal data.
    #[error("role {0} may not reveal personal data")]
    RevealForbidden(Role),
    /// A reason is required (a reveal's or a revocation's) and was empty or too long.
    #[error("{what}: a reason of 1 to {max} bytes is required, got {len} bytes")]
    Reason {
        /// Which reason.
        what: &'static str,
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
}

/// BLAKE3 of a whole token, as 64 lowercase hex digits: what the log keeps. The token carries
/// 256 random bits, so a fast hash is enough (no password stretching is needed).
pub fn token_hash(token: &str) -> String {
    blake3::hash(token.as_bytes()).to_hex().to_string()
}

/// Splits a token `plaint_<id>_<secret>` into its id; `None` when it is not shaped like one.
pub fn token_id_of(token: &str) -> Option<&str> {
    let rest = token.strip_prefix(TOKEN_PREFIX)?;
    let (id, secret) = rest.split_once('_')?;
    (is_hex(id, TOKEN_ID_LEN) && is_hex(secret, TOKEN_SECRET_LEN)).then_some(id)
}

/// The token text for an id and a secret (both lowercase hex of the right lengths).
pub fn token_text(token_id: &str, secret: &str) -> String {
    format!("{TOKEN_PREFIX}{token_id}_{secret}")
}

fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// One token as the log knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenRecord {
    /// The public id.
    pub token_id: String,
    /// Its name (the actor of its requests).
    pub name: String,
    /// Its role.
    pub role: Role,
    /// BLAKE3 of the token (hex).
    #[serde(skip)]
    pub hash: String,
    /// Who issued it.
    pub issued_by: Actor,
    /// When (milliseconds since the epoch, as [`crate::Timestamp`]).
    pub issued_at: crate::Timestamp,
    /// When it was revoked, if it was.
    pub revoked_at: Option<crate::Timestamp>,
    /// Its own rate limit, if it was issued with one.
    pub rate_limit: Option<RateLimit>,
}

/// Every token issued, folded from [`TOKEN_STREAM`] with [`TokenTable::apply`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokenTable {
    tokens: BTreeMap<String, TokenRecord>,
    version: u64,
}

impl TokenTable {
    /// Folds one event of [`TOKEN_STREAM`] (other events are ignored).
    pub fn apply(&mut self, event: &crate::Event) {
        self.version += 1;
        match &event.data {
            crate::EventData::TokenIssued(t) => {
                self.tokens.insert(
                    t.token_id.clone(),
                    TokenRecord {
                        token_id: t.token_id.clone(),
                        name: t.name.clone(),
                        role: t.role,
                        hash: t.hash.clone(),
                        issued_by: event.meta.actor.clone(),
                        issued_at: event.meta.occurred_at,
                        revoked_at: None,
                        rate_limit: t.rate_limit,
                    },
                );
            }
            crate::EventData::TokenRevoked(r) => {
                if let Some(t) = self.tokens.get_mut(&r.token_id) {
                    t.revoked_at.get_or_insert(event.meta.occurred_at);
                }
            }
            _ => {}
        }
    }

    /// How many events were folded (the stream version to read on from).
    pub fn version(&self) -> u64 {
        self.version
    }

    /// Every token, by id.
    pub fn tokens(&self) -> impl Iterator<Item = &TokenRecord> {
        self.tokens.values()
    }

    /// The live token this text authenticates, if any: shaped like a token, issued, not
    /// revoked, and its hash matching (compared in constant time).
    pub fn authenticate(&self, token: &str) -> Option<&TokenRecord> {
        let id = token_id_of(token)?;
        let t = self.tokens.get(id)?;
        let stored = blake3::Hash::from_hex(&t.hash).ok()?;
        (t.revoked_at.is_none() && stored == blake3::hash(token.as_bytes())).then_some(t)
    }

    /// Decides issuing a token named `name` with `role`, whose id and hash the caller drew.
    pub fn decide_issue(
        &self,
        token_id: &str,
        name: &str,
        role: Role,
        hash: &str,
    ) -> Result<TokenIssued, AccessRefusal> {
        if !is_hex(token_id, TOKEN_ID_LEN) {
            return Err(AccessRefusal::Malformed {
                what: "id",
                value: token_id.to_owned(),
                expected: "12 lowercase hex digits",
            });
        }
        if !is_hex(hash, 64) {
            return Err(AccessRefusal::Malformed {
                what: "hash",
                value: hash.to_owned(),
                expected: "64 lowercase hex digits",
            });
        }
        Actor::person(name).map_err(AccessRefusal::BadName)?;
        if self.tokens.contains_key(token_id) {
            return Err(AccessRefusal::IdTaken(token_id.to_owned()));
        }
        if let Some(t) = self.tokens.values().find(|t| t.name == name && t.revoked_at.is_none()) {
            return Err(AccessRefusal::NameTaken {
                name: name.to_owned(),
                token_id: t.token_id.clone(),
            });
        }
        Ok(TokenIssued {
            token_id: token_id.to_owned(),
            name: name.to_owned(),
            role,
            hash: hash.to_owned(),
            rate_limit: None,
        })
    }

    /// The name a new token of `role` gets when none is given: `<role>-<n>`, `n` one more than
    /// the tokens of that role ever issued (so it never repeats a revoked token's name).
    pub fn default_name(&self, role: Role) -> String {
        let n = self.tokens.values().filter(|t| t.role == role).count() + 1;
        format!("{role}-{n}")
    }

    /// Decides revoking the live token with this id or name.
    pub fn decide_revoke(&self, id_or_name: &str, reason: &str) -> Result<TokenRevoked, AccessRefusal> {
        check_reason("revocation reason", reason)?;
        let t = self
            .tokens
            .get(id_or_name)
            .or_else(|| {
                self.tokens
                    .values()
                    .find(|t| t.name == id_or_name && t.revoked_at.is_none())
            })
            .ok_or_else(|| AccessRefusal::UnknownToken(id_or_name.to_owned()))?;
        if t.revoked_at.is_some() {
            return Err(AccessRefusal::AlreadyRevoked {
                token_id: t.token_id.clone(),
                name: t.name.clone(),
            });
        }
        Ok(TokenRevoked {
            token_id: t.token_id.clone(),
            reason: reason.to_owned(),
        })
    }
}

fn check_reason(what: &'static str, reason: &str) -> Result<(), AccessRefusal> {
    let len = reason.trim().len();
    if len == 0 || reason.len() > ACCESS_REASON_LEN_MAX {
        return Err(AccessRefusal::Reason {
            what,
            len: reason.len(),
            max: ACCESS_REASON_LEN_MAX,
        });
    }
    Ok(())
}

/// Decides a reveal of `complaint`'s personal fields under `role`: allowed only to the roles
/// [`Role::permits`] gives [`Access::Reveal`], and only with a reason.
pub fn decide_reveal(
    role: Role,
    token_id: &str,
    complaint: &ComplaintId,
    reason: &str,
) -> Result<PersonalDataRevealed, AccessRefusal> {
    if !role.permits(Access::Reveal) {
        return Err(AccessRefusal::RevealForbidden(role));
    }
    check_reason("reveal reason", reason)?;
    Ok(PersonalDataRevealed {
        complaint_id: complaint.clone(),
        token_id: token_id.to_owned(),
        role,
        reason: reason.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CommandId, Event, EventData, EventMeta, Timestamp};

    fn event(data: EventData, at: i64) -> Event {
        Event {
            meta: EventMeta {
                complaint_id: ComplaintId::new(TOKEN_STREAM).unwrap(),
                stream_version: 0,
                position: 0,
                occurred_at: Timestamp::from_millis(at),
                recorded_at: Timestamp::from_millis(at),
                actor: Actor::person("admin").unwrap(),
                command_id: CommandId::new("t").unwrap(),
                schema_version: 1,
                command_digest: None,
            },
            data,
        }
    }

    fn body(json: &str) -> CommandBody {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn the_table_allows_each_role_its_commands_only() {
        let receive = body(r#"{"command":"receive","channel":"hotline","region":"杭州","description":"x"}"#);
        let escalate = body(r#"{"command":"escalate","level":"department_head"}"#);
        let compensate = body(r#"{"command":"compensate","compensation":{"remedy":"payment","amount":100}}"#);
        let respond = body(r#"{"command":"respond","kind":"final"}"#);
        let respond_paid =
            body(r#"{"command":"respond","kind":"final","compensation":{"remedy":"payment","amount":100}}"#);
        assert!(Role::Intake.permits(Access::Command(&receive)));
        assert!(!Role::Handler.permits(Access::Command(&receive)));
        assert!(Role::Supervisor.permits(Access::Command(&escalate)));
        assert!(!Role::Handler.permits(Access::Command(&escalate)));
        assert!(Role::Finance.permits(Access::Command(&compensate)));
        assert!(!Role::Handler.permits(Access::Command(&compensate)));
        assert!(Role::Handler.permits(Access::Command(&respond)));
        // Money rides on the response: finance's right, not the handler's.
        assert!(!Role::Handler.permits(Access::Command(&respond_paid)));
        assert!(Role::Finance.permits(Access::Command(&respond_paid)));
        assert!(!Role::Finance.permits(Access::Command(&respond)));
        for role in [Role::Analyst, Role::Auditor] {
            assert!(!role.permits(Access::Command(&receive)), "{role}");
            assert!(role.permits(Access::Report));
        }
        assert!(!Role::Analyst.permits(Access::Reveal));
        assert!(!Role::Finance.permits(Access::Reveal));
        assert!(Role::Auditor.permits(Access::Reveal));
        assert!(Role::Auditor.permits(Access::Audit));
        assert!(!Role::Supervisor.permits(Access::Audit));
        assert!(!Role::Intake.permits(Access::CommandKind("no_such_command")));
        // Issue 17's money chain: a handler proposes, a supervisor approves, finance pays.
        assert!(Role::Handler.permits(Access::CommandKind("propose_compensation")));
        assert!(!Role::Handler.permits(Access::CommandKind("approve_compensation")));
        assert!(Role::Supervisor.permits(Access::CommandKind("approve_compensation")));
        assert!(!Role::Supervisor.permits(Access::CommandKind("pay_compensation")));
        assert!(Role::Finance.permits(Access::CommandKind("pay_compensation")));
        assert!(Role::Supervisor.permits(Access::CommandKind("open_supervision")));
        assert!(!Role::Handler.permits(Access::CommandKind("open_supervision")));
        assert_eq!("finance".parse::<Role>().unwrap(), Role::Finance);
        assert_eq!(
            "root".parse::<Role>().unwrap_err().to_string(),
            "role \"root\" does not exist; the roles are intake, handler, supervisor, finance, analyst, auditor, department_head, center_director, admin"
        );
        // The token administrator manages tokens and nothing else; nobody else manages them.
        assert_eq!("admin".parse::<Role>().unwrap(), Role::Admin);
        for access in [
            Access::Read,
            Access::Report,
            Access::Reveal,
            Access::Audit,
            Access::Command(&receive),
        ] {
            assert!(!Role::Admin.permits(access), "{access:?}");
        }
        for role in Role::ALL {
            assert_eq!(role.permits(Access::Tokens), role == Role::Admin, "{role}");
        }
    }

    /// docs/domain.md R-COMP-6 (seeds/001 明确赔偿标准; the approver bound to who acts): the
    /// approver level an `approve_compensation` names must be the caller's role or below.
    #[test]
    fn approver_level_is_bound_to_the_callers_role() {
        let approve = |role| {
            CommandBody::ApproveCompensation(crate::command::ApproveCompensation {
                compensation_id: "c1".to_owned(),
                role,
            })
        };
        let levels = [
            ApproverRole::Supervisor,
            ApproverRole::DepartmentHead,
            ApproverRole::CenterDirector,
        ];
        for (caller, highest) in [
            (Role::Supervisor, 0),
            (Role::DepartmentHead, 1),
            (Role::CenterDirector, 2),
        ] {
            for (i, level) in levels.into_iter().enumerate() {
                assert_eq!(
                    caller.permits(Access::Command(&approve(level))),
                    i <= highest,
                    "{caller} approving as {}",
                    level.as_str()
                );
            }
            assert_eq!(caller.approver_level(), Some(levels[highest]));
        }
        for caller in [
            Role::Intake,
            Role::Handler,
            Role::Finance,
            Role::Analyst,
            Role::Auditor,
            Role::Admin,
        ] {
            assert!(
                !caller.permits(Access::Command(&approve(ApproverRole::Supervisor))),
                "{caller}"
            );
            assert_eq!(caller.approver_level(), None);
        }
        assert_eq!("center_director".parse::<Role>().unwrap(), Role::CenterDirector);
        // The higher levels keep the supervisor's other rights.
        assert!(Role::CenterDirector.permits(Access::CommandKind("open_supervision")));
        assert!(Role::DepartmentHead.permits(Access::Report));
    }

    #[test]
    fn tokens_issue_authenticate_and_revoke() {
        let id = "0123456789ab";
        let token = token_text(id, &"f".repeat(TOKEN_SECRET_LEN));
        assert_eq!(token_id_of(&token), Some(id));
        let mut table = TokenTable::default();
        let issued = table
            .decide_issue(id, "hotline-desk", Role::Intake, &token_hash(&token))
            .unwrap();
        table.apply(&event(EventData::TokenIssued(issued), 1));
        assert_eq!(table.authenticate(&token).unwrap().role, Role::Intake);
        // One changed character of the secret: no match.
        let forged = token_text(id, &format!("e{}", "f".repeat(TOKEN_SECRET_LEN - 1)));
        assert!(table.authenticate(&forged).is_none());
        assert!(table.authenticate("Bearer nonsense").is_none());
        assert!(matches!(
            table.decide_issue("0123456789ac", "hotline-desk", Role::Handler, &token_hash("x")),
            Err(AccessRefusal::NameTaken { .. })
        ));
        assert!(matches!(
            table.decide_issue(id, "other", Role::Handler, &token_hash("x")),
            Err(AccessRefusal::IdTaken(_))
        ));
        assert!(matches!(
            table.decide_revoke("hotline-desk", " "),
            Err(AccessRefusal::Reason { .. })
        ));
        let revoked = table.decide_revoke("hotline-desk", "desk replaced").unwrap();
        assert_eq!(revoked.token_id, id);
        table.apply(&event(EventData::TokenRevoked(revoked), 2));
        assert!(table.authenticate(&token).is_none());
        assert_eq!(
            table.decide_revoke(id, "again").unwrap_err().to_string(),
            "token 0123456789ab (hotline-desk) was revoked already"
        );
        assert_eq!(table.version(), 2);
    }

    #[test]
    fn a_reveal_needs_the_right_and_a_reason() {
        let c = ComplaintId::new("CMP-1").unwrap();
        let r = decide_reveal(Role::Auditor, "0123456789ab", &c, "PIPL request 12").unwrap();
        assert_eq!(r.complaint_id, c);
        assert_eq!(
            decide_reveal(Role::Analyst, "x", &c, "curious")
                .unwrap_err()
                .to_string(),
            "role analyst may not reveal personal data"
        );
        assert!(matches!(
            decide_reveal(Role::Auditor, "x", &c, ""),
            Err(AccessRefusal::Reason { .. })
        ));
    }
}

//! Policies as data (docs/domain.md §5–§8): SLA clocks per severity tier, the escalation ladder, the
//! routing table, the compensation rules, the repeat window, the at-risk share and the alert
//! thresholds, with a version. The defaults live in `data/policy.default.toml` (embedded at
//! compile time); every key is documented in `docs/policy.md`.
//!
//! No SLA number is a constant in code: every figure comes from a [`Policy`]. Deadlines computed
//! here are recorded in events with [`Policy::version`] (docs/domain.md §7 audit rule), so a later
//! policy change never changes a past verdict.

use crate::calendar::Calendar;
use crate::event::{
    Category, Channel, Clock, ClockDeadline, Department, EscalationDue, EscalationLevel, Flags, RoutingDecision,
    Severity,
};
use crate::time::{Timestamp, MS_PER_DAY, MS_PER_HOUR, MS_PER_MINUTE};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// The default policy file, embedded.
pub const DEFAULT_POLICY_TOML: &str = include_str!("../data/policy.default.toml");

/// Longest policy version string, in bytes (it is recorded in every Classified event).
pub const POLICY_VERSION_LEN_MAX: usize = 64;

/// Why a policy file was refused. Always names the key (dotted path, array index in brackets)
/// and the 1-based line it is on (or the line of its table when the key is missing).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// The file is not a valid policy: `key` (dotted) on `line` (1-based), and why.
    #[error("policy line {line}: key `{key}`: {message}")]
    Invalid { key: String, line: usize, message: String },
}

impl PolicyError {
    /// The dotted key the error is about.
    pub fn key(&self) -> &str {
        match self {
            PolicyError::Invalid { key, .. } => key,
        }
    }
    /// The 1-based line of the key (or of its table).
    pub fn line(&self) -> usize {
        match self {
            PolicyError::Invalid { line, .. } => *line,
        }
    }
}

/// A duration with an explicit unit, written `{ hours = 24 }` in TOML.
///
/// Calendar units (`minutes`, `hours`, `days`) are elapsed time, 24 hours a day. Business units
/// (`working_hours`, `working_days`) run on a [`Calendar`] (see `calendar` for the definition).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PolicyDuration {
    /// Elapsed minutes.
    Minutes(u32),
    /// Elapsed hours.
    Hours(u32),
    /// Elapsed days of 24 hours.
    Days(u32),
    /// Hours inside the calendar's working hours on working days.
    WorkingHours(u32),
    /// Working days (see `calendar` for the definition).
    WorkingDays(u32),
}

impl PolicyDuration {
    /// The instant this duration after `from`.
    pub fn after(self, cal: &Calendar, from: Timestamp) -> Timestamp {
        match self {
            PolicyDuration::WorkingHours(n) => cal.add_working_hours(from, n),
            PolicyDuration::WorkingDays(n) => cal.add_working_days(from, n),
            fixed => from.plus_millis(fixed.fixed_millis().expect("calendar units have a fixed length")),
        }
    }
    /// Like [`PolicyDuration::after`], noting in `needs` the first year without calendar data
    /// that a business-unit duration walked through (calendar units need no calendar data).
    pub fn after_noting(self, cal: &Calendar, needs: &mut CalendarNeeds, from: Timestamp) -> Timestamp {
        let due = self.after(cal, from);
        if self.fixed_millis().is_none() {
            if let Some(year) = cal.uncovered_year_between(from, due) {
                needs.note(year);
            }
        }
        due
    }
    /// Length in milliseconds for calendar units; `None` for business units.
    pub fn fixed_millis(self) -> Option<i64> {
        match self {
            PolicyDuration::Minutes(n) => Some(i64::from(n) * MS_PER_MINUTE),
            PolicyDuration::Hours(n) => Some(i64::from(n) * MS_PER_HOUR),
            PolicyDuration::Days(n) => Some(i64::from(n) * MS_PER_DAY),
            PolicyDuration::WorkingHours(_) | PolicyDuration::WorkingDays(_) => None,
        }
    }
    /// The number, whatever the unit.
    pub fn amount(self) -> u32 {
        match self {
            PolicyDuration::Minutes(n)
            | PolicyDuration::Hours(n)
            | PolicyDuration::Days(n)
            | PolicyDuration::WorkingHours(n)
            | PolicyDuration::WorkingDays(n) => n,
        }
    }
}

impl fmt::Display for PolicyDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PolicyDuration::Minutes(n) => write!(f, "{n} min"),
            PolicyDuration::Hours(n) => write!(f, "{n} h"),
            PolicyDuration::Days(n) => write!(f, "{n} days"),
            PolicyDuration::WorkingHours(n) => write!(f, "{n} working hours"),
            PolicyDuration::WorkingDays(n) => write!(f, "{n} working days"),
        }
    }
}

/// What a deadline computation needed of the calendar (issue 11): the first year without
/// holiday data that a working-time duration walked through, if any.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CalendarNeeds {
    /// The first uncovered year noted (the earliest, when several were).
    pub uncovered_year: Option<i32>,
}

impl CalendarNeeds {
    /// Notes that `year` was needed and has no calendar data.
    pub fn note(&mut self, year: i32) {
        self.uncovered_year = Some(self.uncovered_year.map_or(year, |y| y.min(year)));
    }
    /// Whether every working-time computation stayed inside covered years.
    pub fn covered(&self) -> bool {
        self.uncovered_year.is_none()
    }
}

/// What a deadline needing a year without calendar data does (`calendar.uncovered_year`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UncoveredYear {
    /// The command is refused, naming the year and the calendar file to add (the default).
    Refuse,
    /// The deadline is computed with the weekend rule only and recorded with
    /// `calendar_covered: false`; reports show it.
    WeekendsOnly,
}

/// Calendar coverage (issue 11): what happens beyond the calendar data, and how early
/// `plaint stats` and `plaint verify` warn that it runs out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalendarPolicy {
    /// A deadline that needs a year without holiday data: refused, or weekends-only arithmetic.
    pub uncovered_year: UncoveredYear,
    /// Warn this long before the last covered date (calendar units only).
    pub expiry_warning: PolicyDuration,
}

/// Plausible instants (issue 11): business times (`occurred_at`, `contact_at`) and the recording
/// time (`now`, the CLI's `--now`) outside `earliest..latest` are refused as implausible input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputBounds {
    /// The earliest plausible instant (inclusive).
    pub earliest: Timestamp,
    /// The latest plausible instant (exclusive).
    pub latest: Timestamp,
}

impl InputBounds {
    /// `Err(reason)` when `t` is outside the bounds; the reason names the bound's policy key.
    pub fn check(&self, t: Timestamp) -> Result<(), String> {
        if t < self.earliest {
            return Err(format!(
                "{t} is before the earliest plausible instant {} (policy input_bounds.earliest)",
                self.earliest
            ));
        }
        if t >= self.latest {
            return Err(format!(
                "{t} is not before the latest plausible instant {} (policy input_bounds.latest)",
                self.latest
            ));
        }
        Ok(())
    }
}

/// The clocks of one severity tier (docs/domain.md §7). An absent clock does not run for the tier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TierClocks {
    /// Registration after the customer's contact.
    pub registration: PolicyDuration,
    /// First response (acknowledgement) after receipt. Never pauses.
    pub first_response: PolicyDuration,
    /// Final resolution after receipt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution: Option<PolicyDuration>,
    /// Preliminary plan after receipt (major).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preliminary_plan: Option<PolicyDuration>,
    /// A progress update every so often after the preliminary plan is due, until the final
    /// response (major). Requires `preliminary_plan`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress_update_every: Option<PolicyDuration>,
    /// Investigation started after dispatch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub investigation: Option<PolicyDuration>,
    /// Preliminary solution after dispatch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preliminary_solution: Option<PolicyDuration>,
    /// Green channel (repeat or media flag): supervisor intervention after receipt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub green_channel: Option<PolicyDuration>,
    /// Revisit after the final response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revisit: Option<PolicyDuration>,
}

/// Regulatory clocks (docs/domain.md §7).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegulatoryClocks {
    /// Result to the customer after receipt (Express Delivery Interim Regulations art. 28).
    pub result_within: PolicyDuration,
    /// Company reply to a regulator referral after receipt.
    pub regulator_reply_within: PolicyDuration,
    /// A customer may appeal when no answer came within this time of receipt …
    pub appeal_if_no_answer_within: PolicyDuration,
    /// … within this window of receipt (either ground).
    pub appeal_window: PolicyDuration,
}

/// Which clocks stop while a ticket is on hold (docs/domain.md §7).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PausePolicy {
    /// Clocks extended by time on hold. `first_response` may never be listed.
    pub pausable: Vec<Clock>,
}

/// All SLA clocks (docs/domain.md §7): per tier, per channel, regulatory, pauses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlaPolicy {
    /// Clocks of `ordinary` tickets.
    pub ordinary: TierClocks,
    /// Clocks of `urgent` tickets.
    pub urgent: TierClocks,
    /// Clocks of `major` tickets.
    pub major: TierClocks,
    /// Registration clock overrides by channel name (e.g. `counter = { hours = 1 }`).
    #[serde(default)]
    pub registration_by_channel: BTreeMap<String, PolicyDuration>,
    /// First-response allowances by channel name (000: the mini-program answers 受理 within
    /// 2 h). The stricter of this and the tier's `first_response` applies (R-SLA-8).
    #[serde(default)]
    pub first_response_by_channel: BTreeMap<String, PolicyDuration>,
    /// Clocks set by regulation.
    pub regulatory: RegulatoryClocks,
    /// Which clocks pause on hold.
    pub pause: PausePolicy,
}

impl SlaPolicy {
    /// The clocks of one severity tier.
    pub fn tier(&self, severity: Severity) -> &TierClocks {
        match severity {
            Severity::Ordinary => &self.ordinary,
            Severity::Urgent => &self.urgent,
            Severity::Major => &self.major,
        }
    }
}

/// Early warnings (docs/domain.md §7).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WarningPolicy {
    /// A pending clock is "at risk" once this share of its allowance is used (0 < share < 1).
    pub at_risk_share: f64,
}

/// What an escalation ladder rung's `after` is measured from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LadderMeasure {
    /// Elapsed since the ticket was received (002's reading; the default).
    SinceReceipt,
    /// Elapsed past the resolution deadline.
    PastDue,
}

/// One rung of the escalation ladder: an unresolved ticket escalates to `level` after `after`.
/// Its rule id is `ladder.<level>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LadderRung {
    /// Tiers the rung applies to.
    pub severities: Vec<Severity>,
    /// Time after the ladder's measure point (see [`LadderMeasure`]).
    pub after: PolicyDuration,
    /// Level escalated to.
    pub level: EscalationLevel,
}

/// Escalate at the breach of `clock` for tickets of `severity`. Its rule id is `breach.<clock>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BreachRule {
    /// Tier the rule applies to.
    pub severity: Severity,
    /// Clock whose breach triggers the escalation.
    pub clock: Clock,
    /// Level escalated to.
    pub level: EscalationLevel,
}

/// The escalation ladder and breach rules (docs/domain.md §7).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EscalationPolicy {
    /// What ladder rungs are measured from.
    pub ladder_measure: LadderMeasure,
    /// Level the watchdog escalates a green-channel ticket to when its clock falls due.
    pub green_channel_level: EscalationLevel,
    /// Rungs for unresolved tickets (rule ids `ladder.<level>`).
    #[serde(default)]
    pub ladder: Vec<LadderRung>,
    /// Escalations at a clock's breach (rule ids `breach.<clock>`).
    #[serde(default)]
    pub breach: Vec<BreachRule>,
}

/// Rule id prefix of a ladder rung (`ladder.supervisor`).
pub const RULE_LADDER_PREFIX: &str = "ladder.";
/// Rule id prefix of a breach rule (`breach.first_response`).
pub const RULE_BREACH_PREFIX: &str = "breach.";
/// Rule id of the green-channel escalation.
pub const RULE_GREEN_CHANNEL: &str = "green_channel";
/// Rule id prefix of a supervision's overdue escalation (`supervision.1`).
pub const RULE_SUPERVISION_PREFIX: &str = "supervision.";
/// Rule id prefix of an unpaid compensation's overdue escalation (`payment.<compensation_id>`,
/// docs/domain.md R-COMP-9).
pub const RULE_PAYMENT_PREFIX: &str = "payment.";
/// Rule id prefix of a missed incident report's escalation (`incident_report.<incident_id>.<n>`,
/// the n-th report deadline of the group, 0 the first; docs/domain.md R-INC-4).
pub const RULE_INCIDENT_REPORT_PREFIX: &str = "incident_report.";

/// Whether a planned escalation was planned by something other than the classification
/// (supervision, payment, incident report), so that a classification keeps it.
pub fn rule_outlives_classification(rule_id: &str) -> bool {
    rule_id.starts_with(RULE_SUPERVISION_PREFIX)
        || rule_id.starts_with(RULE_PAYMENT_PREFIX)
        || rule_id.starts_with(RULE_INCIDENT_REPORT_PREFIX)
}

/// What an unsatisfied revisit does besides reopening the ticket (docs/domain.md R-LOOP-3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnsatisfiedRevisit {
    /// Reopen only.
    Reopen,
    /// Reopen, and from the `escalate_from`-th unsatisfied revisit on, escalate too.
    ReopenAndEscalate,
}

/// The closed loop (002: 受理-处理-反馈-回访-改进 缺一不可; docs/domain.md R-LOOP).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClosedLoopPolicy {
    /// The reasons that may stand in for a revisit when a ticket is closed after its final
    /// response. An empty list: every such ticket needs a revisit.
    pub close_without_revisit: Vec<crate::event::CloseReason>,
    /// `customer_unreachable` needs at least this many failed attempts recorded since the final
    /// response, within the revisit window (the revisit clock's recorded deadline).
    pub unreachable_attempts: u32,
    /// What an unsatisfied (or unsolved) revisit does.
    pub unsatisfied_revisit: UnsatisfiedRevisit,
    /// With `reopen_and_escalate`: the ticket's n-th unsatisfied revisit and later ones escalate.
    pub escalate_from: u32,
    /// With `reopen_and_escalate`: the level escalated to (one above the ticket's level when it
    /// already reached it).
    pub escalate_to: EscalationLevel,
}

/// One severity rule (docs/domain.md R-SEV-1): matches when the category is listed, or a
/// listed flag is raised, or a keyword occurs in the description (negation honoured).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeverityRule {
    /// Stable id, recorded when a classification goes below the suggestion.
    pub id: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub categories: Vec<Category>,
    /// Flag names: `media`, `group`, `regulator`, `repeat`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keywords: Vec<String>,
    /// The tier the rule suggests.
    pub suggest: Severity,
}

/// Severity rules (000/002 分级响应): the policy suggests a tier; classifying below it needs
/// a recorded reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeverityPolicy {
    #[serde(default)]
    pub rules: Vec<SeverityRule>,
}

/// The flag names a severity rule may list.
pub const FLAG_NAMES: [&str; 4] = ["repeat", "media", "group", "regulator"];

fn flag_raised(flags: Flags, name: &str) -> bool {
    match name {
        "repeat" => flags.repeat,
        "media" => flags.media,
        "group" => flags.group,
        "regulator" => flags.regulator,
        _ => false,
    }
}

/// 督办 (docs/domain.md R-SUP).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SupervisionPolicy {
    /// The level the watchdog escalates to when a supervision's deadline passes unmet.
    pub overdue_level: EscalationLevel,
    /// The longest deadline a supervision may set, from its opening.
    pub deadline_max: PolicyDuration,
}

/// The tier the severity rules suggest and the rules that suggest it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeveritySuggestion {
    pub severity: Severity,
    pub rules: Vec<String>,
}

/// Whether `keyword` occurs in `text` other than right after a negation prefix (spaces between
/// allowed). Both are compared lower-cased.
///
/// ```
/// use plaint_domain::policy::keyword_hit;
/// let neg = ["未".to_owned(), "没有".to_owned()];
/// assert!(keyword_hit("这件是保价的", "保价", &neg));
/// assert!(!keyword_hit("未保价的包裹", "保价", &neg));
/// assert!(!keyword_hit("没有 保价", "保价", &neg));
/// assert!(keyword_hit("未保价，但另一件保价了", "保价", &neg));
/// ```
pub fn keyword_hit(text: &str, keyword: &str, negation_prefixes: &[String]) -> bool {
    KeywordText::new(text, &NegationPrefixes::from(negation_prefixes.to_vec())).hit(keyword)
}

/// The routing table's negation prefixes as the policy writes them, and lower-cased and trimmed
/// once, when the policy is read (issue 13, wave 7: before, each [`KeywordText`] lower-cased
/// them again, two per classification). Compared and written as the list it was read from.
///
/// ```
/// use plaint_domain::policy::NegationPrefixes;
/// let neg = NegationPrefixes::from(vec![" NOT ".to_owned(), "未".to_owned()]);
/// assert_eq!(neg.as_written(), [" NOT ", "未"]);
/// ```
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(from = "Vec<String>", into = "Vec<String>")]
pub struct NegationPrefixes {
    written: Vec<String>,
    /// `written`, each lower-cased and trimmed, blank ones left out.
    lowered: Vec<String>,
}

impl NegationPrefixes {
    /// The prefixes as the policy wrote them.
    pub fn as_written(&self) -> &[String] {
        &self.written
    }
}

impl From<Vec<String>> for NegationPrefixes {
    fn from(written: Vec<String>) -> NegationPrefixes {
        let lowered = written
            .iter()
            .map(|p| lower_case(p).trim().to_owned())
            .filter(|p| !p.is_empty())
            .collect();
        NegationPrefixes { written, lowered }
    }
}

impl From<NegationPrefixes> for Vec<String> {
    fn from(prefixes: NegationPrefixes) -> Vec<String> {
        prefixes.written
    }
}

impl PartialEq for NegationPrefixes {
    fn eq(&self, other: &NegationPrefixes) -> bool {
        self.written == other.written // `lowered` follows from it
    }
}

impl Eq for NegationPrefixes {}

/// A text lower-cased once, with its negation prefixes lower-cased and trimmed once, to test
/// many keywords against (a classification's routing and severity rules): the meaning of
/// [`keyword_hit`] without lower-casing the text again per keyword (issue 13).
///
/// ```
/// use plaint_domain::policy::{KeywordText, NegationPrefixes};
/// let neg = NegationPrefixes::from(vec!["未".to_owned()]);
/// let text = KeywordText::new("未保价，包裹 DAMAGED", &neg);
/// assert!(!text.hit("保价"));
/// assert!(text.hit("Damaged"));
/// ```
#[derive(Debug, Clone)]
pub struct KeywordText<'a> {
    /// Lower-cased; borrowed when lower-casing leaves it as it is (issue 13, wave 6).
    text: Cow<'a, str>,
    /// Lower-cased, trimmed, none empty: the policy's, lower-cased when it was read.
    prefixes: &'a [String],
}

impl<'a> KeywordText<'a> {
    /// Lower-cases `text`; the prefixes are lower-cased already.
    pub fn new(text: &'a str, negation_prefixes: &'a NegationPrefixes) -> KeywordText<'a> {
        KeywordText {
            text: lower_case(text),
            prefixes: &negation_prefixes.lowered,
        }
    }

    /// Whether `keyword` occurs in the text other than right after a negation prefix (spaces
    /// between allowed), compared lower-cased.
    pub fn hit(&self, keyword: &str) -> bool {
        let kw = lower_case(keyword);
        if kw.is_empty() {
            return false;
        }
        let text = &*self.text;
        let mut from = 0;
        while let Some(i) = text[from..].find(&*kw) {
            let at = from + i;
            let before = text[..at].trim_end();
            if !self.prefixes.iter().any(|p| before.ends_with(p.as_str())) {
                return true;
            }
            from = at + kw.len();
        }
        false
    }
}

/// `s` lower-cased, borrowed when lower-casing leaves it as it is (a policy's keywords almost
/// always: Chinese, or written in lower case), so testing a keyword allocates nothing (issue
/// 13). `str::to_lowercase` maps every character on its own except a final capital sigma,
/// which changes either way, so a string whose every character lower-cases to itself is its
/// own lower case.
fn lower_case(s: &str) -> Cow<'_, str> {
    if s.chars().all(|c| c.to_lowercase().eq(std::iter::once(c))) {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(s.to_lowercase())
    }
}

/// A routing rule: first match wins, in file order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoutingRule {
    /// Stable id, recorded in the Dispatched event.
    pub id: String,
    /// Matches when any keyword occurs in the description (case-insensitive).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keywords: Vec<String>,
    /// Matches when the ticket's category is one of these.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub categories: Vec<Category>,
    /// Department the ticket goes to when the rule matches.
    pub department: Department,
}

/// Departments and the routing table (docs/domain.md §5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoutingPolicy {
    /// Every department a ticket may be dispatched to.
    pub departments: Vec<Department>,
    /// Department used when no rule matches.
    pub fallback: Department,
    /// Rules tried in order; first match wins.
    #[serde(default)]
    pub rules: Vec<RoutingRule>,
    /// A keyword right after one of these (spaces between allowed) does not match: "未保价"
    /// and "没有保价" are not "保价" (docs/domain.md R-RTE-4). Also used by the severity rules.
    #[serde(default)]
    pub negation_prefixes: NegationPrefixes,
}

/// The legal basis recorded with each compensation rule (docs/domain.md §6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LegalBasis {
    /// Basis of [`CompensationRule::InsuredTotalLoss`](crate::event::CompensationRule).
    pub insured_total_loss: String,
    /// Basis of `InsuredPartialLoss`.
    pub insured_partial_loss: String,
    /// Basis of `UninsuredCapped`.
    pub uninsured_capped: String,
    /// Basis of `RegisteredLetter`.
    pub registered_letter: String,
    /// Basis of `GrossNegligence`.
    pub gross_negligence: String,
    /// Basis of `NonMonetary` remedies.
    pub non_monetary: String,
}

/// Compensation rules (docs/domain.md §6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompensationPolicy {
    /// Uninsured item: actual loss capped at this many times the postage.
    pub uninsured_cap_postage_multiple: u32,
    /// Registered letter: this many times the postage.
    pub registered_letter_postage_multiple: u32,
    /// The remedies whose grants count, summed per ticket, against the item's ceiling
    /// (docs/domain.md §6). Always includes `payment`.
    pub ceiling_counts: Vec<crate::event::Remedy>,
    /// Legal basis strings recorded with each rule.
    pub legal_basis: LegalBasis,
}

/// Repeat complaints (docs/domain.md §8).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RepeatPolicy {
    /// An earlier complaint within this window makes a new one a repeat (calendar units only).
    pub window: PolicyDuration,
}

impl RepeatPolicy {
    /// The window in milliseconds.
    pub fn window_ms(&self) -> i64 {
        self.window
            .fixed_millis()
            .expect("validated: the repeat window has a calendar unit")
    }
}

/// Alert thresholds (docs/domain.md §8).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertPolicy {
    /// A category's daily count above its baseline by more than this share raises an alert.
    pub category_surge_share: f64,
    /// Baseline = mean daily count over this many days before the day in question.
    pub category_surge_baseline_days: u32,
    /// No surge alert for a day with fewer complaints in the category than this.
    pub category_surge_count_min: u32,
    /// A region whose `delay` share exceeds this …
    pub region_delay_share: f64,
    /// … in this many consecutive months raises an alert.
    pub region_delay_months: u32,
}

/// A complete policy. Build it with [`Policy::default`] or [`Policy::from_toml_str`].
///
/// ```
/// use plaint_domain::policy::Policy;
/// let p = Policy::default();
/// let again = Policy::from_toml_str(&p.to_toml_string()).unwrap();
/// assert_eq!(p, again);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Recorded with every deadline computed from this policy.
    pub version: String,
    /// SLA clocks (docs/domain.md §7).
    pub sla: SlaPolicy,
    /// At-risk warnings (docs/domain.md §7).
    pub warnings: WarningPolicy,
    /// Escalation ladder and breach rules (docs/domain.md §7).
    pub escalation: EscalationPolicy,
    /// Departments and routing (docs/domain.md §5).
    pub routing: RoutingPolicy,
    /// Compensation rules (docs/domain.md §6).
    pub compensation: CompensationPolicy,
    /// Repeat window (docs/domain.md §8).
    pub repeat: RepeatPolicy,
    /// Alert thresholds (docs/domain.md §8).
    pub alerts: AlertPolicy,
    /// Calendar coverage (issue 11).
    pub calendar: CalendarPolicy,
    /// Plausible instants (issue 11).
    pub input_bounds: InputBounds,
    /// The closed loop (issue 17).
    pub closed_loop: ClosedLoopPolicy,
    /// Severity suggestion rules (issue 17).
    pub severity: SeverityPolicy,
    /// Supervision (督办, issue 17).
    pub supervision: SupervisionPolicy,
    /// Compensation approval and payment (issue 17, docs/domain.md R-COMP-5 … R-COMP-8). A
    /// policy file without the section reads the default file's.
    #[serde(default = "default_compensation_lifecycle")]
    pub compensation_lifecycle: CompensationLifecyclePolicy,
    /// Major-incident groups (issue 17, R-INC).
    #[serde(default = "default_incident")]
    pub incident: IncidentPolicy,
    /// Performance assessment (考核, issue 17, R-ASM).
    #[serde(default = "default_assessment")]
    pub assessment: AssessmentPolicy,
    /// Monthly complaint analysis (投诉分析报告, issue 17, R-ANA).
    #[serde(default = "default_analysis")]
    pub analysis: AnalysisPolicy,
}

fn default_compensation_lifecycle() -> CompensationLifecyclePolicy {
    Policy::default().compensation_lifecycle
}
fn default_incident() -> IncidentPolicy {
    Policy::default().incident
}
fn default_assessment() -> AssessmentPolicy {
    Policy::default().assessment
}
fn default_analysis() -> AnalysisPolicy {
    Policy::default().analysis
}

/// One amount band of the approval chain (R-COMP-6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApprovalTier {
    /// Amounts up to this many fen (inclusive); absent: any amount (the last tier).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_fen: Option<i64>,
    /// The least role that may approve them.
    pub role: crate::event::ApproverRole,
}

/// The compensation lifecycle (R-COMP-5 … R-COMP-8).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompensationLifecyclePolicy {
    /// Amount bands in increasing order; the first whose `max_fen` holds the amount names the
    /// least approver role. The last has no `max_fen`.
    pub approval: Vec<ApprovalTier>,
    /// An approved compensation is paid within this (the `payment` clock; seeds/001 asks that
    /// the deadline be told to the customer).
    pub payment_within: PolicyDuration,
    /// The level the watchdog escalates to when an approved compensation is still unpaid past
    /// its payment deadline (recorded in `CompensationApproved`). A section without the key
    /// reads the default file's.
    #[serde(default = "default_payment_overdue_level")]
    pub overdue_level: crate::event::EscalationLevel,
}

fn default_payment_overdue_level() -> crate::event::EscalationLevel {
    Policy::default().compensation_lifecycle.overdue_level
}

impl CompensationLifecyclePolicy {
    /// The least role that may approve `amount` fen.
    pub fn required_role(&self, amount: i64) -> crate::event::ApproverRole {
        self.approval
            .iter()
            .find(|t| t.max_fen.is_none_or(|m| amount <= m))
            .or(self.approval.last())
            .map_or(crate::event::ApproverRole::CenterDirector, |t| t.role)
    }
}

/// Major-incident groups (R-INC).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IncidentPolicy {
    /// The group reports progress at this interval (seeds/000: 每日向客户通报进展).
    pub progress_interval: PolicyDuration,
    /// The roles a member may have; `leader_role` must be one of them.
    pub roles: Vec<String>,
    /// Every group has exactly one member in this role (seeds/002: 由企业高管牵头).
    pub leader_role: String,
    /// The level the watchdog escalates to when a daily report is missed (recorded in
    /// `IncidentOpened`). A section without the key reads the default file's.
    #[serde(default = "default_incident_overdue_level")]
    pub overdue_level: crate::event::EscalationLevel,
}

fn default_incident_overdue_level() -> crate::event::EscalationLevel {
    Policy::default().incident.overdue_level
}

/// Performance assessment weights and thresholds (R-ASM).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssessmentPolicy {
    /// Weights of the score (0–100), summing to 1: process (on-time, first-contact resolution,
    /// satisfaction), result (no dispute escalation), prevention (no repeats, improvements).
    pub weight_on_time: f64,
    pub weight_first_contact: f64,
    pub weight_satisfaction: f64,
    pub weight_dispute: f64,
    pub weight_repeat: f64,
    pub weight_improvement: f64,
    /// Improvement actions per 100 tickets that earn the full improvement score.
    pub improvements_per_100_full: f64,
    /// Below this on-time rate a handler or department is flagged.
    pub on_time_min: f64,
    /// Below this satisfaction rate (satisfied revisits / revisits) one is flagged.
    pub satisfaction_min: f64,
    /// This many unsatisfied revisits in a row call for coaching (seeds/000: 连续3次客户差评,
    /// 启动专项辅导).
    pub coaching_after_unsatisfied: u32,
}

/// Monthly complaint analysis thresholds (R-ANA).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnalysisPolicy {
    /// A category above this share of the month's complaints is high-frequency (seeds/002:
    /// 某类投诉占比超过10%).
    pub high_frequency_share: f64,
    /// A category with at least this share of the month's compensation is high-cost.
    pub high_cost_share: f64,
    /// A category with at least this many regulator, media or group complaints in the month
    /// is high-risk.
    pub high_risk_count: u32,
}

impl Default for Policy {
    /// The numbers of docs/domain.md §5–§8, from `data/policy.default.toml`.
    fn default() -> Policy {
        // Parsed once per process; a clone is cheap next to parsing TOML.
        static DEFAULT: std::sync::OnceLock<Policy> = std::sync::OnceLock::new();
        DEFAULT
            .get_or_init(|| {
                Policy::from_toml_str(DEFAULT_POLICY_TOML).expect("embedded default policy is valid (tested)")
            })
            .clone()
    }
}

impl Policy {
    /// Issue 17's sections: approval bands increasing with one open-ended last band, positive
    /// durations, a leader role among the roles, weights summing to 1, shares within 0..=1.
    fn validate_issue17(
        &self,
        positive: &dyn Fn(String, PolicyDuration) -> Result<(), (String, String)>,
    ) -> Result<(), (String, String)> {
        let c = &self.compensation_lifecycle;
        if c.approval.is_empty() {
            return Err((
                "compensation_lifecycle.approval".into(),
                "needs at least one tier".into(),
            ));
        }
        let mut last = -1i64;
        for (i, t) in c.approval.iter().enumerate() {
            let is_last = i + 1 == c.approval.len();
            match (t.max_fen, is_last) {
                (Some(m), false) if m > last && m >= 0 => last = m,
                (None, true) => {}
                (Some(_), true) => {
                    return Err((
                        format!("compensation_lifecycle.approval[{i}].max_fen"),
                        "the last tier has no max_fen (it covers every larger amount)".into(),
                    ))
                }
                (None, false) => {
                    return Err((
                        format!("compensation_lifecycle.approval[{i}].max_fen"),
                        "only the last tier may omit max_fen".into(),
                    ))
                }
                (Some(m), false) => {
                    return Err((
                        format!("compensation_lifecycle.approval[{i}].max_fen"),
                        format!("{m} must be above the previous tier's {last} and not negative"),
                    ))
                }
            }
        }
        positive("compensation_lifecycle.payment_within".into(), c.payment_within)?;
        let inc = &self.incident;
        positive("incident.progress_interval".into(), inc.progress_interval)?;
        if inc.roles.iter().any(|r| r.trim().is_empty()) || inc.roles.is_empty() {
            return Err(("incident.roles".into(), "needs at least one role, none blank".into()));
        }
        if !inc.roles.contains(&inc.leader_role) {
            return Err((
                "incident.leader_role".into(),
                format!("{:?} is not one of incident.roles", inc.leader_role),
            ));
        }
        let a = &self.assessment;
        let weights = [
            ("weight_on_time", a.weight_on_time),
            ("weight_first_contact", a.weight_first_contact),
            ("weight_satisfaction", a.weight_satisfaction),
            ("weight_dispute", a.weight_dispute),
            ("weight_repeat", a.weight_repeat),
            ("weight_improvement", a.weight_improvement),
        ];
        for (k, w) in weights {
            if !(0.0..=1.0).contains(&w) {
                return Err((format!("assessment.{k}"), format!("{w} is outside 0..=1")));
            }
        }
        let sum: f64 = weights.iter().map(|(_, w)| w).sum();
        if (sum - 1.0).abs() > 1e-6 {
            return Err((
                "assessment.weight_on_time".into(),
                format!("the weights sum to {sum}, not 1"),
            ));
        }
        for (k, v) in [
            ("assessment.on_time_min", a.on_time_min),
            ("assessment.satisfaction_min", a.satisfaction_min),
            ("analysis.high_frequency_share", self.analysis.high_frequency_share),
            ("analysis.high_cost_share", self.analysis.high_cost_share),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return Err((k.into(), format!("{v} is outside 0..=1")));
            }
        }
        if a.improvements_per_100_full.is_nan() || a.improvements_per_100_full <= 0.0 {
            return Err(("assessment.improvements_per_100_full".into(), "must be positive".into()));
        }
        Ok(())
    }

    /// Parses and validates a policy file. Errors name the key and its line.
    pub fn from_toml_str(s: &str) -> Result<Policy, PolicyError> {
        let policy: Policy = toml::from_str(s).map_err(|e| serde_error(s, &e))?;
        policy.validate().map_err(|(key, message)| PolicyError::Invalid {
            line: locate(s, &key),
            key,
            message,
        })?;
        Ok(policy)
    }

    /// The policy as TOML; [`Policy::from_toml_str`] reads it back equal.
    ///
    /// Durations are written inline (`first_response = { hours = 24 }`), as in the default file.
    pub fn to_toml_string(&self) -> String {
        inline_durations(&toml::to_string(self).expect("a policy always serialises to TOML"))
    }

    /// Checks what serde cannot: positive durations, known names, cross references.
    /// Returns the dotted key and the message.
    fn validate(&self) -> Result<(), (String, String)> {
        let err = |k: String, m: String| Err((k, m));
        if self.version.trim().is_empty() || self.version.len() > POLICY_VERSION_LEN_MAX {
            return err(
                "version".into(),
                format!("must be 1..={POLICY_VERSION_LEN_MAX} bytes, not blank"),
            );
        }
        let positive = |k: String, d: PolicyDuration| -> Result<(), (String, String)> {
            if d.amount() == 0 {
                return Err((k, format!("duration {d} must be positive")));
            }
            Ok(())
        };
        self.validate_issue17(&positive)?;
        for sev in Severity::ALL {
            let t = self.sla.tier(sev);
            let base = format!("sla.{}", sev.as_str());
            positive(format!("{base}.registration"), t.registration)?;
            positive(format!("{base}.first_response"), t.first_response)?;
            let optional = [
                ("resolution", t.resolution),
                ("preliminary_plan", t.preliminary_plan),
                ("progress_update_every", t.progress_update_every),
                ("investigation", t.investigation),
                ("preliminary_solution", t.preliminary_solution),
                ("green_channel", t.green_channel),
                ("revisit", t.revisit),
            ];
            for (name, d) in optional {
                if let Some(d) = d {
                    positive(format!("{base}.{name}"), d)?;
                }
            }
            if t.progress_update_every.is_some() && t.preliminary_plan.is_none() {
                return err(
                    format!("{base}.progress_update_every"),
                    "needs `preliminary_plan` in the same tier (updates follow the plan)".into(),
                );
            }
        }
        for (name, d) in &self.sla.registration_by_channel {
            let key = format!("sla.registration_by_channel.{name}");
            if !Channel::ALL.iter().any(|c| c.as_str() == name) {
                let known: Vec<&str> = Channel::ALL.iter().map(|c| c.as_str()).collect();
                return err(key, format!("unknown channel {name:?}; known: {}", known.join(", ")));
            }
            positive(key, *d)?;
        }
        for (name, d) in &self.sla.first_response_by_channel {
            let key = format!("sla.first_response_by_channel.{name}");
            if !Channel::ALL.iter().any(|c| c.as_str() == name) {
                let known: Vec<&str> = Channel::ALL.iter().map(|c| c.as_str()).collect();
                return err(key, format!("unknown channel {name:?}; known: {}", known.join(", ")));
            }
            positive(key, *d)?;
        }
        let r = &self.sla.regulatory;
        positive("sla.regulatory.result_within".into(), r.result_within)?;
        positive("sla.regulatory.regulator_reply_within".into(), r.regulator_reply_within)?;
        positive(
            "sla.regulatory.appeal_if_no_answer_within".into(),
            r.appeal_if_no_answer_within,
        )?;
        positive("sla.regulatory.appeal_window".into(), r.appeal_window)?;
        if r.appeal_if_no_answer_within.fixed_millis().is_none() || r.appeal_window.fixed_millis().is_none() {
            return err(
                "sla.regulatory.appeal_window".into(),
                "appeal durations must use calendar units (minutes, hours, days)".into(),
            );
        }
        if self.sla.pause.pausable.contains(&Clock::FirstResponse) {
            return err(
                "sla.pause.pausable".into(),
                "`first_response` never pauses (docs/domain.md §7)".into(),
            );
        }
        let share = self.warnings.at_risk_share;
        if !(share > 0.0 && share < 1.0) {
            return err(
                "warnings.at_risk_share".into(),
                format!("{share} is not between 0 and 1 (exclusive)"),
            );
        }
        let mut rung_ids = BTreeSet::new();
        for (i, rung) in self.escalation.ladder.iter().enumerate() {
            positive(format!("escalation.ladder[{i}].after"), rung.after)?;
            if rung.severities.is_empty() {
                return err(format!("escalation.ladder[{i}].severities"), "is empty".into());
            }
            for s in &rung.severities {
                if !rung_ids.insert((*s, rung.level)) {
                    return err(
                        format!("escalation.ladder[{i}].level"),
                        format!("a second rung to {} for {} tickets", rung.level.as_str(), s.as_str()),
                    );
                }
            }
        }
        let mut breach_ids = BTreeSet::new();
        for (i, b) in self.escalation.breach.iter().enumerate() {
            if !breach_ids.insert((b.severity, b.clock)) {
                return err(
                    format!("escalation.breach[{i}].clock"),
                    format!(
                        "a second breach rule for {} on {}",
                        b.clock.as_str(),
                        b.severity.as_str()
                    ),
                );
            }
            let t = self.sla.tier(b.severity);
            let runs = match b.clock {
                Clock::Registration | Clock::FirstResponse | Clock::RegulatoryResult | Clock::RegulatorReply => true,
                Clock::Resolution => t.resolution.is_some(),
                Clock::PreliminaryPlan => t.preliminary_plan.is_some(),
                Clock::GreenChannel => t.green_channel.is_some(),
                // These clocks start after classification, so no escalation can be planned then.
                Clock::ProgressUpdate
                | Clock::Investigation
                | Clock::PreliminarySolution
                | Clock::Revisit
                | Clock::Supervision
                | Clock::Payment
                | Clock::IncidentReport => false,
            };
            if !runs {
                return err(
                    format!("escalation.breach[{i}].clock"),
                    format!(
                        "clock {} is not known when {} tickets are classified",
                        b.clock.as_str(),
                        b.severity.as_str()
                    ),
                );
            }
        }
        let depts = &self.routing.departments;
        if depts.is_empty() {
            return err("routing.departments".into(), "is empty".into());
        }
        let mut seen = BTreeSet::new();
        for d in depts {
            if d.0.trim().is_empty() || !seen.insert(d) {
                return err(
                    "routing.departments".into(),
                    format!("blank or repeated department {:?}", d.0),
                );
            }
        }
        if !depts.contains(&self.routing.fallback) {
            return err(
                "routing.fallback".into(),
                format!("{:?} is not one of routing.departments", self.routing.fallback.0),
            );
        }
        let mut rule_ids = BTreeSet::new();
        for (i, rule) in self.routing.rules.iter().enumerate() {
            if rule.id.trim().is_empty() || !rule_ids.insert(rule.id.as_str()) {
                return err(
                    format!("routing.rules[{i}].id"),
                    format!("blank or repeated rule id {:?}", rule.id),
                );
            }
            if rule.keywords.is_empty() && rule.categories.is_empty() {
                return err(
                    format!("routing.rules[{i}].keywords"),
                    format!("rule {:?} has neither keywords nor categories", rule.id),
                );
            }
            if rule.keywords.iter().any(|k| k.trim().is_empty()) {
                return err(format!("routing.rules[{i}].keywords"), "blank keyword".into());
            }
            if !depts.contains(&rule.department) {
                return err(
                    format!("routing.rules[{i}].department"),
                    format!("{:?} is not one of routing.departments", rule.department.0),
                );
            }
        }
        if self
            .routing
            .negation_prefixes
            .as_written()
            .iter()
            .any(|p| p.trim().is_empty())
        {
            return err("routing.negation_prefixes".into(), "blank prefix".into());
        }
        let cl = &self.closed_loop;
        for (i, r) in cl.close_without_revisit.iter().enumerate() {
            if cl.close_without_revisit[..i].contains(r) {
                return err(
                    format!("closed_loop.close_without_revisit[{i}]"),
                    format!("{:?} is listed twice", r.as_str()),
                );
            }
        }
        if cl
            .close_without_revisit
            .contains(&crate::event::CloseReason::CustomerUnreachable)
            && cl.unreachable_attempts == 0
        {
            return err(
                "closed_loop.unreachable_attempts".into(),
                "must be at least 1 when customer_unreachable may stand in for a revisit".into(),
            );
        }
        if cl.escalate_from == 0 {
            return err("closed_loop.escalate_from".into(), "must be at least 1".into());
        }
        let mut sev_ids = BTreeSet::new();
        for (i, rule) in self.severity.rules.iter().enumerate() {
            if rule.id.trim().is_empty() || !sev_ids.insert(rule.id.as_str()) {
                return err(
                    format!("severity.rules[{i}].id"),
                    format!("blank or repeated rule id {:?}", rule.id),
                );
            }
            if rule.categories.is_empty() && rule.flags.is_empty() && rule.keywords.is_empty() {
                return err(
                    format!("severity.rules[{i}].categories"),
                    format!("rule {:?} has no categories, flags or keywords", rule.id),
                );
            }
            if let Some(f) = rule.flags.iter().find(|f| !FLAG_NAMES.contains(&f.as_str())) {
                return err(
                    format!("severity.rules[{i}].flags"),
                    format!("unknown flag {f:?}; known: {}", FLAG_NAMES.join(", ")),
                );
            }
            if rule.keywords.iter().any(|k| k.trim().is_empty()) {
                return err(format!("severity.rules[{i}].keywords"), "blank keyword".into());
            }
        }
        positive("supervision.deadline_max".into(), self.supervision.deadline_max)?;
        if self.compensation.uninsured_cap_postage_multiple == 0 {
            return err(
                "compensation.uninsured_cap_postage_multiple".into(),
                "must be at least 1".into(),
            );
        }
        if self.compensation.registered_letter_postage_multiple == 0 {
            return err(
                "compensation.registered_letter_postage_multiple".into(),
                "must be at least 1".into(),
            );
        }
        if !self
            .compensation
            .ceiling_counts
            .contains(&crate::event::Remedy::Payment)
        {
            return err(
                "compensation.ceiling_counts".into(),
                "must list \"payment\": payments always count against the ceiling (docs/domain.md §6)".into(),
            );
        }
        for (i, r) in self.compensation.ceiling_counts.iter().enumerate() {
            if self.compensation.ceiling_counts[..i].contains(r) {
                return err(
                    format!("compensation.ceiling_counts[{i}]"),
                    format!("{r:?} is listed twice"),
                );
            }
        }
        positive("repeat.window".into(), self.repeat.window)?;
        if self.repeat.window.fixed_millis().is_none() {
            return err(
                "repeat.window".into(),
                "must use a calendar unit (minutes, hours, days), not working time".into(),
            );
        }
        let a = &self.alerts;
        if !(a.category_surge_share > 0.0 && a.category_surge_share.is_finite()) {
            return err(
                "alerts.category_surge_share".into(),
                format!("{} must be positive", a.category_surge_share),
            );
        }
        if a.category_surge_baseline_days == 0 {
            return err(
                "alerts.category_surge_baseline_days".into(),
                "must be at least 1".into(),
            );
        }
        if !(a.region_delay_share > 0.0 && a.region_delay_share < 1.0) {
            return err(
                "alerts.region_delay_share".into(),
                format!("{} is not between 0 and 1 (exclusive)", a.region_delay_share),
            );
        }
        if a.region_delay_months == 0 {
            return err("alerts.region_delay_months".into(), "must be at least 1".into());
        }
        if self.calendar.expiry_warning.fixed_millis().is_none() {
            return err(
                "calendar.expiry_warning".into(),
                "must use a calendar unit (minutes, hours, days), not working time".into(),
            );
        }
        positive("calendar.expiry_warning".into(), self.calendar.expiry_warning)?;
        if self.input_bounds.latest <= self.input_bounds.earliest {
            return err(
                "input_bounds.latest".into(),
                format!(
                    "{} is not after input_bounds.earliest {}",
                    self.input_bounds.latest, self.input_bounds.earliest
                ),
            );
        }
        Ok(())
    }

    fn pausable(&self, clock: Clock) -> bool {
        self.sla.pause.pausable.contains(&clock)
    }

    fn deadline(&self, clock: Clock, due_at: Timestamp) -> ClockDeadline {
        ClockDeadline {
            clock,
            due_at,
            pausable: self.pausable(clock),
        }
    }

    /// The deadlines of every clock that runs from receipt, and the planned watchdog
    /// escalations, for a ticket being classified (docs/domain.md §7). Recorded in `Classified`.
    ///
    /// Registration runs from `contact_at` (with the channel's override, e.g. counter 1 h); the
    /// other clocks from `received_at`. The progress-update clock records its first due time,
    /// one interval after the preliminary plan is due (see `sla` for the recurrence). The green
    /// channel runs when `flags` open it; the regulator-reply clock when the ticket came through
    /// `regulator_referral` or carries the `regulator` flag.
    pub fn classify_deadlines(
        &self,
        cal: &Calendar,
        severity: Severity,
        flags: Flags,
        channel: Channel,
        contact_at: Timestamp,
        received_at: Timestamp,
    ) -> (Vec<ClockDeadline>, Vec<EscalationDue>) {
        let mut needs = CalendarNeeds::default();
        self.classify_deadlines_noting(cal, &mut needs, severity, flags, channel, contact_at, received_at)
    }

    /// [`Policy::classify_deadlines`], noting in `needs` a year without calendar data that the
    /// working-time arithmetic walked through (issue 11: `decide` refuses or flags it).
    #[allow(clippy::too_many_arguments)]
    pub fn classify_deadlines_noting(
        &self,
        cal: &Calendar,
        needs: &mut CalendarNeeds,
        severity: Severity,
        flags: Flags,
        channel: Channel,
        contact_at: Timestamp,
        received_at: Timestamp,
    ) -> (Vec<ClockDeadline>, Vec<EscalationDue>) {
        let t = self.sla.tier(severity);
        let mut out = Vec::new();
        let registration = self
            .sla
            .registration_by_channel
            .get(channel.as_str())
            .copied()
            .unwrap_or(t.registration);
        out.push(self.deadline(Clock::Registration, registration.after_noting(cal, needs, contact_at)));
        // R-SLA-8: a channel's own first-response allowance, when stricter than the tier's.
        let mut first_response_due = t.first_response.after_noting(cal, needs, received_at);
        if let Some(d) = self.sla.first_response_by_channel.get(channel.as_str()) {
            first_response_due = first_response_due.min(d.after_noting(cal, needs, received_at));
        }
        out.push(self.deadline(Clock::FirstResponse, first_response_due));
        if let Some(d) = t.resolution {
            out.push(self.deadline(Clock::Resolution, d.after_noting(cal, needs, received_at)));
        }
        if let Some(plan) = t.preliminary_plan {
            let plan_due = plan.after_noting(cal, needs, received_at);
            out.push(self.deadline(Clock::PreliminaryPlan, plan_due));
            if let Some(every) = t.progress_update_every {
                out.push(self.deadline(Clock::ProgressUpdate, every.after_noting(cal, needs, plan_due)));
            }
        }
        if flags.green_channel() {
            if let Some(d) = t.green_channel {
                out.push(self.deadline(Clock::GreenChannel, d.after_noting(cal, needs, received_at)));
            }
        }
        out.push(self.deadline(
            Clock::RegulatoryResult,
            self.sla.regulatory.result_within.after_noting(cal, needs, received_at),
        ));
        if channel == Channel::RegulatorReferral || flags.regulator {
            out.push(
                self.deadline(
                    Clock::RegulatorReply,
                    self.sla
                        .regulatory
                        .regulator_reply_within
                        .after_noting(cal, needs, received_at),
                ),
            );
        }

        let due_of = |clock: Clock| out.iter().find(|d| d.clock == clock).map(|d| d.due_at);
        let mut esc = Vec::new();
        for rung in self
            .escalation
            .ladder
            .iter()
            .filter(|r| r.severities.contains(&severity))
        {
            let from = match self.escalation.ladder_measure {
                LadderMeasure::SinceReceipt => Some(received_at),
                LadderMeasure::PastDue => due_of(Clock::Resolution),
            };
            if let Some(from) = from {
                esc.push(EscalationDue {
                    rule_id: format!("{RULE_LADDER_PREFIX}{}", rung.level.as_str()),
                    level: rung.level,
                    due_at: rung.after.after_noting(cal, needs, from),
                });
            }
        }
        for b in self.escalation.breach.iter().filter(|b| b.severity == severity) {
            if let Some(due_at) = due_of(b.clock) {
                esc.push(EscalationDue {
                    rule_id: format!("{RULE_BREACH_PREFIX}{}", b.clock.as_str()),
                    level: b.level,
                    due_at,
                });
            }
        }
        if let Some(due_at) = due_of(Clock::GreenChannel) {
            esc.push(EscalationDue {
                rule_id: RULE_GREEN_CHANNEL.to_owned(),
                level: self.escalation.green_channel_level,
                due_at,
            });
        }
        (out, esc)
    }

    /// Clocks that run from dispatch (investigation, preliminary solution). Recorded in
    /// `Dispatched`.
    pub fn dispatch_deadlines(
        &self,
        cal: &Calendar,
        severity: Severity,
        dispatched_at: Timestamp,
    ) -> Vec<ClockDeadline> {
        self.dispatch_deadlines_noting(cal, &mut CalendarNeeds::default(), severity, dispatched_at)
    }

    /// [`Policy::dispatch_deadlines`], noting a year without calendar data in `needs`.
    pub fn dispatch_deadlines_noting(
        &self,
        cal: &Calendar,
        needs: &mut CalendarNeeds,
        severity: Severity,
        dispatched_at: Timestamp,
    ) -> Vec<ClockDeadline> {
        let t = self.sla.tier(severity);
        let mut out = Vec::new();
        if let Some(d) = t.investigation {
            out.push(self.deadline(Clock::Investigation, d.after_noting(cal, needs, dispatched_at)));
        }
        if let Some(d) = t.preliminary_solution {
            out.push(self.deadline(Clock::PreliminarySolution, d.after_noting(cal, needs, dispatched_at)));
        }
        out
    }

    /// Clocks that run from the final response (the revisit). Recorded in the final `Responded`.
    pub fn final_response_deadlines(
        &self,
        cal: &Calendar,
        severity: Severity,
        responded_at: Timestamp,
    ) -> Vec<ClockDeadline> {
        self.final_response_deadlines_noting(cal, &mut CalendarNeeds::default(), severity, responded_at)
    }

    /// [`Policy::final_response_deadlines`], noting a year without calendar data in `needs`.
    pub fn final_response_deadlines_noting(
        &self,
        cal: &Calendar,
        needs: &mut CalendarNeeds,
        severity: Severity,
        responded_at: Timestamp,
    ) -> Vec<ClockDeadline> {
        let t = self.sla.tier(severity);
        t.revisit
            .map(|d| vec![self.deadline(Clock::Revisit, d.after_noting(cal, needs, responded_at))])
            .unwrap_or_default()
    }

    /// The department for a ticket by the routing table (docs/domain.md §5): the first rule whose
    /// keyword occurs in `description` (case-insensitive) or whose categories include
    /// `category`; else the fallback department.
    ///
    /// ```
    /// use plaint_domain::policy::Policy;
    /// use plaint_domain::{Category, Department, RoutingDecision};
    /// let (dept, why) = Policy::default().route(Category::Other, "包裹严重延误，一周未到");
    /// assert_eq!(dept, Department("sorting".into()));
    /// assert_eq!(why, RoutingDecision::Rule { rule_id: "kw.delay".into(), matched: "延误".into() });
    /// ```
    pub fn route(&self, category: Category, description: &str) -> (Department, RoutingDecision) {
        let text = KeywordText::new(description, &self.routing.negation_prefixes);
        for rule in &self.routing.rules {
            if let Some(kw) = rule.keywords.iter().find(|k| text.hit(k)) {
                return (
                    rule.department.clone(),
                    RoutingDecision::Rule {
                        rule_id: rule.id.clone(),
                        matched: kw.clone(),
                    },
                );
            }
            if rule.categories.contains(&category) {
                return (
                    rule.department.clone(),
                    RoutingDecision::Rule {
                        rule_id: rule.id.clone(),
                        matched: format!("category:{}", category.as_str()),
                    },
                );
            }
        }
        (self.routing.fallback.clone(), RoutingDecision::Fallback)
    }

    /// The tier the severity rules suggest for a ticket (docs/domain.md R-SEV-1): the highest
    /// `suggest` of the rules that match its category, flags or description (keywords with the
    /// routing table's negation prefixes), with the ids of the rules suggesting it; `None` when
    /// no rule matches.
    pub fn suggest_severity(&self, category: Category, flags: Flags, description: &str) -> Option<SeveritySuggestion> {
        let text = KeywordText::new(description, &self.routing.negation_prefixes);
        let matching = self.severity.rules.iter().filter(|r| {
            r.categories.contains(&category)
                || r.flags.iter().any(|f| flag_raised(flags, f))
                || r.keywords.iter().any(|k| text.hit(k))
        });
        let mut best: Option<SeveritySuggestion> = None;
        for r in matching {
            match &mut best {
                Some(b) if b.severity > r.suggest => {}
                Some(b) if b.severity == r.suggest => b.rules.push(r.id.clone()),
                _ => {
                    best = Some(SeveritySuggestion {
                        severity: r.suggest,
                        rules: vec![r.id.clone()],
                    })
                }
            }
        }
        best
    }

    /// Whether `d` is one of the policy's departments.
    pub fn is_department(&self, d: &Department) -> bool {
        self.routing.departments.contains(d)
    }
}

// ---------------------------------------------------------------------------------------------
// Writing: durations inline
// ---------------------------------------------------------------------------------------------

/// The unit keys of [`PolicyDuration`] in TOML.
const DURATION_UNITS: [&str; 5] = ["minutes", "hours", "days", "working_hours", "working_days"];

/// One `[header]` (or `[[header]]`) section of serialised TOML and its lines.
struct Section {
    path: String,
    array: bool,
    lines: Vec<String>,
}

/// Rewrites the `toml` crate's output, which gives every duration its own table
/// (`[sla.ordinary.first_response]` / `hours = 24`), into the inline form of the default file
/// (`first_response = { hours = 24 }` under `[sla.ordinary]`). Both are the same TOML value;
/// the round-trip test holds either way.
fn inline_durations(serialised: &str) -> String {
    let mut sections = vec![Section {
        path: String::new(),
        array: false,
        lines: Vec::new(),
    }];
    for line in serialised.lines() {
        let t = line.trim();
        if let Some(h) = t.strip_prefix("[[").and_then(|r| r.strip_suffix("]]")) {
            sections.push(Section {
                path: h.trim().to_owned(),
                array: true,
                lines: Vec::new(),
            });
        } else if let Some(h) = t.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
            sections.push(Section {
                path: h.trim().to_owned(),
                array: false,
                lines: Vec::new(),
            });
        } else if !t.is_empty() {
            sections.last_mut().expect("root section").lines.push(line.to_owned());
        }
    }
    let mut out: Vec<Section> = Vec::new();
    for sec in sections {
        let duration = match sec.lines.as_slice() {
            [only] if !sec.array => only
                .split_once('=')
                .filter(|(k, v)| DURATION_UNITS.contains(&k.trim()) && v.trim().parse::<u32>().is_ok())
                .map(|(k, v)| format!("{{ {} = {} }}", k.trim(), v.trim())),
            _ => None,
        };
        let split = sec.path.rsplit_once('.').filter(|(_, last)| !last.contains('"'));
        match (duration, split) {
            (Some(inline), Some((parent, last))) => {
                let line = format!("{last} = {inline}");
                if out.last().is_some_and(|s| s.path == parent) {
                    out.last_mut().expect("non-empty").lines.push(line);
                } else if out.iter().any(|s| s.path == parent) {
                    // The parent's header is behind other sections already; a second header
                    // would be invalid TOML, so keep the table form.
                    out.push(sec);
                } else {
                    out.push(Section {
                        path: parent.to_owned(),
                        array: false,
                        lines: vec![line],
                    });
                }
            }
            _ => out.push(sec),
        }
    }
    let mut text = String::with_capacity(serialised.len());
    for sec in &out {
        if !sec.path.is_empty() {
            if !text.is_empty() {
                text.push('\n');
            }
            if sec.array {
                text.push_str(&format!("[[{}]]\n", sec.path));
            } else {
                text.push_str(&format!("[{}]\n", sec.path));
            }
        }
        for l in &sec.lines {
            text.push_str(l);
            text.push('\n');
        }
    }
    // The rewrite is cosmetic: keep it only when it reads back as the very same TOML value (a
    // multi-line string or an unusual key could fool the line-based rewrite).
    let same = matches!(
        (toml::from_str::<toml::Table>(&text), toml::from_str::<toml::Table>(serialised)),
        (Ok(a), Ok(b)) if a == b
    );
    if same {
        text
    } else {
        serialised.to_owned()
    }
}

// ---------------------------------------------------------------------------------------------
// Error location: dotted key ↔ line
// ---------------------------------------------------------------------------------------------

/// One line of a TOML file seen by the locator: the table it is in and the key it sets.
struct LineInfo {
    table: String,
    key: Option<String>,
    header: bool,
}

/// Walks the file line by line, tracking `[table]` and `[[array]]` headers (with their index),
/// so a dotted key like `routing.rules[3].department` can be mapped to a line and back. Simple
/// by design: it understands what policy files contain (one key per line, inline tables).
fn scan(src: &str) -> Vec<LineInfo> {
    let mut out = Vec::new();
    let mut table = String::new();
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for raw in src.lines() {
        let line = raw.trim();
        if let Some(rest) = line.strip_prefix("[[") {
            let name = rest.split("]]").next().unwrap_or("").trim().to_owned();
            let n = counts.entry(name.clone()).or_insert(0);
            table = format!("{name}[{n}]");
            *n += 1;
            out.push(LineInfo {
                table: table.clone(),
                key: None,
                header: true,
            });
        } else if let Some(rest) = line.strip_prefix('[') {
            table = rest.split(']').next().unwrap_or("").trim().to_owned();
            out.push(LineInfo {
                table: table.clone(),
                key: None,
                header: true,
            });
        } else if !line.starts_with('#') && line.contains('=') {
            let key = line.split('=').next().unwrap_or("").trim().trim_matches('"').to_owned();
            out.push(LineInfo {
                table: table.clone(),
                key: Some(key),
                header: false,
            });
        } else {
            out.push(LineInfo {
                table: table.clone(),
                key: None,
                header: false,
            });
        }
    }
    out
}

fn join(table: &str, key: &str) -> String {
    if table.is_empty() {
        key.to_owned()
    } else {
        format!("{table}.{key}")
    }
}

/// The 1-based line of a dotted key; for a key that is not written (missing), the line of the
/// closest enclosing table header; 1 when nothing matches.
fn locate(src: &str, key: &str) -> usize {
    let lines = scan(src);
    let mut probe = key.to_owned();
    loop {
        for (i, l) in lines.iter().enumerate() {
            let full = match &l.key {
                Some(k) => join(&l.table, k),
                None if l.header => l.table.clone(),
                None => continue,
            };
            if full == probe {
                return i + 1;
            }
        }
        // Strip the last segment (`a.b[2].c` → `a.b[2]` → `a.b`) and try again.
        match probe.rfind(['.', '[']) {
            Some(cut) => probe.truncate(cut),
            None => return 1,
        }
    }
}

fn quoted_name(message: &str, after: &str) -> Option<String> {
    let rest = &message[message.find(after)? + after.len()..];
    let start = rest.find('`')? + 1;
    let end = start + rest[start..].find('`')?;
    Some(rest[start..end].to_owned())
}

/// Turns a TOML/serde error into a [`PolicyError`] naming the key and the line.
fn serde_error(src: &str, e: &toml::de::Error) -> PolicyError {
    let message = e.message().trim().to_owned();
    let offset = e.span().map(|r| r.start).unwrap_or(0);
    let line = src[..offset.min(src.len())].matches('\n').count() + 1;
    let lines = scan(src);
    let info = lines.get(line - 1);
    let table = info.map(|l| l.table.clone()).unwrap_or_default();
    let key = if let Some(field) = quoted_name(&message, "missing field") {
        // The span covers the table that lacks the field.
        join(&table, &field)
    } else if let Some(field) = quoted_name(&message, "unknown field") {
        match info.and_then(|l| l.key.clone()) {
            Some(k) if k != field => join(&join(&table, &k), &field),
            _ => join(&table, &field),
        }
    } else {
        match info.and_then(|l| l.key.clone()) {
            Some(k) => join(&table, &k),
            None => table,
        }
    };
    PolicyError::Invalid {
        key: if key.is_empty() { "(document)".into() } else { key },
        line,
        message,
    }
}

impl Policy {
    /// Which setting of this policy gives `clock` its allowance for a ticket of `severity` that
    /// came through `channel`, as `(key, allowance)`: `("sla.urgent.resolution", 24 h)`. The
    /// same choice [`Policy::classify_deadlines`], [`Policy::dispatch_deadlines`] and
    /// [`Policy::final_response_deadlines`] make; `None` for a clock the tier does not run.
    /// `plaint sla --ticket` names it next to each deadline.
    pub fn clock_rule(&self, severity: Severity, channel: Channel, clock: Clock) -> Option<(String, PolicyDuration)> {
        let tier = self.sla.tier(severity);
        let key = |name: &str| format!("sla.{}.{name}", severity.as_str());
        match clock {
            Clock::Registration => match self.sla.registration_by_channel.get(channel.as_str()) {
                Some(d) => Some((format!("sla.registration_by_channel.{}", channel.as_str()), *d)),
                None => Some((key("registration"), tier.registration)),
            },
            Clock::FirstResponse => Some((key("first_response"), tier.first_response)),
            Clock::Resolution => tier.resolution.map(|d| (key("resolution"), d)),
            Clock::PreliminaryPlan => tier.preliminary_plan.map(|d| (key("preliminary_plan"), d)),
            Clock::ProgressUpdate => tier.progress_update_every.map(|d| (key("progress_update_every"), d)),
            Clock::Investigation => tier.investigation.map(|d| (key("investigation"), d)),
            Clock::PreliminarySolution => tier.preliminary_solution.map(|d| (key("preliminary_solution"), d)),
            Clock::GreenChannel => tier.green_channel.map(|d| (key("green_channel"), d)),
            Clock::Revisit => tier.revisit.map(|d| (key("revisit"), d)),
            Clock::RegulatoryResult => Some((
                "sla.regulatory.result_within".to_owned(),
                self.sla.regulatory.result_within,
            )),
            Clock::RegulatorReply => Some((
                "sla.regulatory.regulator_reply_within".to_owned(),
                self.sla.regulatory.regulator_reply_within,
            )),
            // 督办: the supervisor names the deadline in the command (bounded by
            // `supervision.deadline_max`); no tier allowance gives it.
            Clock::Supervision => None,
            Clock::Payment => Some((
                "compensation_lifecycle.payment_within".to_owned(),
                self.compensation_lifecycle.payment_within,
            )),
            Clock::IncidentReport => Some(("incident.progress_interval".to_owned(), self.incident.progress_interval)),
        }
    }
}

#[cfg(test)]
mod lower_case_tests {
    use super::lower_case;

    /// The borrowed shortcut gives exactly `str::to_lowercase`, and borrows only what it may.
    #[test]
    fn lower_case_is_to_lowercase() {
        let cases = [
            "",
            "延误",
            "damaged",
            "DAMAGED",
            "Damaged 破损",
            "ΣΟΦΟΣ",
            "ὈΔΥΣΣΕΎΣ",
            "ǅ",
            "İstanbul",
            "ß",
            "ẞ",
            "Ⅻ",
            "ǈ 丢件",
        ];
        for s in cases {
            let got = lower_case(s);
            assert_eq!(got, s.to_lowercase(), "{s:?}");
            let borrowed = matches!(got, std::borrow::Cow::Borrowed(_));
            assert_eq!(borrowed, s.to_lowercase() == s, "{s:?} borrowed only when unchanged");
        }
    }
}

#[cfg(test)]
mod negation_prefix_tests {
    use super::{KeywordText, NegationPrefixes, Policy};

    /// The prefixes are lower-cased and trimmed once, when read: a prefix written in capitals
    /// or with spaces still negates, and the policy is written back as it was read.
    #[test]
    fn prefixes_are_lowered_once_and_written_as_read() {
        let neg = NegationPrefixes::from(vec![" NOT ".to_owned(), "  ".to_owned(), "ΣΟ".to_owned()]);
        let text = KeywordText::new("Not damaged; σοinsured", &neg);
        assert!(!text.hit("DAMAGED"), "after a prefix written in capitals");
        assert!(!text.hit("insured"), "after a Greek prefix in capitals");
        assert!(KeywordText::new("damaged", &neg).hit("damaged"));
        assert_eq!(neg.as_written(), [" NOT ", "  ", "ΣΟ"]);

        let mut policy = Policy::default();
        policy.routing.negation_prefixes = NegationPrefixes::from(vec!["NOT".to_owned()]);
        let written = toml::to_string(&policy).expect("policy to TOML");
        assert!(written.contains("negation_prefixes = [\"NOT\"]"), "{written}");
        let read = Policy::from_toml_str(&written).expect("policy from TOML");
        assert_eq!(read, policy);
        let (_, why) = read.route(crate::Category::Other, "NOT delayed at all");
        let (_, plain) = read.route(crate::Category::Other, "delayed");
        assert_ne!(why, plain, "the negated keyword does not route");
    }
}

//! A deterministic, realistic postal complaint workload: the commands a busy back office would
//! send over a few weeks.
//!
//! The CLI's `demo`, the benchmarks and the crash tests all draw from here, so one seed always
//! yields the very same commands (ids, texts, business times), whatever the machine.
//!
//! What is in it, in plausible proportions: every intake channel (hotline most, media leads
//! least), every category and severity and customer tier, Chinese descriptions built from
//! templates with waybill numbers, regions and outlets; repeat customers (the same phone, written
//! differently on another channel), duplicates (the same waybill again through another channel
//! while the first ticket is open, merged), invalid complaints (rejected at verification), holds
//! and resumes, redispatches, acknowledgements, progress updates and preliminary plans, final
//! responses with compensation within the legal ceiling, late responses (SLA breaches), manual
//! escalations, revisits of which some are unsatisfied (the domain reopens the ticket in the same
//! decision, and a new final response follows), disputed final responses reopened by hand, and
//! closes (rejected and merged tickets too). Issue 17: supervision, ownership transfers,
//! compensation proposed, approved, paid (late now and then, so the watchdog escalates the
//! overdue payment) or refused, severity overrides, incident groups with a missed daily report,
//! improvement actions, closes without a revisit for a policy reason, and dispute escalations
//! (litigation, media, regulator).
//! Complaints received near the end of the period are left open (their later commands fall after
//! the horizon), so SLA reports see pending tickets too.
//!
//! Every command carries its business time (`occurred_at`); the list is sorted by it, and each
//! complaint's own commands follow its lifecycle, so executing them in order is accepted by the
//! domain's `decide`.
//!
//! ```
//! use plaint::workload::{generate, WorkloadConfig};
//! let cfg = WorkloadConfig { complaints: 50, seed: 7, ..WorkloadConfig::default() };
//! let a = generate(&cfg);
//! assert_eq!(a, generate(&cfg)); // deterministic for a seed
//! assert!(a.len() > 50);
//! ```

use plaint_domain::{
    Actor, Category, Channel, CheckOutcome, Classify, Close, CommandBody, CommandId, CompensationRequest, ComplaintId,
    CustomerInput, CustomerTier, Department, Dispatch, Escalate, EscalationLevel, EvidenceKind, EvidenceRef, Flags,
    HoldReason, MergeAsDuplicate, Money, PutOnHold, Receive, Redispatch, Reject, RejectionReason, Remedy, Reopen,
    Respond, ResponseKind, Resume, Revisit, Severity, Stage, Timestamp, Verify, MS_PER_DAY, MS_PER_HOUR, MS_PER_MINUTE,
};
use plaint_domain::{
    ApproveCompensation, IncidentMember, LinkIncident, OpenIncident, PayCompensation, ProposeCompensation,
    RecordImprovement, RefuseCompensation, ReportIncidentProgress,
};
use plaint_domain::{CloseReason, Command, Compensate, OpenSupervision, RecordRevisitAttempt, TransferOwnership};
use plaint_domain::{DisputeKind, RecordDisputeEscalation};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::cmp::{Ordering, Reverse};
use std::collections::{BTreeMap, BinaryHeap};

/// Most complaints one call may generate (keeps memory bounded: about 10 commands each).
pub const WORKLOAD_COMPLAINTS_MAX: usize = 2_000_000;

/// Shape of a generated workload. Build it with struct update syntax over
/// [`WorkloadConfig::default`].
///
/// ```
/// use plaint::workload::WorkloadConfig;
/// let cfg = WorkloadConfig { complaints: 10_000, seed: 42, ..WorkloadConfig::default() };
/// assert_eq!(cfg.span_days, 28);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct WorkloadConfig {
    /// How many complaints (tickets) to generate, at most [`WORKLOAD_COMPLAINTS_MAX`].
    pub complaints: usize,
    /// Seed of the ChaCha8 generator: the same seed gives the same commands.
    pub seed: u64,
    /// Start of the period: the first complaints arrive from here on.
    pub start: Timestamp,
    /// Length of the intake period in days; complaints arrive spread over it.
    pub span_days: u32,
    /// Days after the intake period during which tickets keep being worked on; commands later
    /// than that are not generated (those tickets stay open).
    pub tail_days: u32,
    /// Prefix of complaint ids: `<prefix>-000001`, ….
    pub id_prefix: String,
    /// Share of complaints from a customer who complained within the last 30 days (repeats).
    pub repeat_share: f64,
    /// Share of complaints that duplicate an open ticket (same waybill, another channel).
    pub duplicate_share: f64,
    /// Share of complaints found invalid at verification.
    pub invalid_share: f64,
    /// Share of responses (acknowledgement, final, revisit) that come late: SLA breaches.
    pub late_share: f64,
    /// Share of revisits where the customer is not satisfied, so the ticket is reopened.
    pub unsatisfied_share: f64,
}

impl Default for WorkloadConfig {
    fn default() -> Self {
        WorkloadConfig {
            complaints: 1_000,
            seed: 1,
            // Monday 2026-09-07 00:00 in Beijing.
            start: Timestamp::from_millis(1_788_710_400_000),
            span_days: 28,
            tail_days: 2,
            id_prefix: "CMP-2026".to_owned(),
            repeat_share: 0.12,
            duplicate_share: 0.04,
            invalid_share: 0.03,
            late_share: 0.08,
            unsatisfied_share: 0.12,
        }
    }
}

/// Counts of what a generated workload contains, for reports and tests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkloadSummary {
    /// Complaints generated.
    pub complaints: usize,
    /// Commands generated (after the horizon cut).
    pub commands: usize,
    /// Commands by name (`receive`, `verify`, …).
    pub by_command: BTreeMap<&'static str, usize>,
    /// Complaints by intake channel.
    pub by_channel: BTreeMap<&'static str, usize>,
    /// Complaints whose verification names an earlier complaint (`repeat_of`).
    pub repeats: usize,
    /// Complaints merged into an open one.
    pub duplicates: usize,
    /// Commands the generator intends the domain to reject. Always 0: every generated command
    /// is meant to be accepted.
    pub intended_rejections: usize,
}

/// Generates the workload: commands sorted by business time, each complaint's commands in
/// lifecycle order. Deterministic for a configuration.
///
/// # Panics
/// When `cfg.complaints` exceeds [`WORKLOAD_COMPLAINTS_MAX`].
pub fn generate(cfg: &WorkloadConfig) -> Vec<Command> {
    generate_with_summary(cfg).0
}

/// [`generate`], plus a [`WorkloadSummary`] of what was generated.
///
/// ```
/// use plaint::workload::{generate_with_summary, WorkloadConfig};
/// let (cmds, summary) = generate_with_summary(&WorkloadConfig { complaints: 200, ..Default::default() });
/// assert_eq!(summary.commands, cmds.len());
/// assert_eq!(summary.by_command["receive"], 200);
/// ```
pub fn generate_with_summary(cfg: &WorkloadConfig) -> (Vec<Command>, WorkloadSummary) {
    let mut stream = WorkloadStream::new(cfg);
    let commands: Vec<Command> = stream.by_ref().collect();
    let summary = stream.summary().expect("collect drains the stream");
    (commands, summary)
}

/// The workload of [`generate`] handed out one command at a time, in the same order, while it is
/// being generated: a consumer can execute the first commands before the last complaints exist,
/// and the whole list is never held (issue 13: the demo generates beside its batches).
///
/// Complaints are generated in arrival order, and no command of a complaint comes before its
/// arrival (its `receive` is at the arrival, each later step at least a second after). So
/// once the complaints arriving before instant `t` are generated, every command earlier than `t`
/// is known: the stream hands out pending commands by (business time, complaint, step), the
/// order the whole list is sorted by, up to the next complaint's arrival.
///
/// ```
/// use plaint::workload::{generate_with_summary, WorkloadConfig, WorkloadStream};
/// let cfg = WorkloadConfig { complaints: 120, seed: 4, ..WorkloadConfig::default() };
/// let mut stream = WorkloadStream::new(&cfg);
/// let first: Vec<_> = stream.by_ref().take(10).collect();
/// assert!(stream.summary().is_none(), "not drained yet");
/// let rest: Vec<_> = stream.by_ref().collect();
/// let (all, summary) = generate_with_summary(&cfg);
/// assert_eq!([first, rest].concat(), all);
/// assert_eq!(stream.summary(), Some(summary));
/// ```
pub struct WorkloadStream<'a> {
    generator: Generator<'a>,
    /// Arrival times of the complaints not generated yet, ascending.
    arrivals: std::iter::Peekable<std::vec::IntoIter<Timestamp>>,
    /// Number (0-based) of the next complaint to generate.
    next_complaint: usize,
    /// Generated commands not handed out yet, the earliest on top: their keys and where they
    /// wait in `parked` (the heap moves 32-byte entries, not whole commands: wave 10).
    pending: BinaryHeap<Reverse<Pending>>,
    /// The pending commands, by slot; `None` once handed out (the slot then in `free`).
    parked: Vec<Option<Command>>,
    /// Slots of `parked` free for the next admitted command.
    free: Vec<usize>,
    /// Counts of the commands handed out so far.
    summary: WorkloadSummary,
    /// Sort key of the last command handed out: keys strictly increase.
    last_key: Option<(Timestamp, usize, usize)>,
}

impl<'a> WorkloadStream<'a> {
    /// A stream over the workload `cfg` describes.
    ///
    /// # Panics
    /// When `cfg.complaints` exceeds [`WORKLOAD_COMPLAINTS_MAX`].
    pub fn new(cfg: &'a WorkloadConfig) -> Self {
        assert!(
            cfg.complaints <= WORKLOAD_COMPLAINTS_MAX,
            "workload of {} complaints is over the limit of {WORKLOAD_COMPLAINTS_MAX}",
            cfg.complaints
        );
        let mut generator = Generator::new(cfg);
        let arrivals = generator.arrivals().into_iter().peekable();
        WorkloadStream {
            generator,
            arrivals,
            next_complaint: 0,
            pending: BinaryHeap::new(),
            parked: Vec::new(),
            free: Vec::new(),
            summary: WorkloadSummary {
                complaints: cfg.complaints,
                ..WorkloadSummary::default()
            },
            last_key: None,
        }
    }

    /// What the workload contained, once the stream is drained; `None` before.
    pub fn summary(&self) -> Option<WorkloadSummary> {
        let drained = self.pending.is_empty() && self.arrivals.len() == 0;
        drained.then(|| WorkloadSummary {
            repeats: self.generator.repeats,
            duplicates: self.generator.duplicates,
            ..self.summary.clone()
        })
    }

    /// Generates the next complaint (arriving at `received_at`) into the pending commands,
    /// without those after the horizon.
    fn admit(&mut self, received_at: Timestamp) {
        let n = self.next_complaint;
        self.next_complaint += 1;
        let horizon = self.generator.horizon;
        for (step, (at, command)) in self.generator.complaint(n, received_at).into_iter().enumerate() {
            assert!(at >= received_at, "a complaint's commands start at its arrival");
            if at <= horizon {
                let slot = self.park(command);
                self.pending.push(Reverse(Pending {
                    key: (at, n, step),
                    slot,
                }));
            }
        }
    }

    /// Keeps `command` in a free slot of `parked` (a new one when none is free); its slot.
    fn park(&mut self, command: Command) -> usize {
        match self.free.pop() {
            Some(slot) => {
                debug_assert!(self.parked[slot].is_none(), "a free slot is empty");
                self.parked[slot] = Some(command);
                slot
            }
            None => {
                self.parked.push(Some(command));
                self.parked.len() - 1
            }
        }
    }

    /// Takes the command out of `slot` and frees the slot.
    fn unpark(&mut self, slot: usize) -> Command {
        let command = self.parked[slot]
            .take()
            .expect("a pending key's slot holds its command");
        self.free.push(slot);
        command
    }

    fn count(&mut self, command: &Command) {
        let s = &mut self.summary;
        s.commands += 1;
        *s.by_command.entry(command.body.name()).or_default() += 1;
        if let CommandBody::Receive(r) = &command.body {
            *s.by_channel.entry(r.channel.as_str()).or_default() += 1;
        }
    }
}

impl Iterator for WorkloadStream<'_> {
    type Item = Command;

    fn next(&mut self) -> Option<Command> {
        loop {
            // Every complaint not generated yet arrives at `bound` or later, so its commands
            // come after every pending one earlier than `bound`.
            let bound = self.arrivals.peek().copied();
            let ready = self
                .pending
                .peek()
                .is_some_and(|Reverse(top)| bound.is_none_or(|b| top.key.0 < b));
            if ready {
                let Reverse(Pending { key, slot }) = self.pending.pop()?;
                let command = self.unpark(slot);
                debug_assert!(
                    self.last_key.is_none_or(|last| last < key),
                    "handed-out keys strictly increase: {:?} then {key:?}",
                    self.last_key
                );
                self.last_key = Some(key);
                self.count(&command);
                return Some(command);
            }
            let received_at = self.arrivals.next()?;
            self.admit(received_at);
        }
    }
}

/// A generated command waiting in [`WorkloadStream`] (in its `parked` slot), ordered by its
/// sort key alone: (business time, complaint number, step within the complaint), unique per
/// command.
struct Pending {
    key: (Timestamp, usize, usize),
    slot: usize,
}

impl PartialEq for Pending {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}

impl Eq for Pending {}

impl PartialOrd for Pending {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Pending {
    fn cmp(&self, other: &Self) -> Ordering {
        self.key.cmp(&other.key)
    }
}

/// A customer as the generator remembers them.
#[derive(Clone)]
struct Customer {
    customer_id: Option<String>,
    name: String,
    phone_digits: String,
    address: String,
    region: usize,
    tier: CustomerTier,
}

/// An earlier complaint, for repeats and duplicates.
struct Earlier {
    id: ComplaintId,
    customer: usize,
    category: Category,
    waybill: Option<String>,
    channel: Channel,
    received_at: Timestamp,
    /// When it was closed, merged or rejected; `None` if it stays open.
    ended_at: Option<Timestamp>,
}

struct Generator<'a> {
    cfg: &'a WorkloadConfig,
    rng: ChaCha8Rng,
    horizon: Timestamp,
    customers: Vec<Customer>,
    earlier: Vec<Earlier>,
    repeats: usize,
    duplicates: usize,
    /// Issue 17: the latest major-incident group (lead ticket, incident id, opened at, category,
    /// region), which later complaints of the same category and region link to.
    incident: Option<(ComplaintId, String, Timestamp, Category, usize)>,
}

const CHANNEL_WEIGHTS: [(Channel, u32); 12] = [
    (Channel::Hotline, 35),
    (Channel::Wechat, 15),
    (Channel::MiniProgram, 12),
    (Channel::Counter, 10),
    (Channel::Website, 6),
    (Channel::Email, 4),
    (Channel::VoiceMessage, 4),
    (Channel::SocialMedia, 4),
    (Channel::RegulatorReferral, 3),
    (Channel::MediaLead, 3),
    (Channel::Letter, 2),
    (Channel::SuggestionBox, 2),
];

const CATEGORY_WEIGHTS: [(Category, u32); 11] = [
    (Category::Delay, 30),
    (Category::Delivery, 15),
    (Category::Damage, 12),
    (Category::Loss, 10),
    (Category::StaffAttitude, 8),
    (Category::Information, 6),
    (Category::Fees, 6),
    (Category::Outlet, 5),
    (Category::InsuredValue, 3),
    (Category::Other, 3),
    (Category::Privacy, 2),
];

const REGIONS: [(&str, &[&str]); 8] = [
    (
        "北京",
        &["北京朝阳区望京营业部", "北京海淀区中关村营业部", "北京丰台区分拨中心"],
    ),
    ("上海", &["上海浦东新区张江营业部", "上海闵行区莘庄营业部"]),
    ("广州", &["广州天河区体育西营业部", "广州白云区转运中心"]),
    (
        "深圳",
        &["深圳南山区科技园营业部", "深圳宝安区西乡营业部", "深圳龙华区民治营业部"],
    ),
    ("杭州", &["杭州西湖区文三路营业部", "杭州萧山区分拨中心"]),
    ("成都", &["成都武侯区营业部", "成都双流区转运中心"]),
    ("武汉", &["武汉洪山区光谷营业部", "武汉江岸区营业部"]),
    ("南京", &["南京鼓楼区营业部", "南京江宁区营业部"]),
];

const REGION_WEIGHTS: [u32; 8] = [16, 16, 14, 14, 12, 10, 9, 9];

const SURNAMES: [&str; 20] = [
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭", "何", "林", "罗",
    "欧阳",
];
const GIVEN: [&str; 24] = [
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀英", "霞",
    "平", "刚", "桂英", "建华", "晓东",
];
const STREETS: [&str; 10] = [
    "人民路",
    "建设路",
    "中山路",
    "解放路",
    "和平街",
    "长江路",
    "新华路",
    "学府路",
    "滨江大道",
    "科技园路",
];

const DEPARTMENTS: [&str; 10] = [
    "sorting",
    "transport",
    "hub",
    "outlet",
    "delivery",
    "operations",
    "legal",
    "pr",
    "finance",
    "customer_service",
];

fn pick_weighted<T: Copy>(rng: &mut ChaCha8Rng, items: &[(T, u32)]) -> T {
    let total: u32 = items.iter().map(|(_, w)| w).sum();
    let mut x = rng.random_range(0..total);
    for (item, w) in items {
        if x < *w {
            return *item;
        }
        x -= w;
    }
    items[items.len() - 1].0
}

fn pick<'s, T>(rng: &mut ChaCha8Rng, items: &'s [T]) -> &'s T {
    &items[rng.random_range(0..items.len())]
}

fn minutes(m: i64) -> i64 {
    m * MS_PER_MINUTE
}

fn hours(h: i64) -> i64 {
    h * MS_PER_HOUR
}

fn yuan(y: i64) -> Money {
    Money(y * 100)
}

/// A category's name in an incident title.
fn category_zh(category: Category) -> &'static str {
    match category {
        Category::Delay => "延误",
        Category::Loss => "丢失",
        Category::Damage => "破损",
        Category::Delivery => "投递",
        Category::StaffAttitude => "服务态度",
        Category::Outlet => "网点服务",
        Category::Information => "物流信息",
        Category::Privacy => "信息泄露",
        Category::Fees => "收费",
        Category::InsuredValue => "保价",
        Category::Other => "其他",
    }
}

fn description(rng: &mut ChaCha8Rng, category: Category, waybill: Option<&str>, outlet: &str) -> String {
    let wb = waybill.unwrap_or("（无运单号）");
    let days = rng.random_range(3..12);
    let templates: &[String] = &match category {
        Category::Delay => vec![
            format!("运单号 {wb} 的快件已经{days}天没有物流更新，显示一直在中转，要求尽快派送并说明原因"),
            format!("寄往外地的包裹 {wb} 承诺三天到达，现已超过{days}天仍未送达，影响使用，要求核实"),
            format!("快件 {wb} 在分拨中心滞留{days}天，客服多次答复正在处理，至今无进展"),
        ],
        Category::Loss => vec![
            format!("快递显示已签收但本人未收到，运单号 {wb}，要求核实签收人并赔偿"),
            format!("运单号 {wb} 的邮件在{outlet}之后物流信息中断，疑似丢失，要求查找或赔偿"),
            format!("寄出的文件 {wb} 丢失，内有重要合同原件，要求调查并给出处理结果"),
            // Issue 17 (R-RTE-4): "未保价" is not "保价": routed by "丢失", not to legal.
            format!("包裹 {wb} 未保价，寄出后物流停滞，疑似丢失，要求查找"),
        ],
        Category::Damage => vec![
            format!("收到的快件 {wb} 外包装破损，内装物品（陶瓷餐具）碎裂，已拍照留存，要求赔偿"),
            format!("运单号 {wb} 的电子产品到货后屏幕破裂，外箱有明显挤压痕迹，要求按保价赔偿"),
            format!("包裹 {wb} 内水果全部压烂，签收时快递员催促未能当面验货"),
        ],
        Category::Delivery => vec![
            format!("快件 {wb} 未经本人同意被放入快递柜，本人不在本地无法取件，要求送货上门"),
            format!("快递员未打电话直接将包裹 {wb} 放在驿站，并虚假签收，要求整改"),
            format!("运单号 {wb} 显示派送失败“无人接听”，但本人全天在家且未接到任何电话"),
        ],
        Category::StaffAttitude => vec![
            format!("{outlet}的工作人员态度恶劣，询问包裹 {wb} 时被不耐烦地打断"),
            format!("快递员派送 {wb} 时言语粗鲁，要求其所在网点道歉"),
        ],
        Category::Outlet => vec![
            format!("{outlet}营业时间内无人值守，排队一个多小时无法寄件"),
            format!("代收点取件 {wb} 被要求额外支付保管费，服务很差"),
        ],
        Category::Information => vec![
            format!("运单号 {wb} 的物流信息{days}天未更新，查询结果与客服说法不一致"),
            format!("官网显示包裹 {wb} 已到达{outlet}，但网点称未收到，信息错误"),
        ],
        Category::Privacy => vec![
            format!("寄件 {wb} 后频繁接到推销电话，怀疑面单个人信息被泄露"),
            "快递面单上的姓名电话未做隐私处理，被陌生人拍照，要求说明信息保护措施".to_owned(),
        ],
        Category::Fees => vec![
            format!("寄件 {wb} 实际重量2公斤却按5公斤收费，要求退还多收的运费"),
            format!("{outlet}收取的包装费未事先告知，要求退费并说明收费标准"),
        ],
        Category::InsuredValue => vec![
            format!("保价快件 {wb} 损坏，理赔金额远低于保价金额，对保价条款有异议"),
            format!("运单号 {wb} 已保价五千元，丢失后只同意赔偿运费的三倍，要求按保价赔偿"),
        ],
        Category::Other => vec![
            "建议在小区增设快递柜，目前取件很不方便".to_owned(),
            format!("咨询包裹 {wb} 能否改派到新地址，多次来电无人处理"),
        ],
    };
    pick(rng, templates).clone()
}

fn waybill(rng: &mut ChaCha8Rng) -> String {
    match rng.random_range(0..4) {
        0 => format!("SF{:012}", rng.random_range(0..1_000_000_000_000u64)),
        1 => format!("YT{:013}", rng.random_range(0..10_000_000_000_000u64)),
        2 => format!("ZT{:012}", rng.random_range(0..1_000_000_000_000u64)),
        _ => format!(
            "E{}{:09}CN",
            (b'A' + rng.random_range(0..26u8)) as char,
            rng.random_range(0..1_000_000_000u64)
        ),
    }
}

/// Allowance for the first response per severity and channel (docs/domain.md §7 defaults;
/// R-SLA-8: the mini-program answers within 2 h).
fn first_response_ms(s: Severity, channel: Channel) -> i64 {
    let tier = match s {
        Severity::Ordinary => hours(24),
        Severity::Urgent => hours(3),
        Severity::Major => hours(1),
    };
    if channel == Channel::MiniProgram {
        tier.min(hours(2))
    } else {
        tier
    }
}

/// Allowance for the final response per severity: ordinary 3 working days (about 3 calendar
/// days is safe only on weekdays, so aim within 2), urgent 24 h, major within a few days with
/// daily progress updates.
fn resolution_ms(s: Severity) -> i64 {
    match s {
        Severity::Ordinary => hours(48),
        Severity::Urgent => hours(24),
        Severity::Major => hours(72),
    }
}

/// One complaint's commands under construction: strictly increasing business times.
struct Script {
    complaint_id: ComplaintId,
    now: Timestamp,
    cmds: Vec<(Timestamp, Command)>,
}

impl Script {
    /// Like [`Script::push`], but the script's clock stays where it was: a step beside the
    /// lifecycle (a dispute escalation) that does not delay the steps after it, which must come
    /// later than `after_ms`.
    fn push_beside(&mut self, after_ms: i64, actor: &Actor, body: CommandBody) {
        let now = self.now;
        self.push(after_ms, actor, body);
        self.now = now;
    }

    fn push(&mut self, after_ms: i64, actor: &Actor, body: CommandBody) {
        // At least one second between steps so times strictly increase.
        self.now = self.now.plus_millis(after_ms.max(1_000));
        let step = self.cmds.len() + 1;
        let command_id = CommandId::new(format!("{}/{:02}-{}", self.complaint_id, step, body.name()))
            .expect("generated command ids are valid");
        self.cmds.push((
            self.now,
            Command {
                command_id,
                complaint_id: self.complaint_id.clone(),
                actor: actor.clone(),
                occurred_at: Some(self.now),
                body,
            },
        ));
    }
}

impl<'a> Generator<'a> {
    fn new(cfg: &'a WorkloadConfig) -> Self {
        let horizon = cfg
            .start
            .plus_millis(i64::from(cfg.span_days + cfg.tail_days) * MS_PER_DAY);
        Generator {
            cfg,
            rng: ChaCha8Rng::seed_from_u64(cfg.seed),
            horizon,
            customers: Vec::new(),
            earlier: Vec::new(),
            repeats: 0,
            duplicates: 0,
            incident: None,
        }
    }

    /// Arrival times, ascending: mostly in office hours (Beijing time), fewer at weekends.
    fn arrivals(&mut self) -> Vec<Timestamp> {
        let mut out = Vec::with_capacity(self.cfg.complaints);
        let days = i64::from(self.cfg.span_days.max(1));
        while out.len() < self.cfg.complaints {
            let day = self.rng.random_range(0..days);
            // `start` is a Monday 00:00 Beijing time by default; weekday = day % 7.
            let weekend = day % 7 >= 5;
            if weekend && self.rng.random_bool(0.5) {
                continue;
            }
            let hour = if self.rng.random_bool(0.85) {
                self.rng.random_range(8..20)
            } else {
                self.rng.random_range(0..24)
            };
            let minute = self.rng.random_range(0..60);
            out.push(
                self.cfg
                    .start
                    .plus_millis(day * MS_PER_DAY + hours(hour) + minutes(minute)),
            );
        }
        out.sort();
        out
    }

    fn new_customer(&mut self) -> usize {
        let rng = &mut self.rng;
        let name = format!("{}{}", pick(rng, &SURNAMES), pick(rng, &GIVEN));
        let prefix = *pick(
            rng,
            &["138", "139", "135", "150", "186", "188", "177", "199", "136", "158"],
        );
        let phone_digits = format!("{prefix}{:08}", rng.random_range(0..100_000_000u32));
        let region = {
            let weighted: Vec<(usize, u32)> = REGION_WEIGHTS.iter().copied().enumerate().collect();
            pick_weighted(rng, &weighted)
        };
        let address = format!(
            "{}市{}{}号{}室",
            REGIONS[region].0,
            pick(rng, &STREETS),
            rng.random_range(1..400),
            rng.random_range(101..2600)
        );
        let tier = pick_weighted(
            rng,
            &[
                (CustomerTier::Standard, 80),
                (CustomerTier::Vip, 12),
                (CustomerTier::AtRisk, 8),
            ],
        );
        let customer_id = rng
            .random_bool(0.6)
            .then(|| format!("C{:07}", self.customers.len() + 1));
        self.customers.push(Customer {
            customer_id,
            name,
            phone_digits,
            address,
            region,
            tier,
        });
        self.customers.len() - 1
    }

    /// The phone as this channel's form records it: the same number written differently, which
    /// normalisation must see through (docs/domain.md §3).
    fn phone_as_written(&mut self, digits: &str) -> String {
        match self.rng.random_range(0..4) {
            0 => format!("+86 {}-{}-{}", &digits[..3], &digits[3..7], &digits[7..]),
            1 => format!("{} {} {}", &digits[..3], &digits[3..7], &digits[7..]),
            2 => format!("0086{digits}"),
            _ => digits.to_owned(),
        }
    }

    fn late(&mut self) -> bool {
        let p = self.cfg.late_share;
        self.rng.random_bool(p.clamp(0.0, 1.0))
    }

    /// Delay within `allow_ms`, or past it when this one is late.
    fn within(&mut self, allow_ms: i64, late: bool) -> i64 {
        if late {
            allow_ms
                + self
                    .rng
                    .random_range(allow_ms / 10 + MS_PER_MINUTE..allow_ms * 2 + 2 * MS_PER_MINUTE)
        } else {
            self.rng.random_range(allow_ms / 20 + 1_000..allow_ms * 9 / 10)
        }
    }

    fn complaint(&mut self, n: usize, received_at: Timestamp) -> Vec<(Timestamp, Command)> {
        let id = ComplaintId::new(format!("{}-{:06}", self.cfg.id_prefix, n + 1)).expect("generated ids are valid");
        // Who is complaining, and is it about something we already know?
        let roll: f64 = self.rng.random();
        let mut duplicate_of: Option<usize> = None;
        let mut repeat_of: Option<usize> = None;
        if roll < self.cfg.duplicate_share {
            duplicate_of = self.find_earlier(received_at, |e, t| {
                e.waybill.is_some() && t.millis_since(e.received_at) < hours(48) && e.ended_at.is_none_or(|end| end > t)
            });
        } else if roll < self.cfg.duplicate_share + self.cfg.repeat_share {
            repeat_of = self.find_earlier(received_at, |e, t| {
                t.millis_since(e.received_at) < 30 * MS_PER_DAY && e.ended_at.is_some_and(|end| end < t)
            });
        }
        let customer = match (duplicate_of, repeat_of) {
            (Some(e), _) | (_, Some(e)) => self.earlier[e].customer,
            _ => {
                // A returning customer from long ago now and then; mostly new ones.
                if !self.customers.is_empty() && self.rng.random_bool(0.05) {
                    self.rng.random_range(0..self.customers.len())
                } else {
                    self.new_customer()
                }
            }
        };
        let cust = self.customers[customer].clone();

        let mut channel = pick_weighted(&mut self.rng, &CHANNEL_WEIGHTS);
        if let Some(e) = duplicate_of {
            // The same problem through another channel.
            let first = self.earlier[e].channel;
            while channel == first {
                channel = pick_weighted(&mut self.rng, &CHANNEL_WEIGHTS);
            }
        }
        let category = match (duplicate_of, repeat_of) {
            (Some(e), _) | (_, Some(e)) => self.earlier[e].category,
            _ => pick_weighted(&mut self.rng, &CATEGORY_WEIGHTS),
        };
        let has_waybill = !matches!(category, Category::Outlet | Category::Other) || self.rng.random_bool(0.3);
        let wb = match (duplicate_of, repeat_of) {
            (Some(e), _) => self.earlier[e].waybill.clone(),
            (_, Some(e)) if self.rng.random_bool(0.5) => self.earlier[e].waybill.clone(),
            _ => has_waybill.then(|| waybill(&mut self.rng)),
        };
        let region_name = REGIONS[cust.region].0;
        let outlet = pick(&mut self.rng, REGIONS[cust.region].1).to_string();
        let text = description(&mut self.rng, category, wb.as_deref(), &outlet);

        let severity = if matches!(channel, Channel::MediaLead) || self.rng.random_bool(0.04) {
            Severity::Major
        } else if matches!(category, Category::Loss | Category::InsuredValue) || self.rng.random_bool(0.12) {
            Severity::Urgent
        } else {
            Severity::Ordinary
        };
        let flags = Flags {
            repeat: repeat_of.is_some(),
            media: matches!(channel, Channel::MediaLead | Channel::SocialMedia) && severity == Severity::Major,
            group: severity == Severity::Major && self.rng.random_bool(0.3),
            regulator: channel == Channel::RegulatorReferral,
        };

        let staff = Actor::person(format!("cs-{:03}", self.rng.random_range(1..41))).expect("valid actor");
        let handler_name = format!("h-{:03}", self.rng.random_range(1..121));
        let handler = Actor::person(handler_name.clone()).expect("valid actor");
        let supervisor = Actor::person(format!("sup-{:02}", self.rng.random_range(1..9))).expect("valid actor");
        let director = Actor::person(format!("dir-{:02}", self.rng.random_range(1..3))).expect("valid actor");

        // Contact precedes registration: a counter complaint is registered within the hour,
        // others mostly within a few hours (within one working day).
        let contact_gap = if channel == Channel::Counter {
            self.rng.random_range(minutes(1)..minutes(50))
        } else {
            self.rng.random_range(minutes(1)..hours(6))
        };
        let phone = self.phone_as_written(&cust.phone_digits);
        let claimed_amount = match category {
            Category::Loss | Category::Damage | Category::InsuredValue => Some(yuan(self.rng.random_range(20..3000))),
            Category::Fees => Some(yuan(self.rng.random_range(5..60))),
            _ => None,
        };
        let mut evidence = Vec::new();
        if let Some(w) = &wb {
            if self.rng.random_bool(0.4) {
                evidence.push(EvidenceRef {
                    kind: EvidenceKind::WaybillPhoto,
                    reference: format!("evidence://{id}/waybill-{w}.jpg"),
                });
            }
        }
        if category == Category::Damage {
            evidence.push(EvidenceRef {
                kind: EvidenceKind::DamagePhoto,
                reference: format!("evidence://{id}/damage-1.jpg"),
            });
        }
        let mut attributes = BTreeMap::new();
        if channel == Channel::RegulatorReferral {
            attributes.insert(
                "referral_no".to_owned(),
                format!("YZSS-{:08}", self.rng.random_range(0..100_000_000u32)),
            );
        }

        let mut s = Script {
            complaint_id: id.clone(),
            now: received_at,
            cmds: Vec::with_capacity(12),
        };
        // The first push adds at least a second; start just before the arrival time.
        s.now = received_at.plus_millis(-1_000);
        s.push(
            0,
            &staff,
            CommandBody::Receive(Receive {
                channel,
                contact_at: Some(received_at.plus_millis(-contact_gap)),
                customer: CustomerInput {
                    customer_id: cust.customer_id.clone(),
                    name: Some(cust.name.clone()),
                    phone: Some(phone),
                    address: Some(cust.address.clone()),
                },
                waybill: wb.clone(),
                description: text,
                claimed_amount,
                evidence,
                region: region_name.to_owned(),
                outlet: Some(outlet.clone()),
                attributes,
            }),
        );
        let verify_after = self.rng.random_range(minutes(2)..minutes(20));

        // Duplicates: verification finds the open ticket; merged.
        if let Some(e) = duplicate_of {
            self.duplicates += 1;
            let into = self.earlier[e].id.clone();
            s.push(
                verify_after,
                &staff,
                CommandBody::Verify(Verify {
                    claim: CheckOutcome::Passed,
                    evidence: CheckOutcome::NotApplicable,
                    history: CheckOutcome::Failed,
                    repeat_of: None,
                    flags: Flags::default(),
                    note: format!("同一运单已有未结工单 {into}"),
                }),
            );
            s.push(
                minutes(3),
                &staff,
                CommandBody::MergeAsDuplicate(MergeAsDuplicate {
                    into,
                    note: format!("客户通过{}重复反映同一问题", channel.as_str()),
                }),
            );
            s.push(minutes(5), &staff, Self::close_unresolved("已合并至原工单，结案"));
            return self.finish(n, s, customer, category, wb, channel, received_at, true);
        }

        // Invalid complaints: verification fails the claim; rejected with a reason.
        if self.rng.random_bool(self.cfg.invalid_share.clamp(0.0, 1.0)) {
            s.push(
                verify_after,
                &staff,
                CommandBody::Verify(Verify {
                    claim: CheckOutcome::Failed,
                    evidence: CheckOutcome::NotApplicable,
                    history: CheckOutcome::Passed,
                    repeat_of: None,
                    flags: Flags::default(),
                    note: "运单号查无此件，且客户无法提供寄件凭证".to_owned(),
                }),
            );
            let reason = pick_weighted(
                &mut self.rng,
                &[
                    (RejectionReason::NoClaim, 5),
                    (RejectionReason::NoRelationship, 3),
                    (RejectionReason::Abusive, 1),
                    (RejectionReason::Other, 1),
                ],
            );
            s.push(
                minutes(10),
                &supervisor,
                CommandBody::Reject(Reject {
                    reason,
                    note: "经三核，投诉不成立，已向客户说明".to_owned(),
                }),
            );
            s.push(
                self.rng.random_range(minutes(10)..hours(4)),
                &supervisor,
                Self::close_unresolved("投诉不成立，结案"),
            );
            return self.finish(n, s, customer, category, wb, channel, received_at, true);
        }

        if repeat_of.is_some() {
            self.repeats += 1;
        }
        s.push(
            verify_after,
            &staff,
            CommandBody::Verify(Verify {
                claim: CheckOutcome::Passed,
                evidence: if wb.is_some() {
                    CheckOutcome::Passed
                } else {
                    CheckOutcome::NotApplicable
                },
                history: CheckOutcome::Passed,
                repeat_of: repeat_of.map(|e| self.earlier[e].id.clone()),
                flags,
                note: if repeat_of.is_some() {
                    "30天内同一客户同类问题再次投诉".to_owned()
                } else {
                    String::new()
                },
            }),
        );
        // R-SEV-2: the policy suggests a tier from category and flags; the workload follows it,
        // except a few loss reports found to be simple enquiries and regulator referrals that
        // turned out minor, classified lower with the reason recorded.
        let (severity, severity_reason) = match (channel, category) {
            (Channel::RegulatorReferral, _) if severity != Severity::Major => {
                if self.rng.random_bool(0.5) {
                    (Severity::Major, None)
                } else {
                    (severity, Some("监管转办件经核实为一般查询，不涉及服务事故".to_owned()))
                }
            }
            (_, Category::Loss | Category::InsuredValue)
                if severity == Severity::Urgent && self.rng.random_bool(0.1) =>
            {
                (
                    Severity::Ordinary,
                    Some("客户来电确认包裹已找到，仅需说明原因".to_owned()),
                )
            }
            _ => (severity, None),
        };
        // Issue 17 (seeds/000 重大投诉, several complaints, one cause): a complaint of the same
        // category and region within three days of a major-incident group links to it. Decided
        // from the index, not the generator, so the rest of the workload stays the same.
        let mut linked = false;
        if let Some((lead, incident_id, opened, cat, region)) = &self.incident {
            if *cat == category
                && *region == cust.region
                && received_at.millis_since(*opened) < 3 * MS_PER_DAY
                && n % 2 == 0
            {
                s.push(
                    minutes(1),
                    &staff,
                    CommandBody::LinkIncident(LinkIncident {
                        incident_id: incident_id.clone(),
                        lead: lead.clone(),
                        note: "同一原因引发的投诉，纳入专项小组处理".to_owned(),
                    }),
                );
                linked = true;
            }
        }
        s.push(
            self.rng.random_range(minutes(1)..minutes(10)),
            &staff,
            CommandBody::Classify(Classify {
                category,
                severity,
                customer_tier: cust.tier,
                flags,
                recorded_deadlines: Vec::new(),
                deadline_source: Default::default(),
                severity_reason,
            }),
        );
        // Dispatch: mostly by the routing table; by hand when it will be redispatched later.
        let redispatch = self.rng.random_bool(0.08);
        let first_department = if redispatch {
            Some(Department(pick(&mut self.rng, &DEPARTMENTS).to_string()))
        } else {
            None
        };
        s.push(
            self.rng.random_range(minutes(1)..minutes(10)),
            &staff,
            CommandBody::Dispatch(Dispatch {
                department: first_department.clone(),
                handler: Some(handler_name.clone()),
            }),
        );
        // Issue 17 (seeds/000 重大投诉: 成立专项小组 … 每日向客户通报进展): a major media or group
        // complaint forms a group; its daily reports come on time, then one is missed.
        let incident = !linked && severity == Severity::Major && (flags.media || flags.group);
        if incident {
            let incident_id = format!("INC-{id}");
            s.push(
                minutes(5),
                &supervisor,
                CommandBody::OpenIncident(OpenIncident {
                    incident_id: incident_id.clone(),
                    title: format!("{region_name}{}集中投诉", category_zh(category)),
                    cause: format!("{outlet}相关环节异常"),
                    members: vec![
                        IncidentMember {
                            name: "分管副总经理".to_owned(),
                            role: "leader".to_owned(),
                        },
                        IncidentMember {
                            name: "法务部代表".to_owned(),
                            role: "legal".to_owned(),
                        },
                        IncidentMember {
                            name: "公关部代表".to_owned(),
                            role: "pr".to_owned(),
                        },
                        IncidentMember {
                            name: handler_name.clone(),
                            role: "customer_service".to_owned(),
                        },
                    ],
                }),
            );
            self.incident = Some((id.clone(), incident_id, s.now, category, cust.region));
        }
        // Green channel (repeat or media): the centre head (中心负责人, 000; the policy's
        // green_channel_level) steps in within 4 hours of receipt (right after dispatch), late
        // now and then.
        if flags.green_channel() {
            let after = if self.late() {
                hours(4) + self.rng.random_range(minutes(10)..hours(4))
            } else {
                self.rng.random_range(minutes(5)..minutes(50))
            };
            s.push(
                after,
                &director,
                CommandBody::Escalate(Escalate {
                    level: EscalationLevel::CenterDirector,
                    reason: "绿色通道：中心负责人督办介入".to_owned(),
                    rule_id: None,
                }),
            );
        }
        // Acknowledgement within the first-response allowance, unless late. Measured from
        // registration: the steps above took at most 40 minutes.
        let allow = first_response_ms(severity, channel);
        let late = self.late();
        let elapsed = s.now.millis_since(received_at);
        let ack_at = self.within(allow, late).max(elapsed + 1_000);
        s.push(
            ack_at - elapsed,
            &handler,
            CommandBody::Respond(Respond {
                kind: ResponseKind::Acknowledgement,
                text: "您好，您的投诉已受理，我们将尽快核实处理并及时反馈".to_owned(),
                basis: None,
                liable: None,
                root_cause: None,
                compensation: None,
            }),
        );
        if let Some(from) = first_department {
            let mut to = pick(&mut self.rng, &DEPARTMENTS).to_string();
            while to == from.0 {
                to = pick(&mut self.rng, &DEPARTMENTS).to_string();
            }
            s.push(
                self.rng.random_range(minutes(30)..hours(6)),
                &supervisor,
                CommandBody::Redispatch(Redispatch {
                    to: Department(to),
                    handler: Some(format!("h-{:03}", self.rng.random_range(1..121))),
                    reason: "经核实责任环节不在本部门，转交责任部门处理".to_owned(),
                }),
            );
        }
        if severity == Severity::Major {
            s.push(
                self.rng.random_range(hours(2)..hours(20)),
                &handler,
                CommandBody::Respond(Respond {
                    kind: ResponseKind::PreliminaryPlan,
                    text: "初步方案：已成立专项小组调查，24小时内给出处理意见".to_owned(),
                    basis: None,
                    liable: None,
                    root_cause: None,
                    compensation: None,
                }),
            );
        }
        if incident {
            s.push(
                hours(20),
                &supervisor,
                CommandBody::ReportIncidentProgress(ReportIncidentProgress {
                    text: "专项小组日报：已定位问题环节，正在逐一联系客户".to_owned(),
                }),
            );
            // The next daily report is missed: the one after comes 30 hours later.
            s.push(
                hours(54),
                &supervisor,
                CommandBody::ReportIncidentProgress(ReportIncidentProgress {
                    text: "专项小组日报：整改措施已落实，后续持续跟进".to_owned(),
                }),
            );
        }
        // Manual escalations: at-risk customers and some major tickets.
        if cust.tier == CustomerTier::AtRisk && self.rng.random_bool(0.3)
            || severity == Severity::Major && self.rng.random_bool(0.4)
        {
            s.push(
                self.rng.random_range(minutes(30)..hours(8)),
                &supervisor,
                CommandBody::Escalate(Escalate {
                    level: if severity == Severity::Major {
                        EscalationLevel::DepartmentHead
                    } else {
                        EscalationLevel::Supervisor
                    },
                    reason: "客户情绪激动，需主管跟进".to_owned(),
                    rule_id: None,
                }),
            );
        }
        // 首问负责制 (R-OWN): the agent who received the complaint owns it; now and then the
        // ownership is handed over, with the reason.
        if self.rng.random_bool(0.04) {
            let to = format!("cs-{:03}", self.rng.random_range(41..61));
            s.push(
                self.rng.random_range(minutes(20)..hours(3)),
                &staff,
                CommandBody::TransferOwnership(TransferOwnership {
                    to,
                    reason: "首问人轮休，工单转交同组专人跟进至结案".to_owned(),
                }),
            );
        }
        // 督办 (R-SUP): the centre head supervises a few tickets with a deadline to close them.
        let supervised = severity != Severity::Major && self.rng.random_bool(0.04);
        if supervised {
            let after = self.rng.random_range(hours(1)..hours(6));
            let due_at = s.now.plus_millis(after + self.rng.random_range(hours(72)..hours(120)));
            s.push(
                after,
                &director,
                CommandBody::OpenSupervision(OpenSupervision {
                    due_at,
                    note: "客户多次来电催办，中心督办，限期办结".to_owned(),
                }),
            );
        }
        // Holds: waiting for evidence or an unreachable customer; the resolution clock pauses.
        if self.rng.random_bool(0.10) {
            let reason = if self.rng.random_bool(0.6) {
                HoldReason::AwaitingEvidence
            } else {
                HoldReason::CustomerUnreachable
            };
            s.push(
                self.rng.random_range(minutes(30)..hours(6)),
                &handler,
                CommandBody::PutOnHold(PutOnHold {
                    reason,
                    note: "等待客户补充照片及购物凭证".to_owned(),
                }),
            );
            s.push(
                self.rng.random_range(hours(2)..hours(40)),
                &handler,
                CommandBody::Resume(Resume {
                    note: "客户已补充材料".to_owned(),
                }),
            );
        }
        if severity != Severity::Ordinary || self.rng.random_bool(0.3) {
            s.push(
                self.rng.random_range(hours(2)..hours(20)),
                &handler,
                CommandBody::Respond(Respond {
                    kind: ResponseKind::Progress,
                    text: "阶段性进展：已联系责任网点调取监控及交接记录".to_owned(),
                    basis: None,
                    liable: None,
                    root_cause: None,
                    compensation: None,
                }),
            );
        }
        // Final response, with compensation for item problems the company is liable for.
        let liable = match category {
            Category::Loss | Category::Damage | Category::Delay | Category::InsuredValue => self.rng.random_bool(0.7),
            Category::Other => false,
            _ => self.rng.random_bool(0.5),
        };
        let root_cause = liable.then(|| *pick(&mut self.rng, &Stage::ALL));
        let mut compensation = if liable { self.compensation(category) } else { None };
        // Issue 17 (seeds/001 明确赔偿标准和支付时限): every third payment goes through the
        // lifecycle instead of riding on the final response: proposed, approved by the role the
        // policy names for the amount, paid (late now and then); now and then refused first.
        let mut lifecycle_payment: Option<(String, i64)> = None;
        if let Some(req) = compensation.clone() {
            if req.remedy == Remedy::Payment && n % 3 == 0 {
                let cid = format!("{id}/C1");
                if n % 17 == 0 {
                    let refused = format!("{id}/C0");
                    s.push(
                        hours(1),
                        &handler,
                        CommandBody::ProposeCompensation(ProposeCompensation {
                            compensation_id: refused.clone(),
                            compensation: CompensationRequest {
                                amount: Money(req.amount.0 / 2),
                                ..req.clone()
                            },
                            note: "客户要求先行赔付".to_owned(),
                        }),
                    );
                    s.push(
                        hours(2),
                        &supervisor,
                        CommandBody::RefuseCompensation(RefuseCompensation {
                            compensation_id: refused,
                            reason: "待责任认定后按标准一次性赔付".to_owned(),
                        }),
                    );
                }
                s.push(
                    hours(1),
                    &handler,
                    CommandBody::ProposeCompensation(ProposeCompensation {
                        compensation_id: cid.clone(),
                        compensation: req.clone(),
                        note: "按赔偿标准核定".to_owned(),
                    }),
                );
                let role = crate::Policy::default()
                    .compensation_lifecycle
                    .required_role(req.amount.0);
                s.push(
                    hours(2),
                    &Actor::person(format!("{}-approver", role.as_str())).expect("valid actor"),
                    CommandBody::ApproveCompensation(ApproveCompensation {
                        compensation_id: cid.clone(),
                        role,
                    }),
                );
                // Paid within the deadline, or (every 11th) a day after it.
                let pay_after = if n % 11 == 0 { hours(8 * 24) } else { hours(30) };
                lifecycle_payment = Some((cid, pay_after));
                compensation = None;
            }
        }
        let late = self.late();
        let elapsed = s.now.millis_since(received_at);
        let final_at = self.within(resolution_ms(severity), late).max(elapsed + 1_000);
        s.push(
            final_at - elapsed,
            &handler,
            CommandBody::Respond(Respond {
                kind: ResponseKind::Final,
                text: if liable {
                    "经核实，问题属实，责任在我方，已按规定处理并向您致歉".to_owned()
                } else {
                    "经核实，快件处理符合规定，已向您详细说明情况".to_owned()
                },
                basis: Some(if liable {
                    "《邮政法》第四十七条；《快递暂行条例》第二十七条".to_owned()
                } else {
                    "监控及签收记录核查结果".to_owned()
                }),
                liable: Some(liable),
                root_cause,
                compensation,
            }),
        );
        // Issue 17 (seeds/002 改进): every tenth liable ticket records an improvement action
        // against its root cause, owned by the department of that stage.
        if let (true, Some(stage)) = (n % 10 == 0, root_cause) {
            let department = match stage {
                Stage::Collection => "outlet",
                Stage::Sorting => "sorting",
                Stage::Transport => "transport",
                Stage::Hub => "hub",
                Stage::Delivery => "delivery",
            };
            s.push(
                hours(1),
                &supervisor,
                CommandBody::RecordImprovement(RecordImprovement {
                    action_id: format!("{id}/A1"),
                    root_cause: None,
                    department: Department(department.to_owned()),
                    action: format!("{}环节整改：加强交接核对与培训", stage.as_str()),
                }),
            );
        }
        // Now and then the customer disputes the final response before any revisit: reopened
        // by a supervisor, and answered again.
        if self.rng.random_bool(0.02) {
            s.push(
                self.rng.random_range(hours(2)..hours(24)),
                &supervisor,
                CommandBody::Reopen(Reopen {
                    reason: "客户对答复有异议，重新处理".to_owned(),
                }),
            );
            s.push(
                self.rng.random_range(hours(4)..hours(30)),
                &handler,
                CommandBody::Respond(Respond {
                    kind: ResponseKind::Final,
                    text: "复核后维持原处理意见，并补充说明依据".to_owned(),
                    basis: Some("复核结果".to_owned()),
                    liable: Some(liable),
                    root_cause,
                    compensation: None,
                }),
            );
        }
        // A small separate goodwill gesture now and then.
        if liable && self.rng.random_bool(0.05) {
            s.push(
                self.rng.random_range(hours(1)..hours(12)),
                &supervisor,
                CommandBody::Compensate(Compensate {
                    compensation: CompensationRequest {
                        remedy: Remedy::Coupon,
                        amount: Money::ZERO,
                        ..self.blank_request()
                    },
                }),
            );
        }
        // The closed loop (R-LOOP-1): some customers cannot be reached for the revisit (three
        // attempts within the 3-day window, then closed as unreachable), a few decline it.
        let no_revisit = if self.rng.random_bool(0.05) {
            Some(CloseReason::CustomerUnreachable)
        } else if self.rng.random_bool(0.02) {
            Some(CloseReason::CustomerDeclined)
        } else {
            None
        };
        if let Some(reason) = no_revisit {
            if reason == CloseReason::CustomerUnreachable {
                for note in [
                    "电话回访无人接听",
                    "短信提醒后再次致电，仍无人接听",
                    "第三次致电，号码停机",
                ] {
                    s.push(
                        self.rng.random_range(hours(4)..hours(20)),
                        &staff,
                        CommandBody::RecordRevisitAttempt(RecordRevisitAttempt { note: note.to_owned() }),
                    );
                }
            }
            // An approved compensation is paid before the ticket closes (R-COMP-7), revisit or not.
            pay_approved(&mut s, lifecycle_payment.as_ref());
            s.push(
                self.rng.random_range(minutes(10)..hours(4)),
                &staff,
                CommandBody::Close(Close {
                    root_cause,
                    liable: Some(liable),
                    note: match reason {
                        CloseReason::CustomerUnreachable => "回访三次未能联系到客户，按规定结案".to_owned(),
                        CloseReason::CustomerDeclined => "客户表示无需回访，结案".to_owned(),
                    },
                    without_revisit: Some(reason),
                }),
            );
            return self.finish(n, s, customer, category, wb, channel, received_at, true);
        }
        // Revisit within 3 days (late now and then); unsatisfied customers reopen the ticket,
        // and a second unsatisfied revisit escalates it as well (R-LOOP-3).
        let mut reopens = 0;
        loop {
            let late = self.late();
            let after = self.within(hours(72), late);
            let unsatisfied = match reopens {
                0 => self.rng.random_bool(self.cfg.unsatisfied_share.clamp(0.0, 1.0)),
                1 => self.rng.random_bool(0.2),
                _ => false,
            };
            let staff_rv = staff.clone();
            s.push(
                after,
                &staff_rv,
                CommandBody::Revisit(Revisit {
                    solved: !unsatisfied || self.rng.random_bool(0.3),
                    satisfied: !unsatisfied,
                    satisfaction_score: Some(if unsatisfied {
                        self.rng.random_range(1..3)
                    } else {
                        self.rng.random_range(3..6)
                    }),
                    note: if unsatisfied {
                        "客户对处理结果不满意".to_owned()
                    } else {
                        "客户表示问题已解决".to_owned()
                    },
                }),
            );
            if !unsatisfied {
                break;
            }
            // The domain reopens an unsatisfied revisit in the same decision (Revisited and
            // Reopened): the ticket is back in handling, so a new final response follows.
            reopens += 1;
            // Issue 17 (seeds/002 纠纷升级率): now and then the dissatisfied customer takes the
            // dispute to the consumer association.
            if n % 4 == 0 {
                s.push(
                    hours(2),
                    &supervisor,
                    CommandBody::Escalate(Escalate {
                        level: EscalationLevel::ExternalMediation,
                        reason: "客户向消费者协会投诉，转外部调解".to_owned(),
                        rule_id: None,
                    }),
                );
            }
            // Issue 17 (seeds/002 纠纷升级率: 从投诉升级为诉讼、舆情; 监管部门介入): a few take it
            // further — to court, to the press, to the regulator (R-DSP-1).
            if reopens == 1 {
                let dispute = match n % 9 {
                    1 => Some((
                        DisputeKind::Litigation,
                        "客户就赔偿争议向人民法院提起诉讼，法务部已应诉",
                    )),
                    3 if channel != Channel::MediaLead => {
                        Some((DisputeKind::Media, "客户将处理结果发布至本地媒体及社交平台，引发关注"))
                    }
                    5 if channel != Channel::RegulatorReferral => {
                        Some((DisputeKind::Regulator, "客户向邮政管理局申诉，监管部门已转办"))
                    }
                    _ => None,
                };
                if let Some((kind, note)) = dispute {
                    // Beside the lifecycle: the new final response below comes 4 h or more later.
                    s.push_beside(
                        hours(3),
                        &supervisor,
                        CommandBody::RecordDisputeEscalation(RecordDisputeEscalation {
                            kind,
                            note: note.to_owned(),
                        }),
                    );
                }
            }
            s.push(
                self.rng.random_range(hours(4)..hours(30)),
                &handler,
                CommandBody::Respond(Respond {
                    kind: ResponseKind::Final,
                    text: "重新核查后，已补充处理并再次向您致歉".to_owned(),
                    basis: Some("复核结果".to_owned()),
                    liable: Some(liable),
                    root_cause,
                    compensation: None,
                }),
            );
        }
        let close_after = self.rng.random_range(minutes(10)..hours(20));
        pay_approved(&mut s, lifecycle_payment.as_ref());
        s.push(
            close_after,
            &staff,
            CommandBody::Close(Close {
                root_cause,
                liable: Some(liable),
                note: "已结案归档".to_owned(),
                without_revisit: None,
            }),
        );
        self.finish(n, s, customer, category, wb, channel, received_at, true)
    }

    /// A refund of the postage paid: the ceiling is the postage itself.
    fn postage_refund(&mut self) -> CompensationRequest {
        let postage = yuan(self.rng.random_range(8..30));
        CompensationRequest {
            remedy: Remedy::PostageRefund,
            postage: Some(postage),
            amount: postage,
            ..self.blank_request()
        }
    }

    /// Closing a rejected or merged ticket: never liable, no root cause.
    fn close_unresolved(note: &str) -> CommandBody {
        CommandBody::Close(Close {
            root_cause: None,
            liable: None,
            note: note.to_owned(),
            without_revisit: None,
        })
    }

    fn blank_request(&self) -> CompensationRequest {
        CompensationRequest {
            remedy: Remedy::Payment,
            amount: Money::ZERO,
            insured: false,
            insured_amount: None,
            full_value: None,
            actual_loss: None,
            postage: None,
            total_loss: false,
            registered_letter: false,
            gross_negligence: false,
        }
    }

    /// A compensation request within its legal ceiling (docs/domain.md §6), amounts chosen so the
    /// ceiling is exact in integer fen.
    fn compensation(&mut self, category: Category) -> Option<CompensationRequest> {
        let base = self.blank_request();
        match category {
            Category::Loss | Category::InsuredValue if self.rng.random_bool(0.5) => {
                // Insured, total loss: up to the insured amount.
                let insured = yuan(self.rng.random_range(1..50) * 100);
                Some(CompensationRequest {
                    insured: true,
                    insured_amount: Some(insured),
                    full_value: Some(insured),
                    actual_loss: Some(insured),
                    postage: Some(yuan(self.rng.random_range(12..40))),
                    total_loss: true,
                    amount: insured,
                    ..base
                })
            }
            Category::Damage if self.rng.random_bool(0.4) => {
                // Insured, partly damaged: actual loss × insured ÷ full value.
                let full = yuan(self.rng.random_range(2..20) * 100);
                let insured = Money(full.0 / 2);
                let actual = Money(full.0 / 4);
                Some(CompensationRequest {
                    insured: true,
                    insured_amount: Some(insured),
                    full_value: Some(full),
                    actual_loss: Some(actual),
                    postage: Some(yuan(self.rng.random_range(12..40))),
                    total_loss: false,
                    amount: Money(actual.0 / 2),
                    ..base
                })
            }
            Category::Loss | Category::Damage => {
                // Uninsured: actual loss capped at 3 × postage.
                let postage = yuan(self.rng.random_range(8..30));
                let actual = yuan(self.rng.random_range(20..500));
                Some(CompensationRequest {
                    postage: Some(postage),
                    actual_loss: Some(actual),
                    total_loss: category == Category::Loss,
                    amount: Money(actual.0.min(3 * postage.0)),
                    ..base
                })
            }
            Category::Delay if self.rng.random_bool(0.5) => Some(self.postage_refund()),
            Category::Delay => Some(CompensationRequest {
                remedy: Remedy::Coupon,
                ..base
            }),
            Category::Fees => Some(self.postage_refund()),
            _ => self.rng.random_bool(0.3).then_some(CompensationRequest {
                remedy: Remedy::Coupon,
                ..base
            }),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn finish(
        &mut self,
        _n: usize,
        s: Script,
        customer: usize,
        category: Category,
        waybill: Option<String>,
        channel: Channel,
        received_at: Timestamp,
        ends: bool,
    ) -> Vec<(Timestamp, Command)> {
        let end = s.cmds.last().map(|(t, _)| *t);
        self.earlier.push(Earlier {
            id: s.complaint_id.clone(),
            customer,
            category,
            waybill,
            channel,
            received_at,
            ended_at: if ends { end.filter(|t| *t <= self.horizon) } else { None },
        });
        s.cmds
    }

    /// The most recent earlier complaint (of the last few hundred) matching `f`, picked at
    /// random among the matches so customers are not all the latest ones.
    fn find_earlier(&mut self, at: Timestamp, f: impl Fn(&Earlier, Timestamp) -> bool) -> Option<usize> {
        let lo = self.earlier.len().saturating_sub(400);
        let matches: Vec<usize> = (lo..self.earlier.len()).filter(|&i| f(&self.earlier[i], at)).collect();
        if matches.is_empty() {
            None
        } else {
            Some(matches[self.rng.random_range(0..matches.len())])
        }
    }
}

/// Finance pays the approved lifecycle compensation `(id, pay_after)` of a script, `pay_after`
/// measured from its approval (the revisit may have come in between; R-COMP-7).
fn pay_approved(s: &mut Script, payment: Option<&(String, i64)>) {
    let Some((cid, pay_after)) = payment else {
        return;
    };
    let approved_at = s
        .cmds
        .iter()
        .rev()
        .find(|(_, c)| matches!(c.body, CommandBody::ApproveCompensation(_)))
        .map_or(s.now, |(t, _)| *t);
    let due = approved_at.plus_millis(*pay_after);
    s.push(
        due.millis_since(s.now).max(1_000),
        &Actor::person("finance-01").expect("valid actor"),
        CommandBody::PayCompensation(PayCompensation {
            compensation_id: cid.clone(),
            reference: format!("FIN-{cid}"),
        }),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_workload_other_seed_other_workload() {
        let cfg = WorkloadConfig {
            complaints: 300,
            seed: 9,
            ..WorkloadConfig::default()
        };
        let a = generate(&cfg);
        assert_eq!(a, generate(&cfg));
        let b = generate(&WorkloadConfig { seed: 10, ..cfg });
        assert_ne!(a, b);
    }

    /// The stream hands out exactly the list that generating every complaint and sorting by
    /// (business time, complaint, step) gives: the same commands in the same order.
    #[test]
    fn the_stream_is_the_sorted_workload() {
        for (complaints, seed) in [(1, 1), (40, 2), (700, 3), (3_000, 42)] {
            let cfg = WorkloadConfig {
                complaints,
                seed,
                ..WorkloadConfig::default()
            };
            let mut g = Generator::new(&cfg);
            let mut timed = Vec::new();
            for (n, at) in g.arrivals().into_iter().enumerate() {
                for (step, (t, cmd)) in g.complaint(n, at).into_iter().enumerate() {
                    if t <= g.horizon {
                        timed.push((t, n, step, cmd));
                    }
                }
            }
            timed.sort_by_key(|a| (a.0, a.1, a.2));
            let sorted: Vec<Command> = timed.into_iter().map(|(_, _, _, c)| c).collect();
            let (streamed, summary) = generate_with_summary(&cfg);
            assert_eq!(streamed.len(), sorted.len(), "{complaints} complaints, seed {seed}");
            assert!(
                streamed == sorted,
                "{complaints} complaints, seed {seed}: another order"
            );
            assert_eq!((summary.repeats, summary.duplicates), (g.repeats, g.duplicates));
        }
    }

    #[test]
    fn commands_are_time_ordered_with_unique_ids() {
        let (cmds, summary) = generate_with_summary(&WorkloadConfig {
            complaints: 2_000,
            ..WorkloadConfig::default()
        });
        assert_eq!(summary.by_command["receive"], 2_000);
        let times: Vec<Timestamp> = cmds.iter().map(|c| c.occurred_at.expect("business time set")).collect();
        assert!(times.windows(2).all(|w| w[0] <= w[1]));
        let ids: std::collections::HashSet<&str> = cmds.iter().map(|c| c.command_id.as_str()).collect();
        assert_eq!(ids.len(), cmds.len());
    }

    #[test]
    fn proportions_are_plausible_and_every_kind_occurs() {
        let (_, s) = generate_with_summary(&WorkloadConfig {
            complaints: 5_000,
            seed: 3,
            ..WorkloadConfig::default()
        });
        assert_eq!(
            s.by_channel.len(),
            Channel::ALL.len(),
            "every channel occurs: {:?}",
            s.by_channel
        );
        let hotline = s.by_channel["hotline"] as f64 / 5_000.0;
        assert!((0.28..0.42).contains(&hotline), "hotline share {hotline}");
        for name in [
            "verify",
            "reject",
            "merge_as_duplicate",
            "classify",
            "dispatch",
            "redispatch",
            "put_on_hold",
            "resume",
            "respond",
            "compensate",
            "escalate",
            "revisit",
            "reopen",
            "close",
            // Issue 17 part 1: the closed loop, 首问负责制, 督办.
            "record_revisit_attempt",
            "transfer_ownership",
            "open_supervision",
        ] {
            assert!(
                s.by_command.get(name).copied().unwrap_or(0) > 0,
                "{name} missing: {:?}",
                s.by_command
            );
        }
        assert!(s.repeats > 100, "repeats {}", s.repeats);
        assert!(s.duplicates > 50, "duplicates {}", s.duplicates);
        // Some tickets are still open at the horizon.
        assert!(s.by_command["close"] < s.by_command["receive"]);
    }
}

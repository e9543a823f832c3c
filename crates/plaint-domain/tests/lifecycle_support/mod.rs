//! Shared fixtures of the state-machine tests (tests/lifecycle_gwt.rs, tests/state_machine.rs):
//! a "world" holding the policy, the calendar, a customer key, one complaint's events and a
//! manual clock.
#![allow(dead_code)]

use plaint_domain::calendar::Calendar;
use plaint_domain::personal::CustomerKey;
use plaint_domain::policy::Policy;
use plaint_domain::state::{decide, ComplaintState, Context, Rejection};
use plaint_domain::*;

/// The match secret of the test world (a store's comes from its vault).
pub static MATCH_SECRET: plaint_domain::personal::MatchSecret =
    plaint_domain::personal::MatchSecret::from_bytes([7; 32]);

pub const COMPLAINT: &str = "CMP-2026-000123";

/// 2026-11-25T09:00:00+08:00, a Wednesday, a working day.
pub fn t0() -> Timestamp {
    Timestamp::parse_rfc3339("2026-11-25T09:00:00+08:00").unwrap()
}

pub struct World {
    pub policy: Policy,
    pub calendar: Calendar,
    pub key: CustomerKey,
    pub events: Vec<Event>,
    pub now: Timestamp,
    pub actor: Actor,
    next_command: u32,
}

impl World {
    pub fn new() -> Self {
        World {
            policy: Policy::default(),
            calendar: Calendar::china_mainland(),
            key: CustomerKey {
                id: "cust-42/k1".to_owned(),
                secret: [42; 32],
            },
            events: Vec::new(),
            now: t0(),
            actor: Actor::person("agent-7").unwrap(),
            next_command: 0,
        }
    }

    pub fn id(&self) -> ComplaintId {
        ComplaintId::new(COMPLAINT).unwrap()
    }

    pub fn state(&self) -> ComplaintState {
        ComplaintState::from_events(&self.events)
    }

    pub fn ctx(&self) -> Context<'_> {
        Context {
            now: self.now,
            policy: &self.policy,
            calendar: &self.calendar,
            customer_key: Some(&self.key),
            match_secret: &MATCH_SECRET,
        }
    }

    pub fn advance_hours(&mut self, h: i64) {
        self.now = self.now.plus_hours(h);
    }

    /// A command with a fresh command id.
    pub fn command(&mut self, body: CommandBody) -> Command {
        self.next_command += 1;
        Command {
            command_id: CommandId::new(format!("cmd-{}", self.next_command)).unwrap(),
            complaint_id: self.id(),
            actor: self.actor.clone(),
            occurred_at: None,
            body,
        }
    }

    /// Decides `cmd` at `now` and appends what it produced (as a store would, positions too).
    pub fn run(&mut self, cmd: &Command) -> Result<Vec<Event>, Rejection> {
        let state = self.state();
        let produced = decide(&state, cmd, &self.ctx())?;
        for e in &produced {
            let mut e = e.clone();
            e.meta.position = self.events.len() as u64 + 1;
            self.events.push(e);
        }
        Ok(produced)
    }

    /// When: a fresh command with this body.
    pub fn when(&mut self, body: CommandBody) -> Result<Vec<Event>, Rejection> {
        let cmd = self.command(body);
        self.run(&cmd)
    }

    /// Given: a fresh command with this body, which must be accepted.
    pub fn given(&mut self, body: CommandBody) -> Vec<Event> {
        let name = body.name();
        self.when(body)
            .unwrap_or_else(|r| panic!("given {name}: rejected: {r}"))
    }

    pub fn given_received(&mut self) {
        self.given(receive());
    }
    pub fn given_verified(&mut self) {
        self.given_received();
        self.given(verify());
    }
    pub fn given_classified(&mut self, severity: Severity) {
        self.given_verified();
        self.given(classify(severity));
    }
    pub fn given_dispatched(&mut self, severity: Severity) {
        self.given_classified(severity);
        self.given(dispatch(None));
    }
    pub fn given_final_response(&mut self, severity: Severity) {
        self.given_dispatched(severity);
        self.given(respond(ResponseKind::Final));
    }
}

pub fn receive() -> CommandBody {
    CommandBody::Receive(Receive {
        channel: Channel::Hotline,
        contact_at: None,
        customer: CustomerInput {
            customer_id: Some("C-42".to_owned()),
            name: Some("张三".to_owned()),
            phone: Some("+86 138-0013-8000".to_owned()),
            address: Some("北京市西城区金融大街甲3号".to_owned()),
        },
        waybill: Some("ems 1234-5678 cn".to_owned()),
        description: "包裹严重延误，一周未到".to_owned(),
        claimed_amount: Some(Money(5_000)),
        evidence: vec![],
        region: "北京".to_owned(),
        outlet: Some("西城营业部".to_owned()),
        attributes: Default::default(),
    })
}

pub fn verify() -> CommandBody {
    CommandBody::Verify(Verify {
        claim: CheckOutcome::Passed,
        evidence: CheckOutcome::Passed,
        history: CheckOutcome::Passed,
        repeat_of: None,
        flags: Flags::default(),
        note: String::new(),
    })
}

pub fn classify(severity: Severity) -> CommandBody {
    CommandBody::Classify(Classify {
        category: Category::Delay,
        severity,
        customer_tier: CustomerTier::Standard,
        flags: Flags::default(),
        recorded_deadlines: vec![],
        deadline_source: Default::default(),
        severity_reason: None,
    })
}

/// Classify with a recorded reason for going below the policy's suggestion (R-SEV-2).
pub fn classify_because(severity: Severity, reason: &str) -> CommandBody {
    let CommandBody::Classify(mut c) = classify(severity) else {
        unreachable!()
    };
    c.severity_reason = Some(reason.to_owned());
    CommandBody::Classify(c)
}

pub fn dispatch(department: Option<&str>) -> CommandBody {
    CommandBody::Dispatch(Dispatch {
        department: department.map(|d| Department(d.to_owned())),
        handler: Some("handler-1".to_owned()),
    })
}

pub fn respond(kind: ResponseKind) -> CommandBody {
    CommandBody::Respond(Respond {
        kind,
        text: "已处理".to_owned(),
        basis: None,
        liable: if kind == ResponseKind::Final { Some(true) } else { None },
        root_cause: if kind == ResponseKind::Final {
            Some(Stage::Sorting)
        } else {
            None
        },
        compensation: None,
    })
}

pub fn revisit(solved: bool, satisfied: bool) -> CommandBody {
    CommandBody::Revisit(Revisit {
        solved,
        satisfied,
        satisfaction_score: Some(if satisfied { 5 } else { 2 }),
        note: String::new(),
    })
}

pub fn close() -> CommandBody {
    CommandBody::Close(Close {
        root_cause: None,
        liable: None,
        note: String::new(),
        without_revisit: None,
    })
}

/// Close without a revisit, for a reason (docs/domain.md R-LOOP-1).
pub fn close_without_revisit(reason: CloseReason) -> CommandBody {
    CommandBody::Close(Close {
        root_cause: None,
        liable: None,
        note: "客户表示无需回访".to_owned(),
        without_revisit: Some(reason),
    })
}

pub fn revisit_attempt() -> CommandBody {
    CommandBody::RecordRevisitAttempt(RecordRevisitAttempt {
        note: "电话无人接听".to_owned(),
    })
}

pub fn escalate_watchdog(rule_id: &str, level: EscalationLevel) -> CommandBody {
    CommandBody::Escalate(Escalate {
        level,
        reason: "due".to_owned(),
        rule_id: Some(rule_id.to_owned()),
    })
}

/// One body of every command kind (used to check that a closed ticket refuses them all).
pub fn one_of_each_command() -> Vec<CommandBody> {
    vec![
        receive(),
        verify(),
        CommandBody::Reject(Reject {
            reason: RejectionReason::NoClaim,
            note: String::new(),
        }),
        CommandBody::MergeAsDuplicate(MergeAsDuplicate {
            into: ComplaintId::new("CMP-OTHER").unwrap(),
            note: String::new(),
        }),
        classify(Severity::Ordinary),
        dispatch(None),
        CommandBody::Redispatch(Redispatch {
            to: Department("hub".to_owned()),
            handler: None,
            reason: String::new(),
        }),
        CommandBody::PutOnHold(PutOnHold {
            reason: HoldReason::AwaitingEvidence,
            note: String::new(),
        }),
        CommandBody::Resume(Resume { note: String::new() }),
        respond(ResponseKind::Acknowledgement),
        respond(ResponseKind::Progress),
        respond(ResponseKind::PreliminaryPlan),
        respond(ResponseKind::Final),
        CommandBody::Compensate(Compensate {
            compensation: CompensationRequest {
                remedy: Remedy::Coupon,
                amount: Money(0),
                insured: false,
                insured_amount: None,
                full_value: None,
                actual_loss: None,
                postage: None,
                total_loss: false,
                registered_letter: false,
                gross_negligence: false,
            },
        }),
        CommandBody::Escalate(Escalate {
            level: EscalationLevel::Supervisor,
            reason: String::new(),
            rule_id: None,
        }),
        escalate_watchdog("ladder.supervisor", EscalationLevel::Supervisor),
        revisit(true, true),
        CommandBody::Reopen(Reopen { reason: String::new() }),
        close(),
        withdraw(),
        revisit_attempt(),
        CommandBody::TransferOwnership(TransferOwnership {
            to: "agent-9".to_owned(),
            reason: "转交专人跟进".to_owned(),
        }),
        CommandBody::OpenSupervision(OpenSupervision {
            due_at: Timestamp::parse_rfc3339("2026-11-28T18:00:00+08:00").unwrap(),
            note: "限期办结".to_owned(),
        }),
    ]
}

/// The customer withdraws the complaint.
pub fn withdraw() -> CommandBody {
    CommandBody::Withdraw(Withdraw {
        note: "客户来电撤回投诉".to_owned(),
    })
}

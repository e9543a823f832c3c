//! cqrs-es interop: plaint's complaint aggregate as a [`cqrs_es::Aggregate`].
//!
//! A back office already running on `cqrs-es` (with `postgres-es` or any other repository) can
//! use plaint's complaint domain without adopting plaint's engine. Nothing here re-states a rule:
//! [`ComplaintAggregate::handle`] calls [`plaint_domain::state::decide`] and
//! [`ComplaintAggregate::apply`] calls [`plaint_domain::state::evolve`], so a cqrs-es user sees
//! exactly the behaviour, events and rejections a plaint user sees.
//!
//! Event names and versions: [`ComplaintEvent`]'s `event_type` is the stable type name of
//! plaint's event catalogue (`docs/events.md`, e.g. `Received`) and its `event_version` is the
//! catalogue's schema version (`"1"`, `"2"` …), so rows written by postgres-es can be read by
//! anyone who knows the catalogue.
//!
//! ```
//! use cqrs_es::mem_store::MemStore;
//! use cqrs_es::CqrsFramework;
//! use plaint_cqrs::{ComplaintAggregate, ComplaintServices};
//! use plaint_domain::Timestamp;
//!
//! let clock = Timestamp::parse_rfc3339("2026-03-02T09:00:00+08:00").unwrap();
//! let services = ComplaintServices::new(ComplaintServices::fixed_clock(clock), [7u8; 32]);
//! let store = MemStore::<ComplaintAggregate>::default();
//! let _cqrs = CqrsFramework::new(store, vec![], services);
//! ```

pub mod postgres;

use cqrs_es::{Aggregate, DomainEvent};
use plaint_domain::calendar::Calendar;
use plaint_domain::personal::{match_key, CustomerKey, MatchSecret};
use plaint_domain::policy::Policy;
use plaint_domain::state::{decide, evolve, ComplaintState, Context, Rejection};
use plaint_domain::{Command, CommandBody, Event, Timestamp};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The aggregate type name under which cqrs-es stores complaint events.
pub const AGGREGATE_TYPE: &str = "complaint";

/// One plaint event, as cqrs-es carries it. Serialises exactly as [`plaint_domain::Event`]
/// (metadata and data) so the JSON stored by postgres-es is plaint's JSON event shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ComplaintEvent(pub Event);

impl DomainEvent for ComplaintEvent {
    fn event_type(&self) -> String {
        self.0.data.type_name().to_owned()
    }

    fn event_version(&self) -> String {
        self.0.meta.schema_version.to_string()
    }
}

/// A source of "now" for `decide`. The domain never reads the clock; the services do.
pub type Clock = Arc<dyn Fn() -> Timestamp + Send + Sync>;

/// Where customer keys come from (DOMAIN.md §9). The facade's key store keeps one random key per
/// customer so that destroying it erases the customer; a cqrs-es application plugs in its own.
pub trait CustomerKeys: Send + Sync {
    /// The key to seal this customer's personal fields with, creating it if needed.
    fn key_for(&self, match_key: &str) -> CustomerKey;
    /// The key of the match-key hash (`plaint_domain::personal::match_key`).
    fn match_secret(&self) -> &MatchSecret;
}

/// Keys derived from one master secret with keyed BLAKE3. Deterministic (good for tests and
/// benchmarks); it cannot crypto-shred a single customer, since every key can be derived again.
pub struct DerivedKeys {
    master: [u8; 32],
    match_secret: MatchSecret,
}

impl DerivedKeys {
    pub fn new(master: [u8; 32]) -> Self {
        DerivedKeys {
            master,
            match_secret: MatchSecret::from_bytes(blake3::derive_key("plaint-cqrs derived match secret v1", &master)),
        }
    }
}

impl CustomerKeys for DerivedKeys {
    fn key_for(&self, match_key: &str) -> CustomerKey {
        let secret = *blake3::keyed_hash(&self.master, match_key.as_bytes()).as_bytes();
        CustomerKey {
            id: match_key.to_owned(),
            secret,
        }
    }

    fn match_secret(&self) -> &MatchSecret {
        &self.match_secret
    }
}

/// What the aggregate needs besides its state: the policy, the business calendar, a clock and
/// customer keys. These are cqrs-es "services".
pub struct ComplaintServices {
    pub policy: Policy,
    pub calendar: Calendar,
    pub clock: Clock,
    pub keys: Arc<dyn CustomerKeys>,
}

impl ComplaintServices {
    /// The default policy and the mainland-China calendar, with derived keys from `master`.
    pub fn new(clock: Clock, master: [u8; 32]) -> Self {
        ComplaintServices {
            policy: Policy::default(),
            calendar: Calendar::china_mainland(),
            clock,
            keys: Arc::new(DerivedKeys::new(master)),
        }
    }

    /// A clock that always answers `at` (tests, replays of imported history).
    pub fn fixed_clock(at: Timestamp) -> Clock {
        Arc::new(move || at)
    }

    /// The wall clock.
    pub fn system_clock() -> Clock {
        Arc::new(|| Timestamp::from_datetime(chrono::Utc::now()))
    }
}

/// plaint's complaint as a cqrs-es aggregate: the domain state folded from its events.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ComplaintAggregate {
    state: ComplaintState,
}

impl ComplaintAggregate {
    /// The domain state (status, deadlines, flags …).
    pub fn state(&self) -> &ComplaintState {
        &self.state
    }
}

impl Aggregate for ComplaintAggregate {
    const TYPE: &'static str = AGGREGATE_TYPE;
    type Command = Command;
    type Event = ComplaintEvent;
    type Error = Rejection;
    type Services = ComplaintServices;

    async fn handle(
        &mut self,
        command: Command,
        services: &ComplaintServices,
        sink: &cqrs_es::event_sink::EventSink<Self>,
    ) -> Result<(), Rejection> {
        let key = match &command.body {
            CommandBody::Receive(r) => match_key(
                services.keys.match_secret(),
                r.customer.customer_id.as_deref(),
                r.customer.phone.as_deref(),
            )
            .map(|k| services.keys.key_for(&k)),
            _ => None,
        };
        let ctx = Context {
            now: (services.clock)(),
            policy: &services.policy,
            calendar: &services.calendar,
            customer_key: key.as_ref(),
            match_secret: services.keys.match_secret(),
        };
        let events = decide(&self.state, &command, &ctx)?;
        for event in events {
            sink.write(ComplaintEvent(event), self).await;
        }
        Ok(())
    }

    fn apply(&mut self, event: ComplaintEvent) {
        evolve(&mut self.state, &event.0);
    }
}

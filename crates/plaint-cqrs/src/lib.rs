//! cqrs-es interop: plaint's complaint aggregate as a [`cqrs_es::Aggregate`].
//!
//! A back office already running on `cqrs-es` (with `postgres-es` or any other repository) can
//! use plaint's complaint domain without adopting plaint's engine. Nothing here re-states a rule:
//! [`ComplaintAggregate::handle`] calls [`plaint_domain::state::decide`] and
//! [`ComplaintAggregate::apply`] calls [`plaint_domain::state::evolve`], so a cqrs-es user sees
//! exactly the behaviour, events and rejections a plaint user sees.
//!
//! The repeat rule (docs/domain.md §8) reads a customer's earlier complaints through the domain's
//! [`PriorComplaints`] port, passed to `handle` as a service ([`ComplaintServices::priors`]). By
//! default it is a [`PriorIndex`]: an in-memory index that is a cqrs-es [`Query`], fed with
//! every committed event (register [`ComplaintServices::queries`] with the framework, and
//! replay the stored events into it at start-up, e.g. [`postgres::load_prior_index`]).
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
//! let _cqrs = CqrsFramework::new(store, services.queries(), services);
//! ```

pub mod postgres;

use cqrs_es::{Aggregate, DomainEvent, EventEnvelope, Query};
use plaint_domain::calendar::Calendar;
use plaint_domain::personal::{match_key, CustomerKey, MatchSecret};
use plaint_domain::policy::Policy;
use plaint_domain::repeat::{CustomerRef, PriorComplaint, PriorComplaints};
use plaint_domain::state::{decide_with, evolve, ComplaintState, Context, Rejection};
use plaint_domain::{Command, CommandBody, Event, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

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

/// Where customer keys come from (docs/domain.md §9). The facade's key store keeps one random key per
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

/// The cqrs-es side of the repeat rule's port (docs/domain.md §8): every complaint folded with the
/// domain's [`PriorComplaint::fold`], indexed by the customer's matching key and customer id.
/// A cqrs-es [`Query`]: registered with the framework, it sees every committed event. Cloning
/// shares the index.
#[derive(Clone, Default)]
pub struct PriorIndex {
    inner: Arc<RwLock<IndexInner>>,
}

#[derive(Default)]
struct IndexInner {
    complaints: HashMap<String, PriorComplaint>,
    by_customer: HashMap<String, Vec<String>>,
}

impl PriorIndex {
    /// An empty index.
    pub fn new() -> Self {
        Self::default()
    }

    /// Folds one committed event in (events of one complaint in stream order).
    pub fn apply(&self, event: &Event) {
        let mut inner = self.inner.write().unwrap_or_else(|e| e.into_inner());
        let id = event.meta.complaint_id.as_str();
        let mut prior = inner.complaints.remove(id);
        let new = prior.is_none();
        PriorComplaint::fold(&mut prior, event);
        if let Some(p) = prior {
            if new {
                for key in p.customer.keys() {
                    inner.by_customer.entry(key.to_owned()).or_default().push(id.to_owned());
                }
            }
            inner.complaints.insert(id.to_owned(), p);
        }
    }

    /// How many complaints the index knows.
    pub fn len(&self) -> usize {
        self.inner.read().unwrap_or_else(|e| e.into_inner()).complaints.len()
    }

    /// Whether the index knows no complaint.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl PriorComplaints for PriorIndex {
    fn of_customer(&self, customer: &CustomerRef) -> Vec<PriorComplaint> {
        let inner = self.inner.read().unwrap_or_else(|e| e.into_inner());
        let mut ids: Vec<&String> = customer
            .keys()
            .filter_map(|k| inner.by_customer.get(k))
            .flatten()
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids.into_iter()
            .filter_map(|id| inner.complaints.get(id.as_str()).cloned())
            .collect()
    }
}

#[async_trait::async_trait]
impl Query<ComplaintAggregate> for PriorIndex {
    async fn dispatch(&self, _aggregate_id: &str, events: &[EventEnvelope<ComplaintAggregate>]) {
        for e in events {
            self.apply(&e.payload.0);
        }
    }
}

/// What the aggregate needs besides its state: the policy, the business calendar, a clock,
/// customer keys and the repeat rule's port. These are cqrs-es "services".
pub struct ComplaintServices {
    pub policy: Policy,
    pub calendar: Calendar,
    pub clock: Clock,
    pub keys: Arc<dyn CustomerKeys>,
    /// Where the repeat rule reads a customer's earlier complaints (docs/domain.md §8).
    pub priors: Arc<dyn PriorComplaints + Send + Sync>,
    /// The default in-memory index behind `priors`, to register as a query.
    index: Option<PriorIndex>,
}

impl ComplaintServices {
    /// The default policy and the mainland-China calendar, with derived keys from `master` and a
    /// fresh in-memory [`PriorIndex`] (register [`ComplaintServices::queries`]).
    pub fn new(clock: Clock, master: [u8; 32]) -> Self {
        let index = PriorIndex::new();
        ComplaintServices {
            policy: Policy::default(),
            calendar: Calendar::china_mainland(),
            clock,
            keys: Arc::new(DerivedKeys::new(master)),
            priors: Arc::new(index.clone()),
            index: Some(index),
        }
    }

    /// These services with another port for the repeat rule (e.g. a lookup in the back
    /// office's own read model); [`ComplaintServices::queries`] then returns nothing.
    pub fn with_priors(mut self, priors: Arc<dyn PriorComplaints + Send + Sync>) -> Self {
        self.priors = priors;
        self.index = None;
        self
    }

    /// The default [`PriorIndex`], when `priors` is it.
    pub fn prior_index(&self) -> Option<&PriorIndex> {
        self.index.as_ref()
    }

    /// The queries to register with the `CqrsFramework` so the default index sees every
    /// committed event.
    pub fn queries(&self) -> Vec<Box<dyn Query<ComplaintAggregate>>> {
        self.index
            .iter()
            .map(|i| Box::new(i.clone()) as Box<dyn Query<ComplaintAggregate>>)
            .collect()
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
        let events = decide_with(&self.state, &command, &ctx, services.priors.as_ref())?;
        for event in events {
            sink.write(ComplaintEvent(event), self).await;
        }
        Ok(())
    }

    fn apply(&mut self, event: ComplaintEvent) {
        evolve(&mut self.state, &event.0);
    }
}

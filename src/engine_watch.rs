//! What the SLA watchdog ([`Engine::tick`]) keeps between ticks (issue 13): the history of each
//! open ticket it has looked at, folded from the log as it grows, and when the domain says the
//! ticket next has something due (`plaint_domain::watchdog::next_due`).
//!
//! Before, every tick read and decoded the whole stream of every open ticket (one trip through
//! the store each) and ran `due_escalations` over it. Now a tick reads the log once from where
//! the last tick stopped (the events committed since, by this process or any other), appends
//! them to the histories it holds, and runs the domain's rule only for the tickets whose
//! history changed or whose next due instant has come. A ticket it does not hold (the first
//! tick after a start, one beyond [`WATCHED_STREAMS_MAX`], one whose history it could not
//! follow) is read from the store as before.
//!
//! Only a shortcut: what is due and when stays the domain's decision over the ticket's whole
//! history, and the escalations are still decided and appended with the stream's expected
//! version, so a history that is behind the store (another process appended after the tick's
//! read) costs what it cost before: the escalation is found applied, or a conflict and a retry.

use super::{Engine, READ_BATCH};
use crate::error::EngineError;
use plaint_domain::watchdog::{due_escalations, next_due};
use plaint_domain::{ComplaintId, EscalationDue, Event, Timestamp};
use plaint_projections::from_recorded_owned;
use plaint_projections::runner::{ProjectionSet, RunnerError};
use plaint_store::{EventStore, RecordedEvent};
use std::collections::{HashMap, HashSet};

/// Most ticket histories the watchdog holds; beyond, a ticket is read from the store when a
/// tick looks at it (memory stays bounded, nothing is missed).
pub const WATCHED_STREAMS_MAX: usize = 100_000;

/// The watchdog's histories of open tickets, as of a log position.
#[derive(Debug, Default)]
pub(crate) struct Watch {
    /// The log position the histories are folded up to; `None` before the first tick (the
    /// histories then start at the log's head, the open tickets read from the store once).
    position: Option<u64>,
    streams: HashMap<ComplaintId, Watched>,
}

/// One ticket's history and when it next has something due.
#[derive(Debug)]
struct Watched {
    /// The whole stream from version 1, contiguous.
    events: Vec<Event>,
    /// Valid while `events` stays as it is.
    next: Option<NextDue>,
}

/// `due_escalations(events, t)` is empty for every `t` in `[from, at)` (`at`: `None`, never).
#[derive(Debug, Clone, Copy)]
struct NextDue {
    from: Timestamp,
    at: Option<Timestamp>,
}

/// What a tick found due on one ticket.
pub(crate) struct TicketDue {
    pub due: Vec<EscalationDue>,
    /// The ticket's latest business time (escalations are recorded no earlier).
    pub last_occurred_at: Option<Timestamp>,
}

impl Watched {
    fn new(events: Vec<Event>) -> Watched {
        Watched { events, next: None }
    }

    /// Appends an event of this stream: the next version is taken, one already held is
    /// skipped; `false` on a gap (the history can no longer be followed).
    fn follow(&mut self, e: &Event) -> bool {
        let held = self.events.len() as u64;
        if e.meta.stream_version <= held {
            return true;
        }
        if e.meta.stream_version != held + 1 {
            return false;
        }
        self.events.push(e.clone());
        self.next = None;
        true
    }

    /// The escalations due at `now`, by the domain's rule over the whole history, asked only
    /// when the history changed or its next due instant has come.
    fn due_at(&mut self, now: Timestamp) -> TicketDue {
        let quiet = self
            .next
            .is_some_and(|n| n.from <= now && n.at.is_none_or(|at| now < at));
        let due = if quiet {
            Vec::new()
        } else {
            let at = next_due(&self.events, now);
            self.next = Some(NextDue { from: now, at });
            match at {
                Some(at) if at == now => due_escalations(&self.events, now),
                _ => Vec::new(),
            }
        };
        TicketDue {
            due,
            last_occurred_at: self.events.iter().map(|e| e.meta.occurred_at).max(),
        }
    }
}

impl Watch {
    /// Folds one committed event (in log order) into the history of its stream: a new stream
    /// starts at its first event (while there is room), a held one follows.
    fn fold(&mut self, e: &Event) {
        let id = &e.meta.complaint_id;
        if let Some(w) = self.streams.get_mut(id) {
            if !w.follow(e) {
                self.streams.remove(id);
            }
        } else if e.meta.stream_version == 1 && self.streams.len() < WATCHED_STREAMS_MAX {
            self.streams.insert(id.clone(), Watched::new(vec![e.clone()]));
        }
    }

    /// Keeps the histories of `open` tickets only (a closed ticket has nothing due).
    fn retain_open(&mut self, open: &[ComplaintId]) {
        let open: HashSet<&ComplaintId> = open.iter().collect();
        self.streams.retain(|id, _| open.contains(id));
    }
}

impl Engine {
    /// The open tickets, with what is due on each at `now`: the ticket projection and the
    /// watchdog's histories brought up to the log's head (one read of the log since the last
    /// tick), then the domain's rule run over the histories that changed or fell due. A ticket
    /// without a held history is read from the store.
    pub(super) async fn watch_due(
        &self,
        watch: &mut Watch,
        now: Timestamp,
    ) -> Result<Vec<(ComplaintId, TicketDue)>, EngineError> {
        let open = self.open_tickets_watched(watch).await?;
        watch.retain_open(&open);
        let mut out = Vec::with_capacity(open.len());
        for id in open {
            let due = match watch.streams.get_mut(&id) {
                Some(w) => w.due_at(now),
                None => {
                    let mut w = Watched::new(self.read_stream_events(&id).await?);
                    let due = w.due_at(now);
                    if watch.streams.len() < WATCHED_STREAMS_MAX {
                        watch.streams.insert(id.clone(), w);
                    }
                    due
                }
            };
            out.push((id, due));
        }
        Ok(out)
    }

    /// The open tickets (not closed), from the ticket projection brought up to the log's head,
    /// with the watchdog's histories folded up to the same head. One pass over the log when
    /// both read the store; with a read replica, the projection follows the replica (as every
    /// projection does) and the histories the store (as the stream reads they replace did).
    async fn open_tickets_watched(&self, watch: &mut Watch) -> Result<Vec<ComplaintId>, EngineError> {
        let mut runner = self.runner.lock().await;
        let head = self.store.head_position().await?;
        let watched_to = *watch.position.get_or_insert(head);
        if self.replica.is_some() {
            self.catch_up_one(&mut runner, |p| p.tickets.position, ProjectionSet::apply_tickets)
                .await?;
            fold_log(self.store.as_ref(), watched_to + 1, head, &mut |e| watch.fold(e)).await?;
        } else {
            let projections = runner.projections_mut();
            let from = projections.tickets.position.min(watched_to) + 1;
            // The ticket projection skips the events it has applied already.
            fold_log(self.store.as_ref(), from, head, &mut |e| {
                projections.apply_tickets(e);
                if e.meta.position > watched_to {
                    watch.fold(e);
                }
            })
            .await?;
        }
        watch.position = Some(head.max(watched_to));
        Ok(runner.projections().tickets.state.open_ids().collect())
    }
}

/// Hands the events of `source` at positions `from..=head` to `apply`, in order; a gap in the
/// positions is an error.
pub(super) async fn fold_log(
    source: &dyn EventStore,
    from: u64,
    head: u64,
    apply: &mut (dyn FnMut(&Event) + Send),
) -> Result<(), EngineError> {
    let mut next = from;
    while next <= head {
        let want = ((head + 1 - next) as usize).min(READ_BATCH);
        let batch = source.read_all(next, want).await?;
        if batch.is_empty() {
            break;
        }
        apply_read(batch, &mut next, apply)?;
    }
    Ok(())
}

/// Hands `batch`, read from position `*next` on, to `apply` in order, advancing `*next` past
/// it; a gap in the positions is an error.
pub(super) fn apply_read(
    batch: Vec<RecordedEvent>,
    next: &mut u64,
    apply: &mut (dyn FnMut(&Event) + Send),
) -> Result<(), EngineError> {
    for r in batch {
        if r.position != *next {
            return Err(RunnerError::Gap {
                after: *next - 1,
                found: r.position,
            }
            .into());
        }
        apply(&from_recorded_owned(r)?);
        *next += 1;
    }
    Ok(())
}

//! What the repeat rule (docs/domain.md R-REP) sees during an [`Engine::execute_batch`]: the
//! repeat projection as committed, plus what the batch has decided so far and not yet
//! committed, folded through the domain's one fold of an earlier complaint
//! ([`PriorComplaint::fold`]).
//!
//! Before, the batch path cloned the whole repeat projection on its first verification or
//! classification and applied the batch's events to the copy: a copy proportional to the log
//! (about 230 B per complaint: 230 MiB per batch at a million complaints). Now the batch keeps
//! only its own complaints: those it receives, and the request indexes of the events it adds
//! to complaints received before it, folded onto the projection's view of those complaints;
//! all of it only when a judgement asks (a batch nobody judges in folds nothing).
//!
//! [`Engine::execute_batch`]: crate::Engine::execute_batch

use plaint_domain::repeat::{CustomerRef, PriorComplaint};
use plaint_domain::{ComplaintId, Event};
use std::collections::HashMap;

/// The complaints one batch has changed, as the repeat rule sees them.
///
/// Kept lazily: [`BatchPriors::accept`] only notes the accepted request (a `Vec` push); the
/// maps below are folded from those notes when a judgement first asks
/// ([`BatchPriors::of_customer`]: a verification or a classification), so a batch of commands
/// the rule never judges (the `receive`s of `plaint serve`'s groups) builds none of them.
#[derive(Debug, Default)]
pub(crate) struct BatchPriors {
    /// The accepted requests not yet folded into the maps, in batch order: the index of each
    /// (into the batch's accepted requests) and what its complaint was before the batch.
    unfolded: Vec<(usize, Before)>,
    /// Complaints received in this batch, folded from their `Received` (`None` until then).
    received: HashMap<ComplaintId, Option<PriorComplaint>>,
    /// Complaints received in this batch, by each of their customer keys, in batch order.
    by_key: HashMap<String, Vec<ComplaintId>>,
    /// Complaints received before this batch that it changed: the indexes (into the batch's
    /// accepted requests) of their events, in order.
    changed: HashMap<ComplaintId, Vec<usize>>,
}

/// What an accepted request's complaint was before the batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Before {
    /// It had no event (received in this batch).
    New,
    /// It had events.
    Existed,
}

impl BatchPriors {
    /// Notes that the batch accepted request `request` (its events are the batch's
    /// `requests[request]` by the time [`BatchPriors::of_customer`] is asked).
    pub(crate) fn accept(&mut self, request: usize, before: Before) {
        assert!(
            self.unfolded.last().is_none_or(|&(last, _)| last < request),
            "requests are accepted in batch order"
        );
        self.unfolded.push((request, before));
    }

    /// Folds the requests accepted since the last judgement into the maps, in batch order.
    fn fold_accepted(&mut self, requests: &[Vec<Event>]) {
        for (request, before) in std::mem::take(&mut self.unfolded) {
            let events = &requests[request];
            let id = &events
                .first()
                .expect("an accepted request has events")
                .meta
                .complaint_id;
            if before == Before::Existed {
                self.changed.entry(id.clone()).or_default().push(request);
                continue;
            }
            let prior = self.received.entry(id.clone()).or_default();
            let was_known = prior.is_some();
            for e in events {
                PriorComplaint::fold(prior, e);
            }
            if let (false, Some(p)) = (was_known, prior.as_ref()) {
                for key in p.customer.keys() {
                    self.by_key.entry(key.to_owned()).or_default().push(id.clone());
                }
            }
        }
    }

    /// The earlier complaints of `customer` as the rule must see them now: `committed` (the
    /// repeat projection's, caught up with the log) with this batch's events folded onto the
    /// complaints they changed, followed by the complaints received in this batch under one
    /// of the customer's keys. `requests` are the batch's accepted events, per request.
    pub(crate) fn of_customer(
        &mut self,
        customer: &CustomerRef,
        mut committed: Vec<PriorComplaint>,
        requests: &[Vec<Event>],
    ) -> Vec<PriorComplaint> {
        self.fold_accepted(requests);
        for p in &mut committed {
            let Some(indexes) = self.changed.get(&p.id) else {
                continue;
            };
            let mut folded = Some(p.clone());
            for &i in indexes {
                for e in &requests[i] {
                    PriorComplaint::fold(&mut folded, e);
                }
            }
            *p = folded.expect("the fold keeps a known complaint");
        }
        for key in customer.keys() {
            for id in self.by_key.get(key).into_iter().flatten() {
                if committed.iter().any(|p| &p.id == id) {
                    continue; // under both keys
                }
                if let Some(Some(p)) = self.received.get(id) {
                    committed.push(p.clone());
                }
            }
        }
        committed
    }
}

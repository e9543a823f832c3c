//! Group commit of single commands (issue 15): `POST /v1/commands` requests carrying one
//! command that arrive while a commit is in flight are gathered by one task and committed
//! together with one [`Engine::execute_batch`] (one durable append for the lot); each request
//! is answered with its own command's result, as [`Engine::execute`] would have answered it.
//!
//! Per-command semantics are the batch's (docs/serve.md, "Commands"): each command is decided
//! on its own against its complaint's state, in arrival order (two commands on one complaint in
//! one group see each other as two sequential requests would); a rejection is that command's
//! answer alone; a retried command id answers as a retry. A group the engine fails as a whole
//! (a store error, a persistent conflict) is executed again one command at a time, so every
//! request gets the answer `execute` gives it. A lone request is executed directly.

use plaint::engine::BATCH_COMMANDS_MAX;
use plaint::{opens_complaint, Command, CommandId, CommandOutcome, ComplaintId, Engine, EngineError, Executed};
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinSet;

/// Most commands in one group: a group waits for no one, so this only bounds the work (and the
/// latency) of one commit under a flood of requests.
const GROUP_COMMANDS_MAX: usize = if BATCH_COMMANDS_MAX < 256 {
    BATCH_COMMANDS_MAX
} else {
    256
};

/// Requests queued for the next group at most (further ones wait for room).
const QUEUE_LEN: usize = 4 * GROUP_COMMANDS_MAX;

/// The default of [`crate::ServeConfig::groups_in_flight`]: one group commits while the next
/// forms (docs/PERFORMANCE.md "Issue 15, wave 10").
pub const GROUPS_IN_FLIGHT_DEFAULT: usize = 1;

/// Most groups in flight the configuration may ask for.
pub const GROUPS_IN_FLIGHT_MAX: usize = 8;

/// What one command did, as `execute` reports it to a client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Done {
    /// The command id had been executed before: `positions` are the original ones.
    pub deduplicated: bool,
    /// The global positions of the command's events (empty: nothing to record).
    pub positions: Vec<u64>,
    /// The complaint's stream version after the command.
    pub stream_version: u64,
}

impl Done {
    pub fn of_executed(done: &Executed) -> Done {
        Done {
            deduplicated: done.deduplicated,
            positions: done.events.iter().map(|e| e.meta.position).collect(),
            stream_version: done.stream_version,
        }
    }
}

/// Why a grouped command has no answer.
#[derive(Debug)]
pub(crate) enum Failed {
    /// The engine's answer (a rejection, a conflict, a store error), as `execute` gives it.
    Engine(EngineError),
    /// The grouping task ended while the command was queued or in a commit: whether it was
    /// committed is unknown (a retry with the same command id tells).
    Lost,
}

/// Where a grouped command's answer goes.
type Reply = oneshot::Sender<Result<Done, EngineError>>;

struct Job {
    cmd: Command,
    reply: Reply,
    /// When the command joined the queue (`plaint_group_wait_seconds`).
    queued: Instant,
}

/// The queue of single commands and the task that commits them in groups. The task ends (and
/// lets go of the engine) when the last handle is dropped.
#[derive(Debug, Clone)]
pub(crate) struct Grouper {
    queue: mpsc::Sender<Job>,
}

impl Grouper {
    /// Starts the grouping task on the current runtime, with at most `in_flight_max` groups
    /// committing at once (1..=[`GROUPS_IN_FLIGHT_MAX`]).
    pub fn start(engine: Arc<Engine>, in_flight_max: usize) -> Grouper {
        assert!(
            (1..=GROUPS_IN_FLIGHT_MAX).contains(&in_flight_max),
            "1..={GROUPS_IN_FLIGHT_MAX} groups in flight"
        );
        let (queue, jobs) = mpsc::channel(QUEUE_LEN);
        tokio::spawn(drain(engine, jobs, in_flight_max));
        Grouper { queue }
    }

    /// Executes `cmd` in the next group and returns what it did.
    pub async fn execute(&self, cmd: Command) -> Result<Done, Failed> {
        let (reply, answer) = oneshot::channel();
        let job = Job {
            cmd,
            reply,
            queued: Instant::now(),
        };
        if self.queue.send(job).await.is_err() {
            return Err(Failed::Lost);
        }
        match answer.await {
            Ok(done) => done.map_err(Failed::Engine),
            Err(_) => Err(Failed::Lost),
        }
    }
}

/// The grouping task's view of the groups committing: their complaints, so that a command on
/// a complaint a group in flight changes waits for that group (the rule of [`next_group`]).
#[derive(Default)]
struct InFlight {
    tasks: JoinSet<()>,
    /// The complaints of each group in flight, by its task.
    complaints: HashMap<tokio::task::Id, Vec<ComplaintId>>,
    /// Every complaint of a group in flight (a complaint is in one group in flight at most).
    busy: HashSet<ComplaintId>,
}

impl InFlight {
    fn len(&self) -> usize {
        self.tasks.len()
    }

    fn start(&mut self, engine: &Arc<Engine>, group: Vec<Job>) {
        let ids: Vec<ComplaintId> = group.iter().map(|j| j.cmd.complaint_id.clone()).collect();
        self.busy.extend(ids.iter().cloned());
        let task = self.tasks.spawn(commit(engine.clone(), group));
        self.complaints.insert(task.id(), ids);
    }

    /// Waits for a group in flight to end (committed, or its task failed: its requests were
    /// answered or see [`Failed::Lost`]) and frees its complaints.
    async fn one_ended(&mut self) {
        let id = match self.tasks.join_next_with_id().await {
            Some(Ok((id, ()))) => id,
            Some(Err(failed)) => failed.id(),
            None => return,
        };
        for complaint in self.complaints.remove(&id).into_iter().flatten() {
            self.busy.remove(&complaint);
        }
    }
}

/// Commits whatever is queued in groups, at most `in_flight_max` at once, until every handle
/// is dropped and every queued command is answered.
async fn drain(engine: Arc<Engine>, mut jobs: mpsc::Receiver<Job>, in_flight_max: usize) {
    let mut waiting: VecDeque<Job> = VecDeque::with_capacity(QUEUE_LEN);
    let mut received = Vec::with_capacity(GROUP_COMMANDS_MAX);
    let mut in_flight = InFlight::default();
    let mut open = true;
    loop {
        while in_flight.len() < in_flight_max {
            let group = next_group(&mut waiting, &in_flight.busy, in_flight.len());
            if group.is_empty() {
                break;
            }
            in_flight.start(&engine, group);
        }
        if !open && waiting.is_empty() && in_flight.len() == 0 {
            return;
        }
        let room = QUEUE_LEN.saturating_sub(waiting.len()).min(GROUP_COMMANDS_MAX);
        tokio::select! {
            n = jobs.recv_many(&mut received, room), if open && room > 0 => {
                open = n > 0;
                waiting.extend(received.drain(..));
            }
            () = in_flight.one_ended(), if in_flight.len() > 0 => {}
        }
    }
}

/// The next group to start from `waiting`, in arrival order, while `in_flight` groups commit
/// (their complaints `busy`); empty when none may start now.
///
/// With no group in flight, the first [`GROUP_COMMANDS_MAX`] commands, whatever they are. With
/// a group in flight, only the longest run of waiting commands from the front that the groups
/// in flight cannot change: each opens its complaint (`plaint_domain`'s `opens_complaint`: a
/// `receive`, which the domain decides on its own complaint's state alone) and its complaint
/// is in no group in flight. Any other command (one that may read what a group in flight
/// writes: its own complaint's state, another complaint's, the repeat rule's view of the
/// customer) waits, with every command behind it, until no group is in flight. So every
/// command is decided on a state that holds every command before it on its complaint, and
/// the groups commit as if one after another in the order they started; a command that waits
/// is not overtaken forever (once it is first, nothing starts until it does).
fn next_group(waiting: &mut VecDeque<Job>, busy: &HashSet<ComplaintId>, in_flight: usize) -> Vec<Job> {
    let take = if in_flight == 0 {
        waiting.len()
    } else {
        waiting
            .iter()
            .take_while(|j| opens_complaint(&j.cmd) && !busy.contains(&j.cmd.complaint_id))
            .count()
    };
    waiting.drain(..take.min(GROUP_COMMANDS_MAX)).collect()
}

/// Commits one group and answers each of its requests (the group's figures: docs/serve.md
/// "Metrics").
async fn commit(engine: Arc<Engine>, group: Vec<Job>) {
    assert!(
        !group.is_empty() && group.len() <= GROUP_COMMANDS_MAX,
        "a group of 1..={GROUP_COMMANDS_MAX} commands"
    );
    let started = Instant::now();
    crate::meters::group_started(
        group.len(),
        group.iter().map(|j| started.saturating_duration_since(j.queued)),
    );
    let (cmds, replies): (Vec<Command>, Vec<Reply>) = group.into_iter().map(|j| (j.cmd, j.reply)).unzip();
    decide_and_answer(&engine, cmds, replies).await;
    crate::meters::group_committed(started.elapsed());
}

/// Executes a group's commands as one batch and answers each of its requests.
async fn decide_and_answer(engine: &Engine, cmds: Vec<Command>, replies: Vec<Reply>) {
    if cmds.len() == 1 {
        return one_by_one(engine, cmds, replies).await;
    }
    // Lent, not given: a group the engine fails as a whole is executed again from `cmds`.
    let out = match engine.execute_batch(&cmds).await {
        Ok(out) => out,
        // The whole group failed (nothing decided is known to be written): each command
        // again on its own, so each gets its own answer (idempotent by command id).
        Err(_) => return one_by_one(engine, cmds, replies).await,
    };
    assert_eq!(out.outcomes.len(), cmds.len(), "an outcome per command");
    assert_eq!(out.stream_versions.len(), cmds.len(), "a stream version per command");
    for (i, (cmd, reply)) in cmds.iter().zip(replies).enumerate() {
        let answer = answer_of(engine, cmd, &out.outcomes[i], out.stream_versions[i]).await;
        // A client that went away meanwhile has no one to answer.
        let _ = reply.send(answer);
    }
}

/// What `execute` would have answered for `cmd`, from its outcome in a group.
async fn answer_of(
    engine: &Engine,
    cmd: &Command,
    outcome: &CommandOutcome,
    stream_version: u64,
) -> Result<Done, EngineError> {
    match outcome {
        CommandOutcome::Committed {
            first_position,
            last_position,
        } => Ok(Done {
            deduplicated: false,
            positions: (*first_position..=*last_position).collect(),
            stream_version,
        }),
        CommandOutcome::NoOp => Ok(Done {
            deduplicated: false,
            positions: Vec::new(),
            stream_version,
        }),
        CommandOutcome::Deduplicated => original_positions(engine, &cmd.complaint_id, &cmd.command_id)
            .await
            .map(|positions| Done {
                deduplicated: true,
                positions,
                stream_version,
            }),
        CommandOutcome::Rejected { rejection, .. } => Err(EngineError::Rejected(rejection.clone())),
    }
}

/// Executes each command on its own, in order, answering each on its reply.
async fn one_by_one(engine: &Engine, cmds: Vec<Command>, replies: Vec<Reply>) {
    assert_eq!(cmds.len(), replies.len(), "a reply per command");
    for (cmd, reply) in cmds.into_iter().zip(replies) {
        let answer = engine.execute(cmd).await.map(|done| Done::of_executed(&done));
        let _ = reply.send(answer);
    }
}

/// The positions of the events an executed command id wrote (a retry's answer).
pub(crate) async fn original_positions(
    engine: &Engine,
    complaint: &ComplaintId,
    command: &CommandId,
) -> Result<Vec<u64>, EngineError> {
    let history = engine.history(complaint).await?;
    Ok(history
        .iter()
        .filter(|e| &e.meta.command_id == command)
        .map(|e| e.meta.position)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(kind: &str, complaint: &str) -> Job {
        let body = match kind {
            "receive" => serde_json::json!({"command": "receive", "channel": "hotline", "region": "上海",
                "description": "未收到包裹", "customer": {"name": "张三", "phone": "13800138000"}}),
            _ => serde_json::json!({"command": "verify", "claim": "passed", "evidence": "passed", "history": "passed"}),
        };
        let mut value = serde_json::json!({"command_id": format!("{kind}-{complaint}"), "complaint_id": complaint,
            "actor": "cs-001"});
        value.as_object_mut().unwrap().extend(body.as_object().unwrap().clone());
        Job {
            cmd: serde_json::from_value(value).unwrap(),
            reply: oneshot::channel().0,
            queued: Instant::now(),
        }
    }

    fn names(group: &[Job]) -> Vec<String> {
        group.iter().map(|j| j.cmd.command_id.to_string()).collect()
    }

    fn busy(ids: &[&str]) -> HashSet<ComplaintId> {
        ids.iter().map(|id| ComplaintId::new(*id).unwrap()).collect()
    }

    #[test]
    fn with_no_group_in_flight_every_waiting_command_starts() {
        let mut waiting: VecDeque<Job> = [job("receive", "A"), job("verify", "B"), job("receive", "C")].into();
        let group = next_group(&mut waiting, &busy(&["B"]), 0);
        assert_eq!(names(&group), ["receive-A", "verify-B", "receive-C"]);
        assert!(waiting.is_empty());
        let mut many: VecDeque<Job> = (0..GROUP_COMMANDS_MAX + 3)
            .map(|i| job("receive", &format!("R{i}")))
            .collect();
        assert_eq!(next_group(&mut many, &HashSet::new(), 0).len(), GROUP_COMMANDS_MAX);
        assert_eq!(many.len(), 3, "the rest waits for the next group");
    }

    #[test]
    fn beside_a_group_in_flight_only_receives_of_free_complaints_start() {
        // A receive of a complaint in flight (a retry, a rival) waits; so does everything behind
        // it, in order.
        let mut waiting: VecDeque<Job> = [job("receive", "A"), job("receive", "B"), job("receive", "C")].into();
        let group = next_group(&mut waiting, &busy(&["B"]), 1);
        assert_eq!(names(&group), ["receive-A"]);
        assert_eq!(names(waiting.make_contiguous()), ["receive-B", "receive-C"]);
        // A command that reads a state (here on a complaint no group holds) waits for the
        // groups in flight, and the receives behind it wait with it.
        let mut waiting: VecDeque<Job> = [job("receive", "D"), job("verify", "E"), job("receive", "F")].into();
        let group = next_group(&mut waiting, &busy(&["B"]), 1);
        assert_eq!(names(&group), ["receive-D"]);
        assert_eq!(names(waiting.make_contiguous()), ["verify-E", "receive-F"]);
        assert!(
            next_group(&mut waiting, &busy(&["B"]), 1).is_empty(),
            "nothing starts beside"
        );
        assert_eq!(
            names(&next_group(&mut waiting, &HashSet::new(), 0)),
            ["verify-E", "receive-F"]
        );
    }
}

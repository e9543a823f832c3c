//! Group commit of single commands (issue 15): `POST /v1/commands` requests carrying one
//! command that arrive while a commit is in flight are gathered by one task and committed
//! together with one [`Engine::execute_batch_prepared`] (one durable append for the lot); each
//! request is answered with its own command's result, as [`Engine::execute`] would have
//! answered it. Each command is prepared on its request's own task first ([`Engine::prepare`]:
//! its digest, a receive's sealing), so the one serial group does less (issue 15, wave 11).
//!
//! Per-command semantics are the batch's (docs/serve.md, "Commands"): each command is decided
//! on its own against its complaint's state, in arrival order (two commands on one complaint in
//! one group see each other as two sequential requests would); a rejection is that command's
//! answer alone; a retried command id answers as a retry. A group the engine fails as a whole
//! (a store error, a persistent conflict) is executed again one command at a time, so every
//! request gets the answer `execute` gives it. A lone request is a group of one: it takes the
//! same path, so what was prepared for it is used.

use plaint::engine::{PreparedCommand, BATCH_COMMANDS_MAX};
use plaint::{Command, CommandId, CommandOutcome, ComplaintId, Engine, EngineError, Executed};
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::{mpsc, oneshot};

/// Most commands in one group: a group waits for no one, so this only bounds the work (and the
/// latency) of one commit under a flood of requests.
const GROUP_COMMANDS_MAX: usize = if BATCH_COMMANDS_MAX < 256 {
    BATCH_COMMANDS_MAX
} else {
    256
};

/// Requests queued for the next group at most (further ones wait for room).
const QUEUE_LEN: usize = 4 * GROUP_COMMANDS_MAX;

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

pub(crate) struct Job {
    /// Prepared on the request's own task ([`Engine::prepare`]), so the group does less.
    cmd: PreparedCommand,
    reply: Reply,
    /// When the command joined the queue (`plaint_group_wait_seconds`).
    queued: Instant,
}

/// The queue of single commands and the task that commits them in groups. The task ends (and
/// lets go of the engine) when the last handle is dropped.
#[derive(Debug, Clone)]
pub(crate) struct Grouper {
    queue: mpsc::Sender<Job>,
    /// For preparing each command before it joins the queue.
    engine: Arc<Engine>,
}

impl Grouper {
    /// Starts the grouping task on a thread of its own (`serve-group`, a current-thread
    /// runtime), or on the current runtime when no such thread or runtime can be had.
    ///
    /// Its own thread (issue 15, wave 12): the group's CPU shows as a thread of its own in a
    /// profile and in the load bench's per-thread figures. A latency gain from it (the group
    /// woken without waiting behind request tasks on the workers) was the hypothesis; the A/B
    /// measured none (docs/PERFORMANCE.md, "Issue 15, wave 12").
    pub fn start(engine: Arc<Engine>) -> Grouper {
        Grouper::start_with(engine, drain)
    }

    /// [`Grouper::start`] with `run` as the grouping task (a test's task that panics).
    pub(crate) fn start_with<F>(engine: Arc<Engine>, run: fn(Arc<Engine>, mpsc::Receiver<Job>) -> F) -> Grouper
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        let (queue, jobs) = mpsc::channel(QUEUE_LEN);
        let drainer = engine.clone();
        // The runtime is built inside the new thread: built here, a failed spawn would drop it
        // inside the caller's async context, and tokio panics there ("Cannot drop a runtime in
        // a context where blocking is not allowed").
        let server = tokio::runtime::Handle::current();
        let spawned = std::thread::Builder::new().name("serve-group".into()).spawn(move || {
            let built = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                // Its blocking pool (the file log's reads) counted as the group's, not as the
                // server's workers (named `serve-worker`).
                .thread_name("serve-group")
                .build();
            match built {
                Ok(runtime) => runtime.block_on(watched(run(drainer, jobs))),
                Err(e) => {
                    tracing::warn!(error = %e, "group commit: no runtime of its own; it runs on the server's workers");
                    server.spawn(watched(run(drainer, jobs)));
                }
            }
        });
        if let Err(e) = spawned {
            // The closure (and the queue's receiver in it) is gone: a queue of its own.
            tracing::warn!(error = %e, "group commit: no thread of its own; it runs on the server's workers");
            let (queue, jobs) = mpsc::channel(QUEUE_LEN);
            tokio::spawn(watched(run(engine.clone(), jobs)));
            return Grouper { queue, engine };
        }
        Grouper { queue, engine }
    }

    /// Whether the grouping task has ended while the server runs (a commit panicked): every
    /// single command is then answered 500, so the probes answer 503 and the server stops
    /// (docs/serve.md, "Commands").
    pub fn stopped(&self) -> bool {
        self.queue.is_closed()
    }

    /// Completes when the grouping task has ended ([`Grouper::stopped`]).
    pub async fn until_stopped(&self) {
        self.queue.closed().await
    }

    /// Executes `cmd` in the next group and returns what it did. Its state-free part (the
    /// digest, a receive's sealing) is done first, here, in parallel with the group in flight.
    pub async fn execute(&self, cmd: Command) -> Result<Done, Failed> {
        let cmd = self.engine.prepare(cmd);
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

/// Runs the grouping task `task`, logging at error level if it ends by a panic (the panic's
/// own message goes to stderr before).
async fn watched(task: impl std::future::Future<Output = ()>) {
    struct Watch;
    impl Drop for Watch {
        fn drop(&mut self) {
            if std::thread::panicking() {
                tracing::error!(
                    "group commit: a commit panicked and the grouping task ended; every single command now fails, the probes answer 503 and the server stops"
                );
            }
        }
    }
    let _watch = Watch;
    task.await
}

/// Commits whatever is queued as one group, until every handle is dropped. One group commits
/// at a time: the next one forms meanwhile (a second group in flight was tried and measured no
/// gain, docs/PERFORMANCE.md "Issue 15, wave 10"). A panic inside a commit ends this task:
/// docs/serve.md ("Commands") says what the clients see then.
///
/// The group's three lists are made once and emptied after each group, never given away: a
/// list made anew for every group (of jobs of ≈ 0.7 kB each) went to fresh pages each time,
/// ≈ 5 % of the grouping task's samples in the kernel zeroing them (issue 15, wave 12).
async fn drain(engine: Arc<Engine>, mut jobs: mpsc::Receiver<Job>) {
    let mut group = Vec::with_capacity(GROUP_COMMANDS_MAX);
    let mut lists = Lists {
        cmds: Vec::with_capacity(GROUP_COMMANDS_MAX),
        replies: Vec::with_capacity(GROUP_COMMANDS_MAX),
    };
    while jobs.recv_many(&mut group, GROUP_COMMANDS_MAX).await > 0 {
        commit(&engine, &mut group, &mut lists).await;
        assert!(group.is_empty() && lists.cmds.is_empty() && lists.replies.is_empty());
    }
}

/// A group's commands and where their answers go, in arrival order (index for index).
struct Lists {
    cmds: Vec<PreparedCommand>,
    replies: Vec<Reply>,
}

/// Commits one group and answers each of its requests (the group's figures: docs/serve.md
/// "Metrics").
async fn commit(engine: &Engine, group: &mut Vec<Job>, lists: &mut Lists) {
    assert!(
        !group.is_empty() && group.len() <= GROUP_COMMANDS_MAX,
        "a group of 1..={GROUP_COMMANDS_MAX} commands"
    );
    let started = Instant::now();
    crate::meters::group_started(
        group.len(),
        group.iter().map(|j| started.saturating_duration_since(j.queued)),
    );
    for job in group.drain(..) {
        lists.cmds.push(job.cmd);
        lists.replies.push(job.reply);
    }
    decide_and_answer(engine, lists).await;
    crate::meters::group_committed(started.elapsed());
}

/// Executes a group's commands as one batch and answers each of its requests (the lists are
/// left empty).
async fn decide_and_answer(engine: &Engine, lists: &mut Lists) {
    // A group of one too: what was prepared for it is used (issue 15, wave 12). Lent, not
    // given: a group the engine fails as a whole is executed again from `lists`.
    let out = match engine.execute_batch_prepared(&lists.cmds).await {
        Ok(out) => out,
        // A group of one failed by its own command (a persistent conflict on its complaint,
        // bad input): that is the answer `execute` would give after as many attempts; running
        // it again would hold the group's thread (and every queued command) twice as long.
        Err(e) if lists.cmds.len() == 1 && own_error(&e, lists.cmds[0].command()) => {
            lists.cmds.clear();
            let reply = lists.replies.pop().expect("a reply per command");
            let _ = reply.send(Err(e));
            return;
        }
        // The whole group failed (nothing decided is known to be written): each command
        // again on its own, so each gets its own answer (idempotent by command id).
        Err(_) => return one_by_one(engine, lists).await,
    };
    let Lists { cmds, replies } = lists;
    assert_eq!(out.outcomes.len(), cmds.len(), "an outcome per command");
    assert_eq!(out.stream_versions.len(), cmds.len(), "a stream version per command");
    for (i, (cmd, reply)) in cmds.drain(..).zip(replies.drain(..)).enumerate() {
        let answer = answer_of(engine, cmd.command(), &out.outcomes[i], out.stream_versions[i]).await;
        // A client that went away meanwhile has no one to answer.
        let _ = reply.send(answer);
    }
}

/// Whether a batch of `cmd` alone failed with `cmd`'s own error, the one `execute` gives it:
/// a conflict on its complaint that persisted through the engine's retries, or bad input.
fn own_error(e: &EngineError, cmd: &Command) -> bool {
    match e {
        EngineError::Contended { complaint, .. } => *complaint == cmd.complaint_id,
        EngineError::BadInput { .. } => true,
        _ => false,
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

/// Executes each command on its own, in order, answering each on its reply (what was prepared
/// is dropped: `execute` decides the command as it is).
async fn one_by_one(engine: &Engine, lists: &mut Lists) {
    let Lists { cmds, replies } = lists;
    assert_eq!(cmds.len(), replies.len(), "a reply per command");
    for (cmd, reply) in cmds.drain(..).zip(replies.drain(..)) {
        let answer = engine
            .execute(cmd.into_command())
            .await
            .map(|done| Done::of_executed(&done));
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
pub(crate) mod tests {
    use super::*;
    use plaint::{EngineConfig, EventData};

    /// The task of a group commit with a bug: the first commit panics.
    pub(crate) async fn panics_at_once(_: Arc<Engine>, mut jobs: mpsc::Receiver<Job>) {
        let _job = jobs.recv().await;
        panic!("a bug inside a commit (a test's)");
    }

    /// A receive of a new customer.
    pub(crate) fn a_receive() -> Command {
        serde_json::from_str(
            r#"{"command_id": "c-1", "complaint_id": "CMP-1", "actor": "cs-014", "command": "receive",
                "channel": "hotline", "region": "杭州", "description": "包裹破损",
                "customer": {"name": "陈静", "phone": "13800138000"}}"#,
        )
        .unwrap()
    }

    /// Review of wave 12: a group commit whose task ended (a panic in a commit) can be seen
    /// from outside (the probes and the server's stop ask `stopped`).
    #[tokio::test]
    async fn a_group_commit_that_panicked_is_seen_stopped() {
        let dir = tempfile::tempdir().unwrap();
        let engine = Arc::new(Engine::open(EngineConfig::file(dir.path())).await.unwrap());
        let grouper = Grouper::start_with(engine, panics_at_once);
        assert!(!grouper.stopped());
        assert!(matches!(grouper.execute(a_receive()).await, Err(Failed::Lost)));
        tokio::time::timeout(std::time::Duration::from_secs(60), grouper.until_stopped())
            .await
            .expect("the task ended");
        assert!(grouper.stopped());
    }

    /// A lone command's own failure is its answer; a store's failure is retried one by one.
    #[test]
    fn a_group_of_one_answers_its_own_error_at_once() {
        let cmd = a_receive();
        let contended = |c: &str| EngineError::Contended {
            complaint: ComplaintId::new(c).unwrap(),
            attempts: 9,
        };
        assert!(own_error(&contended("CMP-1"), &cmd));
        assert!(!own_error(&contended("CMP-2"), &cmd));
        let bad = EngineError::BadInput {
            what: "command".into(),
            reason: "test".into(),
        };
        assert!(own_error(&bad, &cmd));
        let store = EngineError::Io {
            path: "/tmp/test".into(),
            source: std::io::Error::other("test"),
        };
        assert!(!own_error(&store, &cmd));
    }

    /// Issue 15, wave 12: a lone request (a group of one) used to run `Engine::execute` of its
    /// command, dropping what was prepared. Now it takes the group's prepared path: a receive
    /// of a new customer is sealed under the key proposed at its preparation (`execute` would
    /// have drawn another), and answered as `execute` answers it.
    #[tokio::test]
    async fn a_group_of_one_uses_what_was_prepared() {
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::open(EngineConfig::file(dir.path())).await.unwrap();
        let prepared = engine.prepare(a_receive());
        let proposed = prepared
            .proposed_key_id()
            .expect("a new customer's key is proposed")
            .to_owned();
        let (reply, answer) = oneshot::channel();
        let mut lists = Lists {
            cmds: vec![prepared],
            replies: vec![reply],
        };
        decide_and_answer(&engine, &mut lists).await;
        assert!(
            lists.cmds.is_empty() && lists.replies.is_empty(),
            "the lists are left empty"
        );
        let done = answer.await.unwrap().unwrap();
        assert_eq!((done.deduplicated, done.stream_version), (false, 1));
        let history = engine.history(&ComplaintId::new("CMP-1").unwrap()).await.unwrap();
        assert_eq!(
            done.positions,
            history.iter().map(|e| e.meta.position).collect::<Vec<_>>()
        );
        let EventData::Received(received) = &history[0].data else {
            panic!("a receive records Received first");
        };
        let sealed = received.customer.personal.as_ref().expect("sealed personal fields");
        assert_eq!(sealed.key_id, proposed);
    }
}

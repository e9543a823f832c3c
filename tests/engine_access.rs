//! Access control through the facade (docs/serve.md "Roles and tokens"): tokens are events in
//! the log holding only a hash, authenticate until revoked, and every reveal of personal data
//! is recorded before anything is shown; refusals write nothing.

use plaint::access::{RevealRequest, Role, REVEAL_STREAM, TOKEN_STREAM};
use plaint::domain::{Actor, Command, ComplaintId};
use plaint::{Engine, EngineConfig, EventData, PersonalFields, Reveal};
use serde_json::json;

fn receive() -> Command {
    serde_json::from_value(json!({
        "command_id": "c-1", "complaint_id": "CMP-2026-000001", "actor": "cs-002",
        "command": "receive", "channel": "hotline", "region": "上海",
        "description": "快件破损，要求赔偿",
        "customer": {"name": "司马懿", "phone": "13800138000"}
    }))
    .unwrap()
}

fn admin() -> Actor {
    Actor::person("it-admin").unwrap()
}

#[tokio::test]
async fn tokens_are_hashed_events_that_authenticate_until_revoked() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(EngineConfig::file(dir.path())).await.unwrap();
    let made = engine
        .create_token("hotline-desk", Role::Intake, &admin())
        .await
        .unwrap();
    assert!(made.token.starts_with("plaint_"), "{}", made.token);
    assert_eq!(made.record.role, Role::Intake);
    assert_eq!(made.record.issued_by, admin());

    // The log holds the hash, never the token.
    let events = engine.audit(&Default::default()).await.unwrap();
    let issued: Vec<_> = events
        .iter()
        .filter(|e| e.meta.complaint_id.as_str() == TOKEN_STREAM)
        .collect();
    assert_eq!(issued.len(), 1);
    let EventData::TokenIssued(t) = &issued[0].data else {
        panic!("{:?}", issued[0].data)
    };
    assert_eq!(t.hash, plaint::access::token_hash(&made.token));
    let log_bytes = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .filter(|f| f.path().is_file())
        .map(|f| std::fs::read(f.path()).unwrap())
        .collect::<Vec<_>>()
        .concat();
    let secret = made.token.rsplit('_').next().unwrap();
    assert!(!log_bytes.windows(secret.len()).any(|w| w == secret.as_bytes()));

    let table = engine.tokens().await.unwrap();
    assert_eq!(table.authenticate(&made.token).unwrap().name, "hotline-desk");

    // The same name twice while live: refused, nothing written.
    let head = engine.head_position().await.unwrap();
    let err = engine
        .create_token("hotline-desk", Role::Handler, &admin())
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("a live token named \"hotline-desk\" exists already"),
        "{err}"
    );
    assert_eq!(engine.head_position().await.unwrap(), head);

    let revoked = engine
        .revoke_token("hotline-desk", "desk replaced", &admin())
        .await
        .unwrap();
    assert!(revoked.revoked_at.is_some());
    assert!(engine.tokens().await.unwrap().authenticate(&made.token).is_none());
    // A server's table catches up with a revocation made elsewhere.
    let mut stale = table;
    engine.refresh_tokens(&mut stale).await.unwrap();
    assert!(stale.authenticate(&made.token).is_none());
    // The name is free again; the old token stays dead.
    engine
        .create_token("hotline-desk", Role::Intake, &admin())
        .await
        .unwrap();
    assert!(engine.tokens().await.unwrap().authenticate(&made.token).is_none());

    // Tokens change no complaint figure.
    assert_eq!(engine.stats().await.unwrap().streams, 0, "no complaint counted");
    assert!(engine.verify().await.is_ok());
    engine.close().await.unwrap();
}

#[tokio::test]
async fn a_reveal_is_recorded_before_it_is_shown_and_refusals_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(EngineConfig::file(dir.path())).await.unwrap();
    engine.execute(receive()).await.unwrap();
    let id = ComplaintId::new("CMP-2026-000001").unwrap();
    let request = |role, reason: &str| RevealRequest {
        actor: Actor::person("auditor-li").unwrap(),
        token_id: "0123456789ab".into(),
        role,
        reason: reason.into(),
    };

    let head = engine.head_position().await.unwrap();
    let err = engine
        .ticket_revealed(&id, &request(Role::Analyst, "curious"))
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid reveal: role analyst may not reveal personal data"
    );
    let err = engine
        .ticket_revealed(&id, &request(Role::Auditor, "  "))
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("a reason of 1 to 500 bytes is required"),
        "{err}"
    );
    let unknown = ComplaintId::new("CMP-2026-999999").unwrap();
    let err = engine
        .ticket_revealed(&unknown, &request(Role::Auditor, "PIPL request 9"))
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "complaint CMP-2026-999999 does not exist");
    assert_eq!(engine.head_position().await.unwrap(), head, "refusals wrote nothing");

    let ticket = engine
        .ticket_revealed(&id, &request(Role::Auditor, "PIPL request 9"))
        .await
        .unwrap();
    let PersonalFields::Clear { name, .. } = &ticket.personal else {
        panic!("{:?}", ticket.personal)
    };
    assert_eq!(name.as_deref(), Some("司马懿"));
    // Masked reads stay masked and record nothing.
    engine.ticket(&id, Reveal::Masked).await.unwrap();

    let reveals: Vec<_> = engine
        .audit(&Default::default())
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.meta.complaint_id.as_str() == REVEAL_STREAM)
        .collect();
    assert_eq!(reveals.len(), 1);
    assert_eq!(reveals[0].meta.actor.as_str(), "auditor-li");
    let EventData::PersonalDataRevealed(r) = &reveals[0].data else {
        panic!()
    };
    assert_eq!(
        (r.complaint_id.as_str(), r.role, r.reason.as_str()),
        ("CMP-2026-000001", Role::Auditor, "PIPL request 9")
    );
    // The ticket's own history is unchanged by the reveal.
    assert_eq!(engine.history(&id).await.unwrap().len(), 1);
    engine.close().await.unwrap();
}

/// Issue 15: the token, reveal and erasure streams are no complaints. `Engine::execute` and
/// `execute_batch` refuse a command addressed to one before reading it (a command id taken from
/// the token stream gets no "deduplicated" answer carrying its events), and nothing is written.
#[tokio::test]
async fn commands_addressed_to_system_streams_are_refused_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(EngineConfig::file(dir.path())).await.unwrap();
    let made = engine
        .create_token("hotline-desk", Role::Intake, &admin())
        .await
        .unwrap();
    let head = engine.head_position().await.unwrap();
    for stream in plaint::domain::RESERVED_STREAMS {
        for command_id in ["c-1".to_owned(), format!("token-issue-{}", made.record.token_id)] {
            let mut cmd = receive();
            cmd.complaint_id = ComplaintId::new(stream).unwrap();
            cmd.command_id = plaint::domain::CommandId::new(command_id.as_str()).unwrap();
            let err = engine.execute(cmd.clone()).await.unwrap_err();
            let plaint::EngineError::Rejected(rejection) = &err else {
                panic!("{stream} {command_id}: expected a rejection, got {err:?}")
            };
            assert!(
                matches!(
                    rejection,
                    plaint::Rejection::Invalid {
                        field: "complaint_id",
                        ..
                    }
                ),
                "{rejection:?}"
            );
            assert!(err.to_string().contains("reserved system stream"), "{err}");
            let batch = engine.execute_batch(vec![cmd, receive()]).await.unwrap();
            assert!(
                matches!(batch.outcomes[0], plaint::CommandOutcome::Rejected { .. }),
                "{:?}",
                batch.outcomes
            );
        }
    }
    // Only the ordinary command of the first batch was written; the token stream is untouched.
    assert_eq!(engine.head_position().await.unwrap(), head + 1);
    assert_eq!(engine.tokens().await.unwrap().tokens().count(), 1);
    assert_eq!(
        engine
            .history(&ComplaintId::new(TOKEN_STREAM).unwrap())
            .await
            .unwrap()
            .len(),
        1
    );
}

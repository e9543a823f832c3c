//! The engine's side of access control (docs/serve.md "Roles and tokens"): API tokens and the
//! audit record of reveals, both events in the log decided by `plaint_domain::access`. The
//! engine draws the random secret and reads the clock; the domain decides.

use super::*;
use plaint_domain::access::{
    decide_reveal, token_hash, token_text, Role, TokenRecord, TokenTable, REVEAL_STREAM, TOKEN_ID_LEN,
    TOKEN_SECRET_LEN, TOKEN_STREAM,
};
use plaint_domain::codec;
use plaint_domain::EventMeta;

/// A token just created: the text is shown once and never stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewToken {
    /// The whole token, `plaint_<id>_<secret>`: give it to the client; it cannot be shown again.
    pub token: String,
    /// What the log records about it.
    pub record: TokenRecord,
    /// Where the issue was recorded.
    pub position: u64,
}

/// Who reveals personal data, under which token and role, and why (all recorded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevealRequest {
    /// Who (the token's name or a person): the audit event's actor.
    pub actor: Actor,
    /// The token the request came with (empty without one).
    pub token_id: String,
    /// The role it is revealed under.
    pub role: Role,
    /// Why.
    pub reason: String,
}

fn refused(what: &str, e: impl std::fmt::Display) -> EngineError {
    EngineError::bad_input(what, e.to_string())
}

impl Engine {
    /// Every token issued and revoked, folded from the log's token stream.
    pub async fn tokens(&self) -> Result<TokenTable, EngineError> {
        let mut table = TokenTable::default();
        self.refresh_tokens(&mut table).await?;
        Ok(table)
    }

    /// Folds the token events appended since `table` was last read (a server keeps its table
    /// and calls this to see tokens created or revoked by another process).
    pub async fn refresh_tokens(&self, table: &mut TokenTable) -> Result<(), EngineError> {
        loop {
            let batch = self
                .store
                .read_stream(TOKEN_STREAM, table.version() + 1, READ_BATCH)
                .await?;
            let n = batch.len();
            for r in batch {
                table.apply(&plaint_projections::envelope::from_recorded_owned(r)?);
            }
            if n < READ_BATCH {
                return Ok(());
            }
        }
    }

    /// Creates an API token named `name` with `role`, issued `by` someone: draws 256 random
    /// bits, records only their hash, and returns the token text (shown once).
    pub async fn create_token(&self, name: &str, role: Role, by: &Actor) -> Result<NewToken, EngineError> {
        self.create_token_limited(name, role, None, by).await
    }

    /// [`Engine::create_token`] with the token's own request rate limit recorded in its
    /// `TokenIssued` event (`None`: the server's default for its role; docs/serve.md).
    pub async fn create_token_limited(
        &self,
        name: &str,
        role: Role,
        rate_limit: Option<plaint_domain::access::RateLimit>,
        by: &Actor,
    ) -> Result<NewToken, EngineError> {
        // Drawn before any await: the thread's generator stays on its thread (the future is
        // `Send`, so a server can create tokens from a request).
        let (token_id, token) = {
            use rand::Rng;
            let mut rng = rand::rng();
            let mut hex = |n: usize| -> String { (0..n / 2).map(|_| format!("{:02x}", rng.random::<u8>())).collect() };
            let token_id = hex(TOKEN_ID_LEN);
            let token = token_text(&token_id, &hex(TOKEN_SECRET_LEN));
            (token_id, token)
        };
        let table = self.tokens().await?;
        let mut issued = table
            .decide_issue(&token_id, name, role, &token_hash(&token))
            .map_err(|e| refused("token", e))?;
        issued.rate_limit = rate_limit;
        let command_id = format!("token-issue-{token_id}");
        let position = self
            .append_access(
                TOKEN_STREAM,
                ExpectedVersion::Exact(table.version()),
                by,
                &command_id,
                EventData::TokenIssued(issued),
            )
            .await?;
        let mut table = table;
        self.refresh_tokens(&mut table).await?;
        let record = table
            .tokens()
            .find(|t| t.token_id == token_id)
            .cloned()
            .ok_or_else(|| refused("token", format!("token {token_id} was appended but does not read back")))?;
        Ok(NewToken {
            token,
            record,
            position,
        })
    }

    /// Revokes the live token with this id or name; from the next refresh on it authenticates
    /// nothing.
    pub async fn revoke_token(&self, id_or_name: &str, reason: &str, by: &Actor) -> Result<TokenRecord, EngineError> {
        let mut table = self.tokens().await?;
        let revoked = table
            .decide_revoke(id_or_name, reason)
            .map_err(|e| refused("token revocation", e))?;
        let command_id = format!("token-revoke-{}", revoked.token_id);
        let token_id = revoked.token_id.clone();
        self.append_access(
            TOKEN_STREAM,
            ExpectedVersion::Exact(table.version()),
            by,
            &command_id,
            EventData::TokenRevoked(revoked),
        )
        .await?;
        self.refresh_tokens(&mut table).await?;
        let record = table.tokens().find(|t| t.token_id == token_id).cloned();
        record.ok_or_else(|| refused("token", format!("token {token_id} does not read back")))
    }

    /// Records that `request.actor` sees the personal fields of `complaint` in clear, and why
    /// (docs/domain.md, access control): the audit event is durable before anything is shown.
    /// Returns its position. Refused for a role without the right, without a reason, or for a
    /// complaint that does not exist.
    pub async fn record_reveal(&self, complaint: &ComplaintId, request: &RevealRequest) -> Result<u64, EngineError> {
        let event = decide_reveal(request.role, &request.token_id, complaint, &request.reason)
            .map_err(|e| refused("reveal", e))?;
        if self.store.stream_version(complaint.as_str()).await? == 0 {
            return Err(EngineError::UnknownComplaint {
                complaint: complaint.clone(),
            });
        }
        let now = self.now();
        let mut h = blake3::Hasher::new();
        h.update(&now.as_millis().to_le_bytes());
        h.update(request.actor.as_str().as_bytes());
        h.update(b"\n");
        h.update(complaint.as_str().as_bytes());
        h.update(b"\n");
        h.update(request.reason.as_bytes());
        let command_id = format!("reveal-{}", &h.finalize().to_hex()[..32]);
        self.append_access(
            REVEAL_STREAM,
            ExpectedVersion::Any,
            &request.actor,
            &command_id,
            EventData::PersonalDataRevealed(event),
        )
        .await
    }

    /// A ticket with its personal fields in clear, after recording the reveal
    /// ([`Engine::record_reveal`]).
    pub async fn ticket_revealed(&self, id: &ComplaintId, request: &RevealRequest) -> Result<Ticket, EngineError> {
        self.record_reveal(id, request).await?;
        self.ticket(id, Reveal::Clear).await
    }

    async fn append_access(
        &self,
        stream: &str,
        expected: ExpectedVersion,
        actor: &Actor,
        command_id: &str,
        data: EventData,
    ) -> Result<u64, EngineError> {
        let now = self.now();
        let event = Event {
            meta: EventMeta {
                complaint_id: ComplaintId::new(stream).map_err(|e| refused("access stream", e))?,
                stream_version: 0,
                position: 0,
                occurred_at: now,
                recorded_at: now,
                actor: actor.clone(),
                command_id: CommandId::new(command_id).map_err(|e| refused("access command id", e))?,
                schema_version: codec::schema_version(data.type_name()).unwrap_or(1),
                command_digest: None,
            },
            data,
        };
        let r = self
            .store
            .append(
                stream,
                expected,
                vec![plaint_projections::envelope::to_new_event(&event)],
            )
            .await
            .map_err(|e| match e {
                StoreError::Conflict { .. } => refused(
                    "token",
                    format!("the token list changed while this change was decided ({e}); run it again"),
                ),
                e => e.into(),
            })?;
        Ok(r.first_position)
    }
}

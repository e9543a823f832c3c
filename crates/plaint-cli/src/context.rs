//! What every subcommand shares: the global options, where the store is, the clock.
//!
//! The wall clock is read here and nowhere else: every library call takes `now` as an argument.

use crate::error::{user, user_hint};
use anyhow::Context as _;
use clap::Args;
use plaint::{BusinessZone, Timestamp};
use std::path::{Path, PathBuf};

/// Options every subcommand accepts.
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Directory of the embedded file log.
    #[arg(
        long,
        global = true,
        env = "PLAINT_STORE",
        default_value = "./plaint-data",
        value_name = "DIR"
    )]
    pub store: PathBuf,
    /// PostgreSQL URL (postgres://user:pass@host:port/db); when set, the log lives there and
    /// --store holds only the customer keys and projection checkpoints.
    #[arg(
        long,
        global = true,
        env = "PLAINT_DATABASE_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    pub pg: Option<String>,
    /// PostgreSQL schema holding plaint's tables (several logs can share one database).
    #[arg(
        long,
        global = true,
        env = "PLAINT_PG_SCHEMA",
        value_name = "NAME",
        default_value = "plaint"
    )]
    pub pg_schema: String,
    /// PostgreSQL URL of a replica (hot standby) of the --pg database: reports, projections,
    /// audits and exports read from it (the lag is shown on stderr); commands still go to --pg.
    #[arg(
        long,
        global = true,
        env = "PLAINT_PG_READ_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    pub pg_read: Option<String>,
    /// Show instants in this time zone instead of the office's (an IANA name like
    /// America/New_York, or an offset like +08:00); dates on the command line are read in it.
    #[arg(
        long,
        global = true,
        env = "PLAINT_TZ",
        value_name = "ZONE",
        value_parser = parse_zone,
        conflicts_with = "utc"
    )]
    pub tz: Option<BusinessZone>,
    /// Show instants in UTC (same as --tz UTC).
    #[arg(long, global = true)]
    pub utc: bool,
}

/// `--tz`: an IANA zone, `UTC`, or an offset.
pub fn parse_zone(text: &str) -> Result<BusinessZone, String> {
    BusinessZone::parse(text)
}

/// The zone `--tz`/`--utc` (or PLAINT_TZ) name, found before clap parses, so that
/// [`parse_instant`] reads bare dates in it while the arguments are being parsed. clap parses
/// the same flags again and reports any mistake in them.
static ZONE_OVERRIDE: std::sync::OnceLock<Option<BusinessZone>> = std::sync::OnceLock::new();

/// Records the `--tz`/`--utc` override of the command line `args` (the program name first);
/// called once by `main` before parsing.
pub fn preset_zone(args: &[std::ffi::OsString]) {
    let mut zone = std::env::var("PLAINT_TZ")
        .ok()
        .filter(|v| !v.is_empty())
        .and_then(|v| BusinessZone::parse(&v).ok());
    let mut iter = args.iter().skip(1).map(|a| a.to_string_lossy().into_owned());
    while let Some(arg) = iter.next() {
        if arg == "--" {
            break;
        }
        if arg == "--utc" {
            zone = Some(BusinessZone::UTC);
        } else if arg == "--tz" {
            zone = iter.next().and_then(|v| BusinessZone::parse(&v).ok()).or(zone);
        } else if let Some(v) = arg.strip_prefix("--tz=") {
            zone = BusinessZone::parse(v).ok().or(zone);
        }
    }
    let _ = ZONE_OVERRIDE.set(zone);
}

/// The office's time zone: the business calendar's (Asia/Shanghai by default).
pub fn office_zone() -> BusinessZone {
    static OFFICE: std::sync::OnceLock<BusinessZone> = std::sync::OnceLock::new();
    *OFFICE.get_or_init(|| business_calendar().time_zone())
}

/// The time zone every instant a person reads is shown in, and bare dates are read in:
/// `--tz`/`--utc` when given, else the office's.
pub fn zone() -> BusinessZone {
    ZONE_OVERRIDE.get().copied().flatten().unwrap_or_else(office_zone)
}

/// An instant as a person reads it: RFC 3339 in [`zone`], with the offset in effect then
/// (`2026-09-14T08:30:00+08:00`).
pub fn show(t: Timestamp) -> String {
    zone().rfc3339(t)
}

/// Where a log lives: `plaint copy` names two of these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreLocation {
    /// The embedded file log in this directory.
    File(PathBuf),
    /// A PostgreSQL database.
    Pg(String),
}

impl StoreLocation {
    /// `postgres://…` or `postgresql://…` is a database; anything else is a directory.
    pub fn parse(text: &str) -> StoreLocation {
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            StoreLocation::Pg(text.to_owned())
        } else {
            StoreLocation::File(PathBuf::from(text))
        }
    }

    /// How to name it in messages: the directory, or the URL without its password.
    pub fn describe(&self) -> String {
        match self {
            StoreLocation::File(dir) => format!("file log {}", dir.display()),
            StoreLocation::Pg(url) => format!("PostgreSQL {}", redact_url(url)),
        }
    }
}

/// The URL with any password replaced by `***`, for messages.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some((userinfo, host)) = rest.split_once('@') else {
        return url.to_owned();
    };
    match userinfo.split_once(':') {
        Some((name, _password)) => format!("{scheme}://{name}:***@{host}"),
        None => url.to_owned(),
    }
}

/// Shared state of one invocation.
pub struct Context {
    pub global: GlobalArgs,
}

impl Context {
    pub fn new(global: GlobalArgs) -> Self {
        Context { global }
    }

    /// The store the global options name: --pg when set, else --store.
    pub fn location(&self) -> StoreLocation {
        match &self.global.pg {
            Some(url) if !url.is_empty() => StoreLocation::Pg(url.clone()),
            _ => StoreLocation::File(self.global.store.clone()),
        }
    }

    /// Opens the engine on the store the global options name, with the clock stopped at `now`
    /// when given (else the wall clock). A file log must exist already (`plaint init` or
    /// `plaint demo` create one), so a typo in --store is not a silent new store.
    pub async fn open_engine(&self, now: Option<Timestamp>) -> anyhow::Result<plaint::Engine> {
        open_engine_at(self, &self.location(), now, Access::Write).await
    }

    /// Opens the engine for reading: a file log read-only, without ever taking the writer
    /// lock, so any number of readers and one writer (an import running) coexist.
    pub async fn open_engine_for_read(&self, now: Option<Timestamp>) -> anyhow::Result<plaint::Engine> {
        let engine = open_engine_at(self, &self.location(), now, Access::ReadOnly).await?;
        if let Some(lag) = engine.replica_lag().await.context("reading the replica's lag")? {
            eprintln!("{}", describe_lag(self.global.pg_read.as_deref().unwrap_or(""), &lag));
        }
        Ok(engine)
    }
}

/// One line for stderr: which replica reads come from and how far behind the primary it is.
pub fn describe_lag(url: &str, lag: &plaint::ReplicaLag) -> String {
    let behind = match lag.events_behind {
        0 => "up to date with the primary".to_owned(),
        n => format!("{n} events behind the primary"),
    };
    let role = if lag.in_recovery {
        ""
    } else {
        " (not a standby: it is a primary itself)"
    };
    let age = match lag.last_replay_age_ms {
        Some(ms) => format!(", last replayed transaction {:.1} s old", ms as f64 / 1000.0),
        None => String::new(),
    };
    format!(
        "reading from replica {}{role}: {behind} (head {} of {}){age}",
        redact_url(url),
        lag.replica_head,
        lag.primary_head
    )
}

/// How a store is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Commands may be executed; a missing file-log directory is an error.
    Write,
    /// Commands may be executed; a missing file-log directory is created (`init`, `demo`).
    Create,
    /// Reads only, without the file log's writer lock.
    ReadOnly,
}

/// Opens the engine on `location`, with the clock stopped at `now` when given. The keys and
/// checkpoints of a PostgreSQL store live in the --store directory.
pub async fn open_engine_at(
    ctx: &Context,
    location: &StoreLocation,
    now: Option<Timestamp>,
    access: Access,
) -> anyhow::Result<plaint::Engine> {
    if let StoreLocation::File(dir) = location {
        if access != Access::Create && !dir.exists() {
            return Err(user_hint(
                format!("no store at {}", dir.display()),
                "create one with `plaint init`, run `plaint demo`, or point --store (or PLAINT_STORE) at an existing store",
            ));
        }
    }
    let config = engine_config_for(ctx, location, now, access);
    let engine = plaint::Engine::open(config)
        .await
        .with_context(|| format!("cannot open the {}", location.describe()))?;
    if let Some(note) = engine.vault_migration() {
        // Once per store: its legacy keys/keys.log was imported into the vault.
        eprintln!("note: {note}");
    }
    Ok(engine)
}

/// The facade's configuration for `location` with write access, keys and checkpoints of a
/// PostgreSQL store in `local_dir`, the default schema; defaults otherwise.
pub fn engine_config(location: &StoreLocation, local_dir: &Path, now: Option<Timestamp>) -> plaint::EngineConfig {
    let config = match location {
        StoreLocation::File(dir) => plaint::EngineConfig::file(dir),
        StoreLocation::Pg(url) => plaint::EngineConfig::postgres(url, local_dir),
    };
    match now {
        Some(now) => config.with_clock(plaint::engine::fixed_clock(now)),
        None => config,
    }
}

/// The facade's configuration for `location` as the global options and `access` say.
pub fn engine_config_for(
    ctx: &Context,
    location: &StoreLocation,
    now: Option<Timestamp>,
    access: Access,
) -> plaint::EngineConfig {
    let mut config = match location {
        StoreLocation::File(dir) => plaint::EngineConfig::file(dir),
        StoreLocation::Pg(url) => plaint::EngineConfig::postgres(url, &ctx.global.store),
    };
    match &mut config.store {
        plaint::StoreConfig::File { read_only, .. } => *read_only = access == Access::ReadOnly,
        plaint::StoreConfig::Postgres { schema, .. } => *schema = ctx.global.pg_schema.clone(),
        _ => {}
    }
    // The replica belongs to the store the global options name (a file log refuses it).
    if *location == ctx.location() {
        config.pg_read = ctx.global.pg_read.clone().filter(|url| !url.is_empty());
    }
    match now {
        Some(now) => config.with_clock(plaint::engine::fixed_clock(now)),
        None => config,
    }
}

/// `--now` and friends: RFC 3339 (`2026-11-25T08:00:00Z`, `…+08:00`) or a date (`2026-11-25`:
/// the start of that day in the business time zone, which the business calendar defines, or
/// in the zone `--tz`/`--utc` name).
pub fn parse_instant(text: &str) -> Result<Timestamp, String> {
    if let Ok(ts) = Timestamp::parse_rfc3339(text) {
        return Ok(ts);
    }
    if let Ok(date) = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        let midnight = date.and_hms_opt(0, 0, 0).expect("midnight exists");
        return Ok(zone().instant(midnight));
    }
    Err(format!(
        "{text:?} is not an instant; want RFC 3339 (2026-11-25T08:00:00+08:00) or a date (2026-11-25)"
    ))
}

/// The business calendar every engine the CLI opens decides with (the facade's default): its
/// UTC offset is the business time zone dates on the command line are read in.
pub fn business_calendar() -> plaint::Calendar {
    plaint::EngineConfig::file(PathBuf::new()).calendar
}

/// `now` as given, else the wall clock (read here only).
pub fn now_or_wall_clock(now: Option<Timestamp>) -> Timestamp {
    now.unwrap_or_else(|| Timestamp::from_datetime(chrono::Utc::now()))
}

/// A complaint id from the command line, validated.
pub fn complaint_id(text: &str) -> anyhow::Result<plaint::ComplaintId> {
    plaint::ComplaintId::new(text).map_err(|e| user(format!("bad complaint id: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_locations() {
        assert_eq!(StoreLocation::parse("./data"), StoreLocation::File("./data".into()));
        assert_eq!(
            StoreLocation::parse("postgres://a:b@h/db"),
            StoreLocation::Pg("postgres://a:b@h/db".into())
        );
        assert_eq!(
            redact_url("postgres://a:secret@h:5432/db"),
            "postgres://a:***@h:5432/db"
        );
        assert_eq!(redact_url("postgres://h/db"), "postgres://h/db");
    }

    #[test]
    fn instants() {
        // A date is the start of that day in the business time zone (UTC+8).
        assert_eq!(
            parse_instant("1970-01-02").unwrap().as_millis(),
            86_400_000 - 8 * 3_600_000
        );
        assert_eq!(
            parse_instant("2026-11-25").unwrap(),
            Timestamp::parse_rfc3339("2026-11-25T00:00:00+08:00").unwrap()
        );
        assert_eq!(parse_instant("1970-01-01T08:00:01+08:00").unwrap().as_millis(), 1_000);
        assert!(parse_instant("yesterday").is_err());
    }
}

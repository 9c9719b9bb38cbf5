//! Sealing paused run states, and the checks a state passes before it is
//! resumed (see "Sealed, and resumed once" on [`RunState`]).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;

use super::effects::Effects;
use super::error::InvalidStateKind;
use super::result::PartialRun;
use super::state::{ApprovalDecision, PendingApproval, RUN_STATE_SCHEMA_VERSION, RunState};
use crate::item::Item;
use crate::session::{InMemoryLedger, ResumeLedger, Session};

/// The secret a runner seals paused run states with (HMAC-SHA256).
///
/// A runner without one seals with a random key of its own: its states
/// resume on that runner (and its clones) only. Give every runner that
/// may resume a state, in any process, the same key. `Debug` never shows
/// it.
#[derive(Clone)]
pub struct StateKey {
    bytes: Arc<[u8]>,
}

impl std::fmt::Debug for StateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StateKey([redacted])")
    }
}

/// A secret too short to be a [`StateKey`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a state key needs at least {min} bytes of secret, got {got}")]
pub struct StateKeyError {
    /// The bytes given.
    pub got: usize,
    /// The minimum.
    pub min: usize,
}

impl StateKey {
    /// The fewest bytes a key may have: 32, the output size of SHA-256.
    pub const MIN_LEN: usize = 32;

    /// A key from `secret` (at least [`MIN_LEN`](Self::MIN_LEN) bytes, e.g.
    /// from a secret store).
    ///
    /// # Errors
    /// [`StateKeyError`] when `secret` is shorter.
    pub fn new(secret: impl AsRef<[u8]>) -> Result<Self, StateKeyError> {
        let secret = secret.as_ref();
        if secret.len() < Self::MIN_LEN {
            return Err(StateKeyError {
                got: secret.len(),
                min: Self::MIN_LEN,
            });
        }
        Ok(StateKey {
            bytes: Arc::from(secret),
        })
    }

    /// A random key from the operating system's generator.
    pub fn random() -> Self {
        StateKey {
            bytes: Arc::from(random_bytes::<32>()),
        }
    }

    fn mac(&self) -> Hmac<Sha256> {
        // HMAC takes a key of any length.
        <Hmac<Sha256> as Mac>::new_from_slice(&self.bytes).unwrap_or_else(|_| unreachable!())
    }
}

/// `N` bytes from the operating system's generator. Without one (a
/// sandbox refusing the call), bytes derived from the clock and the process's
/// hasher seeds: still unique, not secret.
fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    if getrandom::fill(&mut bytes).is_err() {
        use std::hash::{BuildHasher, Hasher};
        for chunk in bytes.chunks_mut(8) {
            let mut hasher = std::hash::RandomState::new().build_hasher();
            hasher.write_u128(now_nanos());
            let word = hasher.finish().to_le_bytes();
            chunk.copy_from_slice(&word[..chunk.len()]);
        }
    }
    bytes
}

fn now_nanos() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_nanos())
}

/// `state_` and 32 random hex digits.
pub(super) fn random_state_id() -> Arc<str> {
    Arc::from(format!("state_{}", hex::encode(random_bytes::<16>())))
}

/// `time` in milliseconds since the Unix epoch (0 before it).
fn unix_ms(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map_or(0, |since| {
        u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
    })
}

/// How a runner seals and admits states: its key, its ledger, and what it
/// accepts.
#[derive(Clone)]
pub(crate) struct StateGuard {
    pub(crate) key: StateKey,
    pub(crate) ledger: Arc<dyn ResumeLedger>,
    pub(crate) accept_unsealed: bool,
    pub(crate) approval_max_age: Option<Duration>,
}

impl Default for StateGuard {
    fn default() -> Self {
        StateGuard {
            key: StateKey::random(),
            ledger: Arc::new(InMemoryLedger::new()),
            accept_unsealed: false,
            approval_max_age: None,
        }
    }
}

/// What the seal covers: everything but the answers.
#[derive(Serialize)]
struct Sealed<'a> {
    schema_version: u32,
    run: &'a PartialRun,
    pending_turn: &'a [Arc<Item>],
    pending: &'a [PendingApproval],
    rules: &'a BTreeMap<String, ApprovalDecision>,
    state_id: &'a str,
    paused_at_ms: u64,
    session_id: Option<&'a str>,
}

fn sealed_mac(key: &StateKey, state: &RunState) -> Option<Hmac<Sha256>> {
    let sealed = Sealed {
        schema_version: state.schema_version,
        run: &state.run,
        pending_turn: &state.pending_turn,
        pending: &state.pending,
        rules: &state.rules,
        state_id: &state.state_id,
        paused_at_ms: state.paused_at_ms,
        session_id: state.session_id.as_deref(),
    };
    let bytes = serde_json::to_vec(&sealed).ok()?;
    let mut mac = key.mac();
    mac.update(&bytes);
    Some(mac)
}

impl StateGuard {
    /// Gives `state` its id, the time it paused, its session, and the
    /// seal.
    pub(crate) fn seal(
        &self,
        state: &mut RunState,
        state_id: &str,
        paused_at: SystemTime,
        session_id: Option<&str>,
    ) {
        state.state_id = state_id.to_owned();
        state.paused_at_ms = unix_ms(paused_at);
        state.session_id = session_id.map(str::to_owned);
        state.seal =
            sealed_mac(&self.key, state).map(|mac| hex::encode(mac.finalize().into_bytes()));
    }

    /// The checks of a state about to be resumed, in order, cheapest
    /// first; the ledger last, so a refused state is not used up.
    pub(crate) async fn admit<Ctx>(
        &self,
        state: &RunState,
        session: Option<&dyn Session>,
        effects: &dyn Effects<Ctx>,
    ) -> Result<(), (InvalidStateKind, String)> {
        if state.schema_version > RUN_STATE_SCHEMA_VERSION {
            return Err((
                InvalidStateKind::Version,
                format!(
                    "the state has schema version {}, this release reads up to {RUN_STATE_SCHEMA_VERSION}",
                    state.schema_version
                ),
            ));
        }
        if state.authorises() {
            self.check_seal(state)?;
        }
        check_answers(state)?;
        self.check_age(state, effects.now())?;
        check_session(state, session, effects).await?;
        if !state.pending.is_empty() {
            let first = self
                .ledger
                .consume(&state.state_id)
                .await
                .map_err(|error| (InvalidStateKind::Ledger, error.to_string()))?;
            if !first {
                return Err((
                    InvalidStateKind::Replayed,
                    format!("the state `{}` was resumed before", state.state_id),
                ));
            }
        }
        Ok(())
    }

    fn check_seal(&self, state: &RunState) -> Result<(), (InvalidStateKind, String)> {
        let Some(seal) = &state.seal else {
            if self.accept_unsealed {
                return Ok(());
            }
            return Err((
                InvalidStateKind::Unsealed,
                "the state has pending calls or rules but no seal".to_owned(),
            ));
        };
        let verified = hex::decode(seal)
            .ok()
            .zip(sealed_mac(&self.key, state))
            .is_some_and(|(tag, mac)| mac.verify_slice(&tag).is_ok());
        match verified {
            true => Ok(()),
            false => Err((
                InvalidStateKind::Seal,
                "the seal does not verify: the state was changed, or sealed with another key"
                    .to_owned(),
            )),
        }
    }

    fn check_age(
        &self,
        state: &RunState,
        now: SystemTime,
    ) -> Result<(), (InvalidStateKind, String)> {
        let (Some(max_age), false) = (self.approval_max_age, state.pending.is_empty()) else {
            return Ok(());
        };
        let now_ms = unix_ms(now);
        let age = Duration::from_millis(now_ms.saturating_sub(state.paused_at_ms));
        if age > max_age {
            return Err((
                InvalidStateKind::Expired,
                format!(
                    "the approval was asked {}s ago, longer than the {}s allowed",
                    age.as_secs(),
                    max_age.as_secs()
                ),
            ));
        }
        Ok(())
    }
}

/// Every answer is for a pending call (or its tool), and every pending call
/// is a call of the paused turn.
fn check_answers(state: &RunState) -> Result<(), (InvalidStateKind, String)> {
    let answer =
        |error: super::state::ApprovalError| (InvalidStateKind::UnknownCall, error.to_string());
    for call_id in state.decisions.keys() {
        state.pending_call(call_id.clone()).map_err(answer)?;
    }
    for tool in state.always.keys() {
        state.pending_tool(tool.clone()).map_err(answer)?;
    }
    for pending in &state.pending {
        let in_turn = state.pending_turn.iter().any(|item| match &**item {
            Item::ToolCall(call) => {
                call.call_id == pending.call_id
                    && call.name == pending.tool
                    && call.arguments == pending.arguments
            }
            _ => false,
        });
        if !in_turn {
            return Err((
                InvalidStateKind::UnknownCall,
                format!(
                    "the pending call `{}` is not a call of the paused turn",
                    pending.call_id
                ),
            ));
        }
    }
    Ok(())
}

/// The run has the session it paused with, and no pending call has an
/// output in it.
async fn check_session<Ctx>(
    state: &RunState,
    session: Option<&dyn Session>,
    effects: &dyn Effects<Ctx>,
) -> Result<(), (InvalidStateKind, String)> {
    let mismatch = |message: String| Err((InvalidStateKind::Session, message));
    let session = match (state.session_id.as_deref(), session) {
        (None, None) => return Ok(()),
        (Some(paused), None) => {
            return mismatch(format!(
                "the run paused with the session `{paused}`; resume it with that session"
            ));
        }
        (None, Some(given)) if state.authorises() => {
            return mismatch(format!(
                "the run paused without a session; resume it without one (given `{}`)",
                given.session_id()
            ));
        }
        (None, Some(_)) => return Ok(()),
        (Some(paused), Some(given)) if paused != given.session_id() => {
            return mismatch(format!(
                "the run paused with the session `{paused}`, not `{}`",
                given.session_id()
            ));
        }
        (Some(_), Some(given)) => given,
    };
    if state.pending.is_empty() {
        return Ok(());
    }
    let history = effects
        .load_session(session, None)
        .await
        .map_err(|error| (InvalidStateKind::Session, error.to_string()))?;
    let ran = history.items.iter().find_map(|item| match &**item {
        Item::ToolOutput(output) if state.pending.iter().any(|p| p.call_id == output.call_id) => {
            Some(output.call_id.clone())
        }
        _ => None,
    });
    match ran {
        Some(call_id) => Err((
            InvalidStateKind::Replayed,
            format!("the session already holds the output of the pending call `{call_id}`"),
        )),
        None => Ok(()),
    }
}

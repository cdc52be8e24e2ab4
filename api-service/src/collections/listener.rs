//! The connection that LISTENs for collection changes, and the notifications it receives.
//!
//! Payloads are JSON `{"model", "op", "ids"}` from the database triggers (ops `faces`,
//! `subjects`, `subject_faces`, `reload`, `clear`, `drop`), `{"model", "op": "sync", "origin", "token"}`
//! from [`Collections::settle`](super::Collections::settle), or `{"op": "mark", "xmin"}` from
//! any replica's mark task (see the module above). The connection has a pool of its own, so it
//! never competes with requests for a connection. When it is lost it is made again, with growing
//! pauses while the database is away, and the collections catch up on what was missed
//! (`Inner::recover`).

use std::sync::Weak;
use std::time::Duration;

use serde::Deserialize;
use uuid::Uuid;
use visage_store::changes::{ChangeListener, Heard};
use visage_store::{Store, StoreError};

use super::{Change, Inner};

/// Pauses between attempts to reconnect: doubling from the first to the last.
const FIRST_PAUSE: Duration = Duration::from_millis(100);
const LONGEST_PAUSE: Duration = Duration::from_secs(5);

/// What a notification asks for.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Notice {
    Change(Change),
    /// The service was deleted.
    Dropped,
    /// Every transaction below this xmin has been heard of.
    Mark(String),
}

#[derive(Deserialize)]
struct Payload {
    #[serde(default)]
    model: Uuid,
    op: String,
    #[serde(default)]
    ids: Vec<Uuid>,
    origin: Option<Uuid>,
    token: Option<u64>,
    xmin: Option<String>,
}

/// A connection listening on [`CHANNEL`](super::CHANNEL), on a one-connection pool of its own.
pub(super) async fn connect(store: &Store) -> Result<ChangeListener, StoreError> {
    store.listen_collections().await
}

/// Receives notifications until the collections are dropped.
pub(super) async fn run(inner: Weak<Inner>, listener: ChangeListener) {
    let mut listener = Some(listener);
    loop {
        let Some(connection) = listener.as_mut() else {
            return;
        };
        match connection.recv().await {
            Ok(Heard::Payload(payload)) => match inner.upgrade() {
                Some(inner) => inner.dispatch(&payload),
                None => return,
            },
            // The connection is back already; what was sent meanwhile is lost.
            Ok(Heard::Reconnected) => {
                tracing::warn!("the connection listening for collection changes was lost and is back");
                match inner.upgrade() {
                    Some(inner) => inner.recover().await,
                    None => return,
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "the connection listening for collection changes failed");
                // Let the broken connection go before making the next one.
                drop(listener.take());
                let mut pause = FIRST_PAUSE;
                loop {
                    tokio::time::sleep(pause).await;
                    let Some(strong) = inner.upgrade() else {
                        return;
                    };
                    match connect(&strong.store).await {
                        Ok(connection) => {
                            listener = Some(connection);
                            strong.recover().await;
                            break;
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "cannot listen for collection changes yet")
                        }
                    }
                    pause = (pause * 2).min(LONGEST_PAUSE);
                }
            }
        }
    }
}

/// The service and what a payload asks of it; `None` for a payload that does not parse (logged)
/// and for other processes' `sync` notifications.
pub(super) fn parse(payload: &str, origin: Uuid) -> Option<(Uuid, Notice)> {
    let payload: Payload = match serde_json::from_str(payload) {
        Ok(p) => p,
        Err(e) => {
            tracing::warn!(error = %e, payload, "unreadable collection notification");
            return None;
        }
    };
    match payload.op.as_str() {
        "mark" => return payload.xmin.map(|xmin| (payload.model, Notice::Mark(xmin))),
        "sync" if payload.origin == Some(origin) => {
            return Some((payload.model, Notice::Change(Change::Sync(payload.token?))))
        }
        "sync" => return None,
        _ => {}
    }
    notice(&payload.op, payload.ids).map(|notice| (payload.model, notice))
}

/// What a trigger's change (notified, or read back from the change log) asks for; `None` for an
/// op this version does not know (logged).
pub(super) fn notice(op: &str, ids: Vec<Uuid>) -> Option<Notice> {
    let change = match op {
        "faces" => Change::Faces(ids),
        "subjects" => Change::Subjects(ids),
        "subject_faces" => Change::SubjectFaces(ids),
        "reload" => Change::Reload,
        "clear" => Change::Clear,
        "drop" => return Some(Notice::Dropped),
        other => {
            tracing::warn!(op = other, "unknown collection notification");
            return None;
        }
    };
    Some(Notice::Change(change))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_triggers_payloads() {
        let me = Uuid::from_u128(7);
        let model = Uuid::from_u128(1);
        // As json_build_object writes them.
        let faces = r#"{"model" : "00000000-0000-0000-0000-000000000001", "op" : "faces", "ids" : ["00000000-0000-0000-0000-000000000002"]}"#;
        assert_eq!(parse(faces, me), Some((model, Notice::Change(Change::Faces(vec![Uuid::from_u128(2)])))));
        let reload = r#"{"model" : "00000000-0000-0000-0000-000000000001", "op" : "reload", "ids" : []}"#;
        assert_eq!(parse(reload, me), Some((model, Notice::Change(Change::Reload))));
        let cleared = r#"{"model" : "00000000-0000-0000-0000-000000000001", "op" : "clear", "ids" : []}"#;
        assert_eq!(parse(cleared, me), Some((model, Notice::Change(Change::Clear))));
        let dropped = r#"{"model" : "00000000-0000-0000-0000-000000000001", "op" : "drop", "ids" : []}"#;
        assert_eq!(parse(dropped, me), Some((model, Notice::Dropped)));
        assert_eq!(parse("not json", me), None);
        let mark = r#"{"op" : "mark", "xmin" : "7301"}"#;
        assert_eq!(parse(mark, me), Some((Uuid::nil(), Notice::Mark("7301".to_string()))));
        assert_eq!(parse(r#"{"model":"00000000-0000-0000-0000-000000000001","op":"what"}"#, me), None);
    }

    #[test]
    fn only_our_own_syncs_count() {
        let sync = |origin: u128| {
            format!(
                r#"{{"model":"00000000-0000-0000-0000-000000000001","op":"sync","origin":"{}","token":5}}"#,
                Uuid::from_u128(origin)
            )
        };
        let me = Uuid::from_u128(7);
        assert_eq!(parse(&sync(7), me), Some((Uuid::from_u128(1), Notice::Change(Change::Sync(5)))));
        assert_eq!(parse(&sync(8), me), None);
    }
}

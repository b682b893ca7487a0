//! Mastery events and the learner's record.
//!
//! Each learner × competency has an ordered list of `tessera_review::MasteryEvent`s
//! (`mastery_events`, `seq` 1, 2, …). A change is made inside a write transaction: the events
//! so far are folded into a `MasteryRecord`, the new event is applied through the state machine
//! (an invalid transition is refused with `Error::InvalidTransition`, naming from and to), and
//! only then is it inserted, with an audit entry, in the same transaction. The primary key on
//! `(learner, competency, seq)` makes two racing changes collide instead of both applying.
//!
//! [`Store::learner_record`] reads a learner's events in one query and folds them with
//! `LearnerRecord::fold`.

use chrono::{DateTime, Utc};
use tessera_review::{EventKind, LearnerRecord, MasteryEvent};

use crate::{Store, StoreError, read};

/// Turns stored JSON back into an event kind, or reports a corrupt row.
pub(crate) fn parse_event(json: &str) -> Result<EventKind, StoreError> {
    serde_json::from_str(json).map_err(|e| StoreError::Corrupt(format!("mastery event: {e}")))
}

/// A subject id for the audit chain: `prefix:id`, with anything outside the allowed set
/// replaced (ids here are UUIDs or slugs, so nothing is lost in practice).
pub(crate) fn subject(prefix: &str, id: &str) -> String {
    let clean: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | ':') {
                c
            } else {
                '_'
            }
        })
        .take(100)
        .collect();
    format!("{prefix}:{clean}")
}

/// Loads the events of one learner × competency inside transaction `$tx`; evaluates to
/// `(MasteryRecord, last_seq)`.
macro_rules! load_record {
    ($tx:expr, $learner:expr, $competency:expr) => {{
        let rows: Vec<(i64, DateTime<Utc>, String)> = sqlx::query_as(
            "SELECT seq, at, event FROM mastery_events \
             WHERE learner_id = $1 AND competency_id = $2 ORDER BY seq",
        )
        .bind($learner)
        .bind($competency)
        .fetch_all(&mut *$tx)
        .await?;
        let mut record = tessera_review::MasteryRecord::new($competency);
        let mut last_seq = 0i64;
        for (seq, at, event) in rows {
            record.apply(tessera_review::MasteryEvent {
                at,
                kind: $crate::mastery::parse_event(&event)?,
            })?;
            last_seq = seq;
        }
        (record, last_seq)
    }};
}
pub(crate) use load_record;

/// Applies `$kind` at `$now` to `$record` (a `&mut MasteryRecord` loaded with `load_record!`,
/// `$seq` its last seq, a `&mut i64`), then inserts the event and its audit entry in `$tx`.
/// An invalid transition returns the state machine's error before anything is written.
macro_rules! record_event {
    ($tx:expr, $org:expr, $learner:expr, $record:expr, $seq:expr, $kind:expr, $now:expr) => {{
        let kind: tessera_review::EventKind = $kind;
        let from = $record.state;
        let event_json = serde_json::to_string(&kind)
            .map_err(|e| $crate::StoreError::Corrupt(e.to_string()))?;
        let name = kind.name();
        $record.apply(tessera_review::MasteryEvent { at: $now, kind })?;
        *$seq += 1;
        sqlx::query(
            "INSERT INTO mastery_events (learner_id, competency_id, seq, org_id, at, state, event) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind($learner)
        .bind(&$record.competency)
        .bind(*$seq)
        .bind($org)
        .bind($now)
        .bind($record.state.as_str())
        .bind(&event_json)
        .execute(&mut *$tx)
        .await
        .map_err($crate::StoreError::from)
        .map_err(|e| match e {
            // Another change to this record committed first.
            $crate::StoreError::Conflict(_) => {
                $crate::StoreError::Conflict("the mastery record changed at the same time")
            }
            other => other,
        })?;
        let learner_subject = $crate::mastery::subject("learner", $learner);
        let competency_subject = $crate::mastery::subject("competency", &$record.competency);
        // The payload holds what happened (events may carry reasons, which are personal data:
        // they stay beside the chain, not in it).
        let payload = serde_json::json!({
            "event": name,
            "from": from.as_str(),
            "to": $record.state.as_str(),
            "seq": *$seq,
            "detail": serde_json::from_str::<serde_json::Value>(&event_json)
                .unwrap_or(serde_json::Value::Null),
        })
        .to_string();
        $crate::audit::append_audit!(
            $tx,
            tessera_review::AuditKind::MasteryChanged,
            &[learner_subject.as_str(), competency_subject.as_str()],
            payload,
            $now
        );
    }};
}
pub(crate) use record_event;

impl Store {
    /// A learner's whole record in the organisation: one query for every event, folded.
    #[tracing::instrument(skip_all)]
    pub async fn learner_record(
        &self,
        org_id: &str,
        learner_id: &str,
    ) -> Result<LearnerRecord, StoreError> {
        let rows: Vec<(String, DateTime<Utc>, String)> = read!(self, |pool| {
            sqlx::query_as(
                "SELECT competency_id, at, event FROM mastery_events \
                 WHERE org_id = $1 AND learner_id = $2 ORDER BY competency_id, seq",
            )
            .bind(org_id)
            .bind(learner_id)
            .fetch_all(pool)
            .await?
        });
        let mut events = Vec::with_capacity(rows.len());
        for (competency, at, event) in rows {
            events.push((
                competency,
                MasteryEvent {
                    at,
                    kind: parse_event(&event)?,
                },
            ));
        }
        Ok(LearnerRecord::fold(events)?)
    }
}

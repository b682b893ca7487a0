//! Read-only queries for the HTML pages of the review flow: the labels and lists a page shows
//! around the records the review store returns (competency codes and statements, names,
//! which rubrics assess what, reviewer feedback). Nothing here writes.
//!
//! Lists of ids are looked up in one query each (`IN ($1, $2, …)`, at most [`MAX_IDS`] ids),
//! so a page costs a fixed number of queries, never one per row.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::{Store, StoreError, read, sqlf};

/// Most ids looked up at once (a page of the queue is far below this).
pub const MAX_IDS: usize = 500;

/// A competency as the pages label it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CompetencyLabel {
    /// Id (the CASE identifier).
    pub id: String,
    /// Its URI.
    pub uri: String,
    /// Human code, if any.
    pub code: Option<String>,
    /// The statement.
    pub statement: String,
    /// `active` or `retired`.
    pub status: String,
    /// The framework.
    pub framework_id: String,
    /// The framework's title.
    pub framework_title: String,
}

/// The newest version of a rubric an organisation can use, with what it assesses.
#[derive(Debug, Clone)]
pub struct RubricChoice {
    /// Rubric id.
    pub id: String,
    /// Newest version.
    pub version: String,
    /// Title.
    pub title: String,
    /// The competencies it assesses (CASE identifiers, URIs or codes, as in the file).
    pub competencies: Vec<String>,
}

impl RubricChoice {
    /// Whether the rubric assesses `c` (by id, URI or code, as evidence submission checks).
    pub fn assesses(&self, c: &CompetencyLabel) -> bool {
        self.competencies
            .iter()
            .any(|x| *x == c.id || *x == c.uri || c.code.as_deref().is_some_and(|code| code == x))
    }
}

/// A review of one of a learner's submissions, with the feedback the learner may read.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ReviewFeedback {
    /// Review id.
    pub review_id: String,
    /// The submission reviewed.
    pub submission_id: String,
    /// Review state (`pending`, `scored`, …).
    pub state: String,
    /// `mastered` or `not_yet`, once decided.
    pub outcome: Option<String>,
    /// The scored review (JSON `tessera_review::ScoredReview`, with comments), once scored.
    pub scored: Option<String>,
    /// When decided.
    pub decided_at: Option<DateTime<Utc>>,
    /// Who decided it.
    pub reviewer_name: Option<String>,
}

/// A member with a given role.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Person {
    /// User id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// E-mail.
    pub email: String,
}

#[derive(sqlx::FromRow)]
struct RubricRow {
    id: String,
    version: String,
    title: String,
    competencies: String,
}

/// `$first, $first+1, …` for `n` ids.
fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn check_ids(ids: &[String]) -> Result<(), StoreError> {
    if ids.len() > MAX_IDS {
        return Err(StoreError::Corrupt(format!(
            "at most {MAX_IDS} ids per lookup, got {}",
            ids.len()
        )));
    }
    Ok(())
}

impl Store {
    /// The active competencies of the organisation's active frameworks, by framework title and
    /// code.
    #[tracing::instrument(skip_all)]
    pub async fn org_competencies(&self, org_id: &str) -> Result<Vec<CompetencyLabel>, StoreError> {
        Ok(read!(self, |pool| {
            sqlx::query_as(
                "SELECT c.id, c.uri, c.code, c.statement, c.status, c.framework_id, \
                 f.title AS framework_title FROM competencies c \
                 JOIN frameworks f ON f.id = c.framework_id \
                 WHERE f.org_id = $1 AND f.status = 'active' AND c.status = 'active' \
                 ORDER BY f.title, f.id, c.code, c.statement, c.id",
            )
            .bind(org_id)
            .fetch_all(pool)
            .await?
        }))
    }

    /// Labels of the given competencies (any status), by id. Unknown ids are left out.
    #[tracing::instrument(skip_all)]
    pub async fn competency_labels(
        &self,
        ids: &[String],
    ) -> Result<HashMap<String, CompetencyLabel>, StoreError> {
        check_ids(ids)?;
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let sql = format!(
            "SELECT c.id, c.uri, c.code, c.statement, c.status, c.framework_id, \
             f.title AS framework_title FROM competencies c \
             JOIN frameworks f ON f.id = c.framework_id WHERE c.id IN ({})",
            placeholders(1, ids.len())
        );
        let rows: Vec<CompetencyLabel> = read!(self, |pool| {
            let mut q = sqlx::query_as(sqlf!("{sql}"));
            for id in ids {
                q = q.bind(id);
            }
            q.fetch_all(pool).await?
        });
        Ok(rows.into_iter().map(|c| (c.id.clone(), c)).collect())
    }

    /// Display names of the given users, by id. Unknown ids are left out.
    #[tracing::instrument(skip_all)]
    pub async fn user_names(&self, ids: &[String]) -> Result<HashMap<String, String>, StoreError> {
        check_ids(ids)?;
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let sql = format!(
            "SELECT id, name FROM users WHERE id IN ({})",
            placeholders(1, ids.len())
        );
        let rows: Vec<(String, String)> = read!(self, |pool| {
            let mut q = sqlx::query_as(sqlf!("{sql}"));
            for id in ids {
                q = q.bind(id);
            }
            q.fetch_all(pool).await?
        });
        Ok(rows.into_iter().collect())
    }

    /// The newest version of every rubric the organisation can use (its own and the shipped
    /// ones), by title.
    #[tracing::instrument(skip_all)]
    pub async fn rubric_choices(&self, org_id: &str) -> Result<Vec<RubricChoice>, StoreError> {
        let rows: Vec<RubricRow> = read!(self, |pool| {
            sqlx::query_as(
                "SELECT id, version, title, competencies FROM rubrics \
                 WHERE org_id IS NULL OR org_id = $1 \
                 ORDER BY id, major DESC, minor DESC, patch DESC",
            )
            .bind(org_id)
            .fetch_all(pool)
            .await?
        });
        let mut out: Vec<RubricChoice> = Vec::new();
        for r in rows {
            if out.last().is_some_and(|l| l.id == r.id) {
                continue; // an older version of the rubric just taken
            }
            let competencies: Vec<String> = serde_json::from_str(&r.competencies)
                .map_err(|e| StoreError::Corrupt(format!("rubric competencies: {e}")))?;
            out.push(RubricChoice {
                id: r.id,
                version: r.version,
                title: r.title,
                competencies,
            });
        }
        out.sort_by(|a, b| a.title.cmp(&b.title).then_with(|| a.id.cmp(&b.id)));
        Ok(out)
    }

    /// The reviews of a learner's submissions in the organisation (optionally for one
    /// competency), with the reviewer's name and the scored feedback.
    #[tracing::instrument(skip_all)]
    pub async fn learner_feedback(
        &self,
        org_id: &str,
        learner_id: &str,
        competency_id: Option<&str>,
    ) -> Result<Vec<ReviewFeedback>, StoreError> {
        Ok(read!(self, |pool| {
            sqlx::query_as(
                "SELECT r.id AS review_id, r.submission_id, r.state, r.outcome, r.scored, \
                 r.decided_at, u.name AS reviewer_name FROM reviews r \
                 LEFT JOIN users u ON u.id = r.reviewer_id \
                 WHERE r.org_id = $1 AND r.learner_id = $2 \
                 AND ($3 IS NULL OR r.competency_id = $3) \
                 ORDER BY r.created_at, r.id",
            )
            .bind(org_id)
            .bind(learner_id)
            .bind(competency_id)
            .fetch_all(pool)
            .await?
        }))
    }

    /// The organisation's members holding `role`, by name.
    #[tracing::instrument(skip_all)]
    pub async fn people_with_role(
        &self,
        org_id: &str,
        role: &str,
    ) -> Result<Vec<Person>, StoreError> {
        Ok(read!(self, |pool| {
            sqlx::query_as(
                "SELECT u.id, u.name, u.email FROM memberships m JOIN users u ON u.id = m.user_id \
                 WHERE m.org_id = $1 AND m.role = $2 ORDER BY u.name, u.id",
            )
            .bind(org_id)
            .bind(role)
            .fetch_all(pool)
            .await?
        }))
    }

    /// The competencies and learners that have pending reviews in the organisation (the
    /// choices of the queue's filters), each by label.
    #[tracing::instrument(skip_all)]
    pub async fn queue_choices(
        &self,
        org_id: &str,
    ) -> Result<(Vec<CompetencyLabel>, Vec<Person>), StoreError> {
        Ok(read!(self, |pool| {
            let competencies = sqlx::query_as(
                "SELECT c.id, c.uri, c.code, c.statement, c.status, c.framework_id, \
                 f.title AS framework_title FROM competencies c \
                 JOIN frameworks f ON f.id = c.framework_id \
                 WHERE c.id IN (SELECT competency_id FROM reviews \
                 WHERE org_id = $1 AND state = 'pending') \
                 ORDER BY c.code, c.statement, c.id",
            )
            .bind(org_id)
            .fetch_all(pool)
            .await?;
            let learners = sqlx::query_as(
                "SELECT u.id, u.name, u.email FROM users u \
                 WHERE u.id IN (SELECT learner_id FROM reviews \
                 WHERE org_id = $1 AND state = 'pending') ORDER BY u.name, u.id",
            )
            .bind(org_id)
            .fetch_all(pool)
            .await?;
            (competencies, learners)
        }))
    }

    /// Per learner of the organisation: how many competencies stand in each mastery state
    /// (the state after each record's latest event), in one query.
    #[tracing::instrument(skip_all)]
    pub async fn learner_state_counts(
        &self,
        org_id: &str,
    ) -> Result<HashMap<String, HashMap<String, i64>>, StoreError> {
        let rows: Vec<(String, String, i64)> = read!(self, |pool| {
            sqlx::query_as(
                "SELECT e.learner_id, e.state, COUNT(*) FROM mastery_events e \
                 WHERE e.org_id = $1 AND e.seq = (SELECT MAX(m.seq) FROM mastery_events m \
                 WHERE m.learner_id = e.learner_id AND m.competency_id = e.competency_id) \
                 GROUP BY e.learner_id, e.state",
            )
            .bind(org_id)
            .fetch_all(pool)
            .await?
        });
        let mut out: HashMap<String, HashMap<String, i64>> = HashMap::new();
        for (learner, state, n) in rows {
            out.entry(learner).or_default().insert(state, n);
        }
        Ok(out)
    }
}

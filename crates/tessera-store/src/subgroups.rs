//! Subgroup attributes for the equity audit: optional, consented, stored apart from the profile.
//!
//! An organisation's admins define which attributes exist ([`AttributeDefinition`]: a key, the
//! question learners see and the answers offered). Each learner may answer for themself, with
//! consent, and withdraw at any time; withdrawing deletes the answer. Answers live in their own
//! table (`learner_subgroups`, keyed by user and organisation), never in `users`, and nothing
//! in the service shows one learner's answer to anyone but that learner: the audit
//! ([`crate::equity`]) only reads them into suppressed aggregates.
//!
//! Erasing a learner removes their rows with [`Store::erase_learner_subgroups`].

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::{Store, StoreError, read, write};

/// Longest attribute key, label and answer (characters).
pub const MAX_NAME: usize = 40;
/// Longest question shown to learners.
pub const MAX_LABEL: usize = 200;
/// Longest answer.
pub const MAX_VALUE: usize = 80;
/// Most answers an attribute may offer (more would make groups too small to report anyway).
pub const MAX_VALUES: usize = 20;

/// An attribute an organisation asks about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AttributeDefinition {
    /// The key: lowercase letters, digits and `-`, starting with a letter.
    pub name: String,
    /// The question shown to learners.
    pub label: String,
    /// The answers offered, in display order.
    pub values: Vec<String>,
}

/// Why a definition or an answer is unusable: the field at fault and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct InvalidAttribute {
    /// `name`, `label`, `values` or `value`.
    pub field: &'static str,
    /// What is wrong, in plain words.
    pub reason: String,
}

fn invalid(field: &'static str, reason: impl Into<String>) -> InvalidAttribute {
    InvalidAttribute {
        field,
        reason: reason.into(),
    }
}

/// Checks an attribute key.
pub fn parse_name(name: &str) -> Result<String, InvalidAttribute> {
    let name = name.trim();
    let ok_chars = name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if name.is_empty()
        || name.chars().count() > MAX_NAME
        || !ok_chars
        || !name.starts_with(|c: char| c.is_ascii_lowercase())
    {
        return Err(invalid(
            "name",
            format!(
                "1 to {MAX_NAME} lowercase letters, digits or '-', starting with a letter (for example home-language)"
            ),
        ));
    }
    Ok(name.to_owned())
}

impl AttributeDefinition {
    /// A checked definition: a valid key, a label, 2 to [`MAX_VALUES`] distinct non-empty
    /// answers (surrounding spaces trimmed; empty lines ignored).
    pub fn parse(
        name: &str,
        label: &str,
        values: impl IntoIterator<Item = impl AsRef<str>>,
    ) -> Result<Self, InvalidAttribute> {
        let name = parse_name(name)?;
        let label = label.trim();
        if label.is_empty() || label.chars().count() > MAX_LABEL {
            return Err(invalid(
                "label",
                format!("the question is required (at most {MAX_LABEL} characters)"),
            ));
        }
        let mut out: Vec<String> = Vec::new();
        for v in values {
            let v = v.as_ref().trim();
            if v.is_empty() {
                continue;
            }
            if v.chars().count() > MAX_VALUE || v.chars().any(char::is_control) {
                return Err(invalid(
                    "values",
                    format!("each answer is at most {MAX_VALUE} characters on one line"),
                ));
            }
            if out.iter().any(|o| o == v) {
                return Err(invalid(
                    "values",
                    format!("the answer {v:?} is listed twice"),
                ));
            }
            out.push(v.to_owned());
        }
        if out.len() < 2 || out.len() > MAX_VALUES {
            return Err(invalid(
                "values",
                format!("offer 2 to {MAX_VALUES} answers (one per line)"),
            ));
        }
        Ok(Self {
            name,
            label: label.to_owned(),
            values: out,
        })
    }
}

/// A learner's own answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LearnerSubgroup {
    /// The attribute's key.
    pub attribute: String,
    /// The answer.
    pub value: String,
    /// When the learner gave it, consenting to its use in the equity audit.
    pub consented_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct AttributeRow {
    name: String,
    label: String,
    allowed_values: String,
}

impl TryFrom<AttributeRow> for AttributeDefinition {
    type Error = StoreError;
    fn try_from(r: AttributeRow) -> Result<Self, StoreError> {
        Ok(Self {
            values: serde_json::from_str(&r.allowed_values)
                .map_err(|e| StoreError::Corrupt(format!("subgroup attribute values: {e}")))?,
            name: r.name,
            label: r.label,
        })
    }
}

impl Store {
    /// The organisation's attributes, by key.
    #[tracing::instrument(skip_all)]
    pub async fn subgroup_attributes(
        &self,
        org_id: &str,
    ) -> Result<Vec<AttributeDefinition>, StoreError> {
        let rows: Vec<AttributeRow> = read!(self, |pool| {
            sqlx::query_as(
                "SELECT name, label, allowed_values FROM subgroup_attributes \
                 WHERE org_id = $1 ORDER BY name",
            )
            .bind(org_id)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter()
            .map(AttributeDefinition::try_from)
            .collect()
    }

    /// One attribute, or [`StoreError::NotFound`].
    #[tracing::instrument(skip_all)]
    pub async fn subgroup_attribute(
        &self,
        org_id: &str,
        name: &str,
    ) -> Result<AttributeDefinition, StoreError> {
        let row: AttributeRow = read!(self, |pool| {
            sqlx::query_as(
                "SELECT name, label, allowed_values FROM subgroup_attributes \
                 WHERE org_id = $1 AND name = $2",
            )
            .bind(org_id)
            .bind(name)
            .fetch_one(pool)
            .await?
        });
        row.try_into()
    }

    /// Creates or replaces an attribute. Learners' answers that are no longer offered are
    /// deleted in the same transaction (they could not be given again, and an answer outside
    /// the list would form a group nobody can see defined). Returns how many were deleted.
    #[tracing::instrument(skip_all)]
    pub async fn put_subgroup_attribute(
        &self,
        org_id: &str,
        def: &AttributeDefinition,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let values = serde_json::to_string(&def.values)
            .map_err(|e| StoreError::Corrupt(format!("subgroup attribute values: {e}")))?;
        write!(self, |pool| {
            let mut tx = pool.begin().await?;
            sqlx::query(
                "INSERT INTO subgroup_attributes \
                 (org_id, name, label, allowed_values, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $5) \
                 ON CONFLICT (org_id, name) DO UPDATE \
                 SET label = $3, allowed_values = $4, updated_at = $5",
            )
            .bind(org_id)
            .bind(&def.name)
            .bind(&def.label)
            .bind(&values)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            let given: Vec<(String,)> = sqlx::query_as(
                "SELECT DISTINCT value FROM learner_subgroups \
                 WHERE org_id = $1 AND attribute = $2",
            )
            .bind(org_id)
            .bind(&def.name)
            .fetch_all(&mut *tx)
            .await?;
            let mut removed = 0;
            for (value,) in given {
                if !def.values.contains(&value) {
                    removed += sqlx::query(
                        "DELETE FROM learner_subgroups \
                         WHERE org_id = $1 AND attribute = $2 AND value = $3",
                    )
                    .bind(org_id)
                    .bind(&def.name)
                    .bind(&value)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                }
            }
            tx.commit().await?;
            Ok(removed)
        })
    }

    /// Removes an attribute and every answer to it. [`StoreError::NotFound`] if there is none.
    #[tracing::instrument(skip_all)]
    pub async fn delete_subgroup_attribute(
        &self,
        org_id: &str,
        name: &str,
    ) -> Result<(), StoreError> {
        write!(self, |pool| {
            let mut tx = pool.begin().await?;
            // Explicit, not only the cascade: SQLite enforces foreign keys only per connection
            // setting, and the answers must go whatever the setting.
            sqlx::query("DELETE FROM learner_subgroups WHERE org_id = $1 AND attribute = $2")
                .bind(org_id)
                .bind(name)
                .execute(&mut *tx)
                .await?;
            let gone =
                sqlx::query("DELETE FROM subgroup_attributes WHERE org_id = $1 AND name = $2")
                    .bind(org_id)
                    .bind(name)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
            if gone == 0 {
                return Err(StoreError::NotFound);
            }
            tx.commit().await?;
            Ok(())
        })
    }

    /// A learner's own answers in the organisation, by attribute key.
    #[tracing::instrument(skip_all)]
    pub async fn learner_subgroups(
        &self,
        org_id: &str,
        user_id: &str,
    ) -> Result<Vec<LearnerSubgroup>, StoreError> {
        let rows: Vec<(String, String, DateTime<Utc>)> = read!(self, |pool| {
            sqlx::query_as(
                "SELECT attribute, value, consented_at FROM learner_subgroups \
                 WHERE org_id = $1 AND user_id = $2 ORDER BY attribute",
            )
            .bind(org_id)
            .bind(user_id)
            .fetch_all(pool)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(|(attribute, value, consented_at)| LearnerSubgroup {
                attribute,
                value,
                consented_at,
            })
            .collect())
    }

    /// Records a learner's answer, consented at `now` (replacing an earlier one).
    /// [`StoreError::NotFound`] for an attribute the organisation does not ask about;
    /// [`StoreError::InvalidReference`] for an answer it does not offer.
    #[tracing::instrument(skip_all)]
    pub async fn set_learner_subgroup(
        &self,
        org_id: &str,
        user_id: &str,
        attribute: &str,
        value: &str,
        now: DateTime<Utc>,
    ) -> Result<LearnerSubgroup, StoreError> {
        write!(self, |pool| {
            let mut tx = pool.begin().await?;
            // Read inside the transaction so a concurrent change of the offered answers cannot
            // let a withdrawn answer in.
            let row: Option<AttributeRow> = sqlx::query_as(
                "SELECT name, label, allowed_values FROM subgroup_attributes \
                 WHERE org_id = $1 AND name = $2",
            )
            .bind(org_id)
            .bind(attribute)
            .fetch_optional(&mut *tx)
            .await?;
            let def = AttributeDefinition::try_from(row.ok_or(StoreError::NotFound)?)?;
            if !def.values.iter().any(|v| v == value) {
                return Err(StoreError::InvalidReference(
                    "the answer is not one the organisation offers",
                ));
            }
            sqlx::query(
                "INSERT INTO learner_subgroups (user_id, org_id, attribute, value, consented_at) \
                 VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (user_id, org_id, attribute) DO UPDATE \
                 SET value = $4, consented_at = $5",
            )
            .bind(user_id)
            .bind(org_id)
            .bind(attribute)
            .bind(value)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(LearnerSubgroup {
                attribute: attribute.to_owned(),
                value: value.to_owned(),
                consented_at: now,
            })
        })
    }

    /// Withdraws a learner's answer (deletes it). Returns whether there was one.
    #[tracing::instrument(skip_all)]
    pub async fn withdraw_learner_subgroup(
        &self,
        org_id: &str,
        user_id: &str,
        attribute: &str,
    ) -> Result<bool, StoreError> {
        let n = write!(self, |pool| {
            sqlx::query(
                "DELETE FROM learner_subgroups \
                 WHERE org_id = $1 AND user_id = $2 AND attribute = $3",
            )
            .bind(org_id)
            .bind(user_id)
            .bind(attribute)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(n > 0)
    }

    /// Erasure: removes every subgroup answer of the user, in every organisation. Returns how
    /// many rows went.
    #[tracing::instrument(skip_all)]
    pub async fn erase_learner_subgroups(&self, user_id: &str) -> Result<u64, StoreError> {
        Ok(write!(self, |pool| {
            sqlx::query("DELETE FROM learner_subgroups WHERE user_id = $1")
                .bind(user_id)
                .execute(pool)
                .await?
                .rows_affected()
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn definitions_are_checked() {
        let d = AttributeDefinition::parse("home-language", " Home language ", ["en", " fr ", ""])
            .unwrap();
        assert_eq!(d.values, ["en", "fr"]);
        assert_eq!(d.label, "Home language");
        for bad in ["", "Home", "1abc", "a b", "é"] {
            assert_eq!(
                AttributeDefinition::parse(bad, "L", ["a", "b"])
                    .unwrap_err()
                    .field,
                "name",
                "{bad:?}"
            );
        }
        assert_eq!(
            AttributeDefinition::parse("x", " ", ["a", "b"])
                .unwrap_err()
                .field,
            "label"
        );
        for values in [vec!["a"], vec!["a", "a"], vec!["a", "b\nc"]] {
            assert_eq!(
                AttributeDefinition::parse("x", "L", values)
                    .unwrap_err()
                    .field,
                "values"
            );
        }
    }
}

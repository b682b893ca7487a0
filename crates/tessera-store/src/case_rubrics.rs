//! CASE `CFRubric`s kept by the CASE import (`case_rubrics`), read so that one can be adopted
//! as a Tessera rubric version (`tessera_review::rubric_from_cf_rubric`, then
//! [`Store::publish_rubric`] with the usual immutability rules).

use serde::Serialize;

use crate::{Store, StoreError, read};

/// A CFRubric as imported.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CaseRubric {
    /// The CFRubric identifier.
    pub id: String,
    /// Its URI.
    pub uri: String,
    /// The framework it came with.
    pub framework_id: String,
    /// That framework's organisation.
    pub org_id: String,
    /// Its title.
    pub title: Option<String>,
    /// The CFRubric JSON, verbatim.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub document: serde_json::Value,
}

#[derive(sqlx::FromRow)]
struct CaseRubricRow {
    id: String,
    uri: String,
    framework_id: String,
    org_id: String,
    title: Option<String>,
    document: String,
}

impl TryFrom<CaseRubricRow> for CaseRubric {
    type Error = StoreError;
    fn try_from(r: CaseRubricRow) -> Result<Self, StoreError> {
        Ok(CaseRubric {
            document: serde_json::from_str(&r.document)
                .map_err(|e| StoreError::Corrupt(format!("CFRubric: {e}")))?,
            id: r.id,
            uri: r.uri,
            framework_id: r.framework_id,
            org_id: r.org_id,
            title: r.title,
        })
    }
}

impl Store {
    /// One imported CFRubric by identifier.
    #[tracing::instrument(skip_all)]
    pub async fn case_rubric(&self, id: &str) -> Result<CaseRubric, StoreError> {
        let row: CaseRubricRow = read!(self, |pool| {
            sqlx::query_as(
                "SELECT r.id, r.uri, r.framework_id, f.org_id, r.title, r.document \
                 FROM case_rubrics r JOIN frameworks f ON f.id = r.framework_id WHERE r.id = $1",
            )
            .bind(id)
            .fetch_one(pool)
            .await?
        });
        row.try_into()
    }

    /// The CFRubrics imported into an organisation's frameworks, by identifier.
    #[tracing::instrument(skip_all)]
    pub async fn case_rubrics(&self, org_id: &str) -> Result<Vec<CaseRubric>, StoreError> {
        let rows: Vec<CaseRubricRow> = read!(self, |pool| {
            sqlx::query_as(
                "SELECT r.id, r.uri, r.framework_id, f.org_id, r.title, r.document \
                 FROM case_rubrics r JOIN frameworks f ON f.id = r.framework_id \
                 WHERE f.org_id = $1 ORDER BY r.id",
            )
            .bind(org_id)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(CaseRubric::try_from).collect()
    }
}

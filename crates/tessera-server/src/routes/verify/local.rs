//! Our own documents for the verifier, read from the store instead of over the network: the
//! organisations' did:web DID documents (`/orgs/{slug}/did.json`) and signed status list
//! credentials (`/orgs/{slug}/status/{purpose}/{seq}`), built exactly as the public routes
//! (`routes/did.rs`) serve them.

use futures_util::future::BoxFuture;
use serde_json::Value;
use tessera_issue::did::{ListedKey, did_document, did_web};

use super::service::LocalDocuments;
use crate::error::AppError;
use crate::routes::issuing;
use crate::state::AppState;

/// Reads documents under the public URL from the app's store.
pub struct StoreDocuments<'a> {
    state: &'a AppState,
}

impl<'a> StoreDocuments<'a> {
    /// For this app.
    pub fn new(state: &'a AppState) -> Self {
        StoreDocuments { state }
    }

    /// The path below the public URL.
    fn path<'u>(&self, url: &'u str) -> Option<&'u str> {
        url.strip_prefix(self.state.config.public_url.trim_end_matches('/'))
    }

    /// The organisation's DID document: every key, current and past. `None` when the
    /// organisation does not exist or has no key yet (then nothing of it can be signed; a read
    /// does not make a key).
    async fn did_document(&self, slug: &str) -> Result<Option<Value>, AppError> {
        let org = self.state.store.org_by_slug(slug).await?;
        let keys = self.state.store.issuer_keys(&org.id).await?;
        if keys.is_empty() {
            return Ok(None);
        }
        let did = did_web(&self.state.config.public_url, &org.slug)
            .map_err(issuing::IssuingError::from)?;
        let listed: Vec<ListedKey> = keys
            .into_iter()
            .map(|k| ListedKey {
                seq: k.seq,
                public_key_multibase: k.public_key_multibase,
            })
            .collect();
        Ok(Some(
            did_document(&did, &listed).map_err(issuing::IssuingError::from)?,
        ))
    }

    /// A signed status list, as served (from the issuing cache when fresh).
    async fn status_list(
        &self,
        slug: &str,
        purpose: &str,
        seq: &str,
    ) -> Result<Option<Value>, AppError> {
        let Ok(seq) = seq.parse::<i64>() else {
            return Ok(None);
        };
        let list = issuing::status_list(self.state, slug, purpose, seq).await?;
        serde_json::from_slice(&list.bytes)
            .map(Some)
            .map_err(AppError::internal)
    }
}

impl LocalDocuments for StoreDocuments<'_> {
    fn document<'b>(&'b self, url: &'b str) -> BoxFuture<'b, Result<Option<Value>, String>> {
        Box::pin(async move {
            let Some(path) = self.path(url) else {
                return Ok(None);
            };
            let path = path.split(['?', '#']).next().unwrap_or_default();
            let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
            let found = match parts.as_slice() {
                ["orgs", slug, "did.json"] => self.did_document(slug).await,
                ["orgs", slug, "status", purpose, seq] => {
                    self.status_list(slug, purpose, seq).await
                }
                _ => Ok(None),
            };
            match found {
                Ok(doc) => Ok(doc),
                Err(AppError::NotFound) => Ok(None),
                // The cause is logged by whoever handles the request; the verdict names the URL.
                Err(e) => {
                    tracing::warn!(error = %e, url, "reading our own document failed");
                    Err(format!("{url} could not be read: {e}"))
                }
            }
        })
    }
}

//! Our own documents for the verifier, read from the store instead of over the network: the
//! organisations' did:web DID documents (`/orgs/{slug}/did.json`) and published status list
//! credentials.

use futures_util::future::BoxFuture;
use serde_json::Value;

use super::service::LocalDocuments;
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
}

impl LocalDocuments for StoreDocuments<'_> {
    fn document<'b>(&'b self, url: &'b str) -> BoxFuture<'b, Result<Option<Value>, String>> {
        Box::pin(async move {
            let Some(_path) = self.path(url) else {
                return Ok(None);
            };
            // Issuing (DID documents, published status lists) is not in the store yet: nothing
            // of ours can be resolved locally until it is.
            Ok(None)
        })
    }
}

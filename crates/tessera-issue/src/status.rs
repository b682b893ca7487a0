//! Bitstring Status List entries and the signed `BitstringStatusListCredential`
//! (<https://www.w3.org/TR/vc-bitstring-status-list/>).

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use tessera_vc::keys::KeyPair;
use tessera_vc::status_list::{self, StatusList};

use crate::Error;
use crate::achievement::xsd_date_time;

/// The list's stable URL: `<public URL>/orgs/<slug>/status/<purpose>/<n>`.
pub fn list_url(public_url: &str, slug: &str, purpose: &str, seq: i64) -> String {
    format!(
        "{}/orgs/{slug}/status/{purpose}/{seq}",
        public_url.trim_end_matches('/')
    )
}

/// The `BitstringStatusListEntry` for `index` in the list at `list_url`.
pub fn entry(list_url: &str, purpose: &str, index: i64) -> Value {
    json!({
        "id": format!("{list_url}#{index}"),
        "type": "BitstringStatusListEntry",
        "statusPurpose": purpose,
        "statusListIndex": index.to_string(),
        "statusListCredential": list_url,
    })
}

/// What a status list credential says: where it lives, who issues it, its purpose, its size and
/// the indexes that are set.
#[derive(Debug, Clone, Copy)]
pub struct ListSpec<'a> {
    /// Its stable URL ([`list_url`]), also its `id`.
    pub url: &'a str,
    /// The issuer id (the same as the credentials it serves).
    pub issuer_id: &'a str,
    /// `revocation` or `suspension`.
    pub purpose: &'a str,
    /// Entries (at least 131,072 for herd privacy).
    pub size: usize,
    /// The indexes whose bit is on.
    pub set: &'a [i64],
    /// `validFrom` and the proof's `created`.
    pub valid_from: DateTime<Utc>,
}

/// The list credential described by `spec`, signed with `eddsa-rdfc-2022` by `key` under
/// `verification_method`; returns the exact bytes to serve.
pub fn signed_list(
    spec: &ListSpec<'_>,
    key: &KeyPair,
    verification_method: &str,
) -> Result<String, Error> {
    let mut list = StatusList::new(spec.size, 1)?;
    for &i in spec.set {
        let i = usize::try_from(i).map_err(|_| Error::Invalid(format!("index {i}")))?;
        list.set(i, 1)?;
    }
    let unsigned = status_list::list_credential(
        spec.url,
        spec.issuer_id,
        spec.purpose,
        &list,
        &xsd_date_time(spec.valid_from),
    );
    crate::sign::sign_to_string(&unsigned, key, verification_method, spec.valid_from, false)
}

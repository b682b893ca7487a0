//! Signing a built document into the exact bytes that are stored and served.

use chrono::{DateTime, Utc};
use serde_json::Value;
use tessera_vc::keys::KeyPair;
use tessera_vc::proof::{self, Cryptosuite, ProofOptions};

use crate::Error;
use crate::achievement::xsd_date_time;

/// Signs `document` with `eddsa-rdfc-2022` (the suite 1EdTech conformance names), and when
/// `with_jcs` also with `eddsa-jcs-2022` as a second proof of a proof set; returns the JSON text
/// that is stored byte for byte from then on.
pub fn sign_to_string(
    document: &Value,
    key: &KeyPair,
    verification_method: &str,
    created: DateTime<Utc>,
    with_jcs: bool,
) -> Result<String, Error> {
    let created = Some(xsd_date_time(created));
    let rdfc = ProofOptions::new(
        Cryptosuite::EddsaRdfc2022,
        verification_method,
        created.clone(),
    );
    let mut signed = proof::sign(document, key, &rdfc)?;
    if with_jcs {
        let jcs = ProofOptions::new(Cryptosuite::EddsaJcs2022, verification_method, created);
        signed = proof::sign(&signed, key, &jcs)?;
    }
    serde_json::to_string(&signed).map_err(|e| Error::Invalid(e.to_string()))
}

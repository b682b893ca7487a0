//! Signing the transcript, and the verdict on one, naming the embedded credentials that fail.

use chrono::{DateTime, Utc};
use serde_json::Value;
use tessera_vc::keys::KeyPair;
use tessera_vc::proof::{Cryptosuite, ProofOptions};
use tessera_vc::{VerificationReport, VerifyOptions};

use crate::assemble::rfc3339;
use crate::error::Error;

/// Signs a transcript for the organisation with `eddsa-rdfc-2022` (the suite the 1EdTech
/// conformance tests name). `verification_method` is the key's id in the issuer's DID document.
pub fn sign(
    clr: &Value,
    key: &KeyPair,
    verification_method: &str,
    created: DateTime<Utc>,
) -> Result<Value, Error> {
    let options = ProofOptions::new(
        Cryptosuite::EddsaRdfc2022,
        verification_method,
        Some(rfc3339(created)),
    );
    Ok(tessera_vc::proof::sign(clr, key, &options)?)
}

/// An embedded credential that did not verify.
#[derive(Debug, Clone, PartialEq)]
pub struct FailedCredential {
    /// Where it sits (`credentialSubject.verifiableCredential[3]`).
    pub path: String,
    /// Its `id`, if it has one.
    pub id: Option<String>,
    /// Its `name`, if it has one (what a person recognises).
    pub name: Option<String>,
    /// The codes of the checks it failed.
    pub failed_checks: Vec<String>,
}

/// The verdict on a transcript: the full report, and the embedded credentials that failed.
#[derive(Debug, Clone)]
pub struct TranscriptVerdict {
    /// True when the transcript's own proof and every embedded credential verify.
    pub verified: bool,
    /// The report `tessera verify` prints.
    pub report: VerificationReport,
    /// The embedded credentials that did not verify, by name.
    pub failed: Vec<FailedCredential>,
}

impl TranscriptVerdict {
    /// One line per failed credential, for a person.
    pub fn failure_summary(&self) -> String {
        self.failed
            .iter()
            .map(|f| {
                format!(
                    "{} ({}{}) does not verify: {}",
                    f.path,
                    f.id.as_deref().unwrap_or("no id"),
                    f.name
                        .as_deref()
                        .map(|n| format!(", \"{n}\""))
                        .unwrap_or_default(),
                    f.failed_checks.join(", ")
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// Verifies a signed transcript and each credential in it.
pub fn verify(clr: &Value, options: &VerifyOptions) -> Result<TranscriptVerdict, Error> {
    let report = tessera_vc::verify(clr, options)?;
    let embedded = clr
        .pointer("/credentialSubject/verifiableCredential")
        .map(|v| match v {
            Value::Array(items) => items.iter().collect(),
            one => vec![one],
        })
        .unwrap_or_default();
    let failed = report
        .embedded
        .iter()
        .enumerate()
        .filter(|(_, e)| !e.report.verified)
        .map(|(i, e)| FailedCredential {
            path: e.path.clone(),
            id: e.report.id.clone(),
            name: embedded
                .get(i)
                .and_then(|c| c.get("name"))
                .and_then(Value::as_str)
                .map(str::to_owned),
            failed_checks: e
                .report
                .failed()
                .iter()
                .map(|c| c.as_str().to_owned())
                .collect(),
        })
        .collect();
    Ok(TranscriptVerdict {
        verified: report.verified,
        report,
        failed,
    })
}

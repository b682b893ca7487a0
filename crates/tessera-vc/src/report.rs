//! The verification report: named checks with stable codes, each passed, failed, warning or not
//! checked, with a message a person understands. Serializes to JSON (`tessera verify --format
//! json`, the service's verify endpoint).
//!
//! A report is a *verdict*. [`VerificationReport::verified`] is true only when the proof check
//! passed and no check failed — here or in any embedded credential.

use serde::Serialize;

/// The stable code of a check. The JSON form is the snake_case name (`"issuer_binding"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CheckCode {
    /// The bytes are a JSON object.
    Json,
    /// Every `@context` is known and bundled; the base context comes first.
    Contexts,
    /// JSON-LD expansion loses nothing: no undefined term, no relative IRI, no dropped value.
    SafeMode,
    /// Every proof verifies (signature, suite, purpose, dates, key authorized for assertion).
    Proof,
    /// The key that signed belongs to the credential's issuer.
    IssuerBinding,
    /// `validFrom`/`validUntil` (VC 2.0) or `issuanceDate`/`expirationDate` (VC 1.1) against
    /// the verifier's clock.
    ValidityPeriod,
    /// `credentialStatus` against the status list credential supplied.
    Status,
    /// The VC data model and the Open Badges 3.0 / CLR 2.0 shape rules.
    Shape,
    /// Credentials embedded in a CLR (`credentialSubject.verifiableCredential`) verify.
    EmbeddedCredentials,
}

impl CheckCode {
    /// The stable string code.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckCode::Json => "json",
            CheckCode::Contexts => "contexts",
            CheckCode::SafeMode => "safe_mode",
            CheckCode::Proof => "proof",
            CheckCode::IssuerBinding => "issuer_binding",
            CheckCode::ValidityPeriod => "validity_period",
            CheckCode::Status => "status",
            CheckCode::Shape => "shape",
            CheckCode::EmbeddedCredentials => "embedded_credentials",
        }
    }
}

impl std::fmt::Display for CheckCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    /// The check ran and the credential satisfies it.
    Passed,
    /// The check ran and the credential does not satisfy it.
    Failed,
    /// Acceptable, but a person should know (for example a missing recommended field).
    Warning,
    /// The check could not run (no status list supplied, an earlier check failed …).
    NotChecked,
}

impl CheckStatus {
    /// The stable string form.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckStatus::Passed => "passed",
            CheckStatus::Failed => "failed",
            CheckStatus::Warning => "warning",
            CheckStatus::NotChecked => "not_checked",
        }
    }
}

/// One named check.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Check {
    /// The stable code.
    pub code: CheckCode,
    /// The outcome.
    pub status: CheckStatus,
    /// One sentence for a person.
    pub message: String,
    /// Itemized findings (each failed rule, each proof of a set), if there are several.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<String>,
}

impl Check {
    /// A check with no details.
    pub fn new(code: CheckCode, status: CheckStatus, message: impl Into<String>) -> Self {
        Check {
            code,
            status,
            message: message.into(),
            details: Vec::new(),
        }
    }

    /// Adds details.
    pub fn with_details(mut self, details: Vec<String>) -> Self {
        self.details = details;
        self
    }
}

/// The report on one embedded credential.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EmbeddedReport {
    /// JSON path of the credential inside its container
    /// (`credentialSubject.verifiableCredential[1]`).
    pub path: String,
    /// Its report.
    pub report: VerificationReport,
}

/// The verdict on one credential.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VerificationReport {
    /// True when the proof passed and no check failed (a failed embedded credential fails the
    /// `embedded_credentials` check).
    pub verified: bool,
    /// The credential's `id`, if it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The issuer's id, if readable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// The credential's `type` values.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub types: Vec<String>,
    /// The checks, in a fixed order.
    pub checks: Vec<Check>,
    /// Reports on embedded credentials (a CLR's achievements).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub embedded: Vec<EmbeddedReport>,
}

impl VerificationReport {
    /// The check with this code.
    pub fn check(&self, code: CheckCode) -> Option<&Check> {
        self.checks.iter().find(|c| c.code == code)
    }

    /// The status of the check with this code (`NotChecked` if absent).
    pub fn status(&self, code: CheckCode) -> CheckStatus {
        self.check(code)
            .map_or(CheckStatus::NotChecked, |c| c.status)
    }

    /// The codes of the failed checks.
    pub fn failed(&self) -> Vec<CheckCode> {
        self.checks
            .iter()
            .filter(|c| c.status == CheckStatus::Failed)
            .map(|c| c.code)
            .collect()
    }

    /// Recomputes [`VerificationReport::verified`] from the checks and embedded reports.
    pub(crate) fn finish(mut self) -> Self {
        self.checks.sort_by_key(|c| c.code);
        self.verified =
            self.status(CheckCode::Proof) == CheckStatus::Passed && self.failed().is_empty();
        self
    }

    /// A short multi-line text rendering for terminals.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        self.write_text(&mut out, 0);
        out
    }

    fn write_text(&self, out: &mut String, indent: usize) {
        use std::fmt::Write as _;
        let pad = "  ".repeat(indent);
        for check in &self.checks {
            let _ = writeln!(
                out,
                "{pad}  {:<11} {:<21} {}",
                check.status.as_str(),
                check.code.as_str(),
                check.message
            );
            for detail in &check.details {
                let _ = writeln!(out, "{pad}  {:<33} - {detail}", "");
            }
        }
        for embedded in &self.embedded {
            let _ = writeln!(
                out,
                "{pad}  {} {}: {}",
                embedded.path,
                embedded.report.id.as_deref().unwrap_or("(no id)"),
                if embedded.report.verified {
                    "VERIFIED"
                } else {
                    "NOT VERIFIED"
                }
            );
            embedded.report.write_text(out, indent + 1);
        }
    }
}

//! The report's contract: every verdict carries the named checks with their stable codes (`json`,
//! `contexts`, `safe_mode`, `proof`, `issuer_binding`, `validity_period`, `status`, `shape`),
//! each `passed` / `failed` / `warning` / `not_checked` with a message for a person, in the JSON
//! form callers (the CLI, the service) rely on.

mod common;

use serde_json::Value;
use tessera_vc::report::{CheckCode, CheckStatus};

use common::{options, signed_clr, signed_ob};

const REQUIRED: [&str; 8] = [
    "json",
    "contexts",
    "safe_mode",
    "proof",
    "issuer_binding",
    "validity_period",
    "status",
    "shape",
];
const STATUSES: [&str; 4] = ["passed", "failed", "warning", "not_checked"];

/// The checks of a JSON report as (code, status, message).
fn checks(report: &Value) -> Vec<(String, String, String)> {
    report["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .map(|c| {
            (
                c["code"].as_str().expect("code").to_owned(),
                c["status"].as_str().expect("status").to_owned(),
                c["message"].as_str().expect("message").to_owned(),
            )
        })
        .collect()
}

fn assert_contract(label: &str, report: &Value) {
    let checks = checks(report);
    for code in REQUIRED {
        let n = checks.iter().filter(|(c, _, _)| c == code).count();
        assert_eq!(n, 1, "{label}: check {code} appears {n} times: {report:#}");
    }
    for (code, status, message) in &checks {
        assert!(
            STATUSES.contains(&status.as_str()),
            "{label}: {code} {status}"
        );
        assert!(!message.trim().is_empty(), "{label}: {code} has no message");
    }
}

#[test]
fn a_verified_credential_reports_every_named_check() {
    let report = tessera_vc::verify(&signed_ob(), &options()).expect("verify");
    assert!(report.verified, "{}", report.to_text());
    let json = serde_json::to_value(&report).expect("serialize");
    assert_eq!(json["verified"], true);
    assert_contract("signed OB", &json);
    for (code, status, _) in checks(&json) {
        assert_eq!(status, "passed", "{code}: {}", report.to_text());
    }
}

#[test]
fn a_credential_that_did_not_verify_is_still_a_full_report() {
    let mut doc = signed_ob();
    doc["credentialSubject"]["achievement"]["name"] = "Forged".into();
    let report = tessera_vc::verify(&doc, &options()).expect("a verdict, not an error");
    assert!(!report.verified);
    let json = serde_json::to_value(&report).expect("serialize");
    assert_eq!(json["verified"], false);
    assert_contract("tampered OB", &json);
    let proof = checks(&json)
        .into_iter()
        .find(|(c, _, _)| c == "proof")
        .expect("proof");
    assert_eq!(proof.1, "failed");

    // Bytes that are not JSON: a verdict too, with the json check failed and the rest not run.
    let report = tessera_vc::verify_bytes(b"{not json", &options()).expect("a verdict");
    assert!(!report.verified);
    assert_eq!(report.status(CheckCode::Json), CheckStatus::Failed);
    assert_eq!(report.status(CheckCode::Proof), CheckStatus::NotChecked);
    assert_contract(
        "not JSON",
        &serde_json::to_value(&report).expect("serialize"),
    );
}

#[test]
fn a_clr_reports_its_embedded_credentials() {
    let report = tessera_vc::verify(&signed_clr(), &options()).expect("verify");
    assert!(report.verified, "{}", report.to_text());
    let json = serde_json::to_value(&report).expect("serialize");
    assert_contract("CLR", &json);
    assert_eq!(
        report.status(CheckCode::EmbeddedCredentials),
        CheckStatus::Passed
    );
    let embedded = json["embedded"].as_array().expect("embedded");
    assert_eq!(embedded.len(), 2);
    for e in embedded {
        assert!(
            e["path"]
                .as_str()
                .expect("path")
                .starts_with("credentialSubject")
        );
        assert_contract("embedded", &e["report"]);
    }
}

#[test]
fn string_forms_agree_with_the_json_forms() {
    let codes = [
        CheckCode::Json,
        CheckCode::Contexts,
        CheckCode::SafeMode,
        CheckCode::Proof,
        CheckCode::IssuerBinding,
        CheckCode::ValidityPeriod,
        CheckCode::Status,
        CheckCode::Shape,
        CheckCode::EmbeddedCredentials,
    ];
    for code in codes {
        assert_eq!(serde_json::to_value(code).unwrap(), code.as_str());
        assert_eq!(code.to_string(), code.as_str());
    }
    let as_str: Vec<&str> = codes[..8].iter().map(|c| c.as_str()).collect();
    assert_eq!(as_str, REQUIRED);
    for (status, text) in [
        CheckStatus::Passed,
        CheckStatus::Failed,
        CheckStatus::Warning,
        CheckStatus::NotChecked,
    ]
    .into_iter()
    .zip(STATUSES)
    {
        assert_eq!(status.as_str(), text);
        assert_eq!(serde_json::to_value(status).unwrap(), text);
    }
}

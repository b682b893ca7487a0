//! Data Integrity against the official vectors: W3C vc-di-eddsa (eddsa-rdfc-2022 alumni and
//! employ, eddsa-jcs-2022, Ed25519Signature2020, proof sets and chains) and the 1EdTech OB 3.0 and
//! CLR 2.0 linked-data-proof vectors. Every intermediate value is compared byte for byte.

use std::path::PathBuf;

use serde_json::Value;
use tessera_vc::did::KeyResolver;
use tessera_vc::keys::{KeyPair, PublicKey};
use tessera_vc::proof::{self, Cryptosuite, ProofOptions, ProofSuite};
use tessera_vc::{CheckCode, CheckStatus, VerifyOptions};

fn vector_path(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/vectors")
        .join(rel)
}

fn text(rel: &str) -> String {
    std::fs::read_to_string(vector_path(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn json(rel: &str) -> Value {
    serde_json::from_str(&text(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn now() -> chrono::DateTime<chrono::Utc> {
    "2026-01-01T00:00:00Z".parse().unwrap()
}

fn w3c_key() -> KeyPair {
    let pair = json("w3c-vc-di-eddsa/keyPair.json");
    KeyPair::from_secret_multibase(pair["privateKeyMultibase"].as_str().unwrap()).unwrap()
}

/// Checks every intermediate value of an eddsa-rdfc-2022 W3C vector directory.
fn check_rdfc_vector(dir: &str, unsigned_rel: &str) {
    let unsigned = json(unsigned_rel);
    let config = json(&format!("{dir}/proofConfigDataInt.json"));
    let config = config.as_object().unwrap();
    let input = proof::signing_input(ProofSuite::EddsaRdfc2022, &unsigned, config).unwrap();
    assert_eq!(
        input.canonical_document,
        text(&format!("{dir}/canonDocDataInt.txt")),
        "canonical document"
    );
    assert_eq!(
        input.canonical_proof_config,
        text(&format!("{dir}/proofCanonDataInt.txt")),
        "canonical proof configuration"
    );
    assert_eq!(
        hex::encode(input.document_hash),
        text(&format!("{dir}/docHashDataInt.txt")).trim()
    );
    assert_eq!(
        hex::encode(input.proof_hash),
        text(&format!("{dir}/proofHashDataInt.txt")).trim()
    );
    assert_eq!(
        hex::encode(input.hash_data()),
        text(&format!("{dir}/combinedHashDataInt.txt")).trim()
    );
    let key = w3c_key();
    let signature = key.sign(&input.hash_data());
    assert_eq!(
        hex::encode(signature),
        text(&format!("{dir}/sigHexDataInt.txt")).trim()
    );
    let expected_value = text(&format!("{dir}/sigBTC58DataInt.txt"))
        .trim()
        .to_owned();

    // The public signing API gives the same proof as the vector's signed document.
    let options = ProofOptions::new(
        Cryptosuite::EddsaRdfc2022,
        config["verificationMethod"].as_str().unwrap(),
        Some(config["created"].as_str().unwrap().to_owned()),
    );
    let signed = proof::sign(&unsigned, &key, &options).unwrap();
    let expected = json(&format!("{dir}/signedDataInt.json"));
    assert_eq!(signed["proof"]["proofValue"], expected_value);
    assert_eq!(signed, expected, "signed document");

    // It verifies: the proof passes, but the vector's issuer is not the key's controller.
    let report = tessera_vc::verify(&expected, &VerifyOptions::new(now())).unwrap();
    assert_eq!(
        report.status(CheckCode::Proof),
        CheckStatus::Passed,
        "{report:#?}"
    );
    assert_eq!(report.status(CheckCode::IssuerBinding), CheckStatus::Failed);
    assert!(
        report
            .check(CheckCode::IssuerBinding)
            .unwrap()
            .message
            .contains("issuer must match the verification method's controller")
    );
    assert_eq!(
        report.failed(),
        vec![CheckCode::IssuerBinding],
        "{report:#?}"
    );
    assert!(!report.verified);
}

#[test]
fn w3c_eddsa_rdfc_2022_alumni_every_intermediate_value() {
    check_rdfc_vector(
        "w3c-vc-di-eddsa/eddsa-rdfc-2022",
        "w3c-vc-di-eddsa/unsigned.json",
    );
}

#[test]
fn w3c_eddsa_rdfc_2022_employ_every_intermediate_value() {
    check_rdfc_vector(
        "w3c-vc-di-eddsa/eddsa-rdfc-2022/employ",
        "w3c-vc-di-eddsa/employmentAuth.json",
    );
}

#[test]
fn w3c_eddsa_jcs_2022_every_intermediate_value() {
    let dir = "w3c-vc-di-eddsa/eddsa-jcs-2022";
    let unsigned = json("w3c-vc-di-eddsa/unsigned.json");
    let config = json(&format!("{dir}/proofConfigJCS.json"));
    let input = proof::signing_input(
        ProofSuite::EddsaJcs2022,
        &unsigned,
        config.as_object().unwrap(),
    )
    .unwrap();
    assert_eq!(
        input.canonical_document,
        text(&format!("{dir}/canonDocJCS.txt"))
    );
    assert_eq!(
        input.canonical_proof_config,
        text(&format!("{dir}/proofCanonJCS.txt"))
    );
    assert_eq!(
        hex::encode(input.document_hash),
        text(&format!("{dir}/docHashJCS.txt")).trim()
    );
    assert_eq!(
        hex::encode(input.proof_hash),
        text(&format!("{dir}/proofHashJCS.txt")).trim()
    );
    assert_eq!(
        hex::encode(input.hash_data()),
        text(&format!("{dir}/combinedHashJCS.txt")).trim()
    );
    let key = w3c_key();
    assert_eq!(
        hex::encode(key.sign(&input.hash_data())),
        text(&format!("{dir}/sigHexJCS.txt")).trim()
    );

    let options = ProofOptions::new(
        Cryptosuite::EddsaJcs2022,
        config["verificationMethod"].as_str().unwrap(),
        Some(config["created"].as_str().unwrap().to_owned()),
    );
    let signed = proof::sign(&unsigned, &key, &options).unwrap();
    let expected = json(&format!("{dir}/signedJCS.json"));
    assert_eq!(
        signed["proof"]["proofValue"].as_str().unwrap(),
        text(&format!("{dir}/sigBTC58JCS.txt")).trim()
    );
    assert_eq!(signed, expected);

    let report = tessera_vc::verify(&expected, &VerifyOptions::new(now())).unwrap();
    assert_eq!(
        report.status(CheckCode::Proof),
        CheckStatus::Passed,
        "{report:#?}"
    );
    assert_eq!(report.failed(), vec![CheckCode::IssuerBinding]);

    // §3.3.2: a document whose contexts no longer start with the proof's fails.
    let mut swapped = expected.clone();
    swapped["@context"] = serde_json::json!(["https://www.w3.org/ns/credentials/v2"]);
    let report = tessera_vc::verify(&swapped, &VerifyOptions::new(now())).unwrap();
    assert_eq!(report.status(CheckCode::Proof), CheckStatus::Failed);
}

#[test]
fn w3c_ed25519_signature_2020_intermediate_values_and_verification() {
    let dir = "w3c-vc-di-eddsa/Ed25519Signature2020";
    let signed = json(&format!("{dir}/signedEdSig.json"));
    let inputs = proof::signing_inputs(&signed).unwrap();
    assert_eq!(inputs.len(), 1);
    let input = &inputs[0];
    assert_eq!(input.suite, ProofSuite::Ed25519Signature2020);
    assert_eq!(
        input.canonical_document,
        text(&format!("{dir}/canonDocEdSig.txt"))
    );
    assert_eq!(
        input.canonical_proof_config,
        text(&format!("{dir}/proofCanonEdSig.txt"))
    );
    assert_eq!(
        hex::encode(input.document_hash),
        text(&format!("{dir}/docHashEdSig.txt")).trim()
    );
    assert_eq!(
        hex::encode(input.proof_hash),
        text(&format!("{dir}/proofHashEdSig.txt")).trim()
    );
    assert_eq!(
        hex::encode(input.hash_data()),
        text(&format!("{dir}/combinedHashEdSig.txt")).trim()
    );
    assert_eq!(
        hex::encode(w3c_key().sign(&input.hash_data())),
        text(&format!("{dir}/sigHexEdSig.txt")).trim()
    );
    let report = tessera_vc::verify(&signed, &VerifyOptions::new(now())).unwrap();
    assert_eq!(
        report.status(CheckCode::Proof),
        CheckStatus::Passed,
        "{report:#?}"
    );
    assert!(
        report
            .check(CheckCode::Proof)
            .unwrap()
            .message
            .contains("Ed25519Signature2020")
    );
    assert_eq!(report.failed(), vec![CheckCode::IssuerBinding]);
}

#[test]
fn w3c_proof_sets_verify_every_proof() {
    assert_eq!(
        proof::proofs_of(&json(
            "w3c-vc-di-eddsa/proof-set-chain/signedProofSet2.json"
        ))
        .len(),
        2
    );
    for file in ["signedProofSet1.json", "signedProofSet2.json"] {
        let signed = json(&format!("w3c-vc-di-eddsa/proof-set-chain/{file}"));
        let report = tessera_vc::verify(&signed, &VerifyOptions::new(now())).unwrap();
        let proof = report.check(CheckCode::Proof).unwrap();
        assert_eq!(proof.status, CheckStatus::Passed, "{file}: {report:#?}");
        let n = proof::proofs_of(&signed).len();
        if n > 1 {
            assert_eq!(proof.details.len(), n, "one line per proof of the set");
            assert!(proof.message.contains(&format!("all {n} proofs")));
        }
    }
}

#[test]
fn w3c_proof_chains_with_previous_proof_verify() {
    for file in ["signedProofChain1.json", "signedProofChain2.json"] {
        let signed = json(&format!("w3c-vc-di-eddsa/proof-set-chain/{file}"));
        let report = tessera_vc::verify(&signed, &VerifyOptions::new(now())).unwrap();
        assert_eq!(
            report.status(CheckCode::Proof),
            CheckStatus::Passed,
            "{file}: {report:#?}"
        );
    }
    // Breaking the first proof of the chain breaks it, and the report says which proof.
    let mut signed = json("w3c-vc-di-eddsa/proof-set-chain/signedProofChain2.json");
    signed["proof"][0]["created"] = "2023-02-24T23:36:39Z".into();
    let report = tessera_vc::verify(&signed, &VerifyOptions::new(now())).unwrap();
    let proof = report.check(CheckCode::Proof).unwrap();
    assert_eq!(proof.status, CheckStatus::Failed);
    assert!(
        proof.message.starts_with("proof 1 of 4"),
        "{}",
        proof.message
    );
}

#[test]
fn w3c_proof_chain_can_be_reproduced_by_signing() {
    // Sign the chain's third proof over the set of the first two, as the vector did.
    let keys = json("w3c-vc-di-eddsa/proof-set-chain/multiKeyPairs.json");
    let key3 =
        KeyPair::from_secret_multibase(keys["keyPair3"]["privateKeyMultibase"].as_str().unwrap())
            .unwrap();
    let set = json("w3c-vc-di-eddsa/proof-set-chain/signedProofSet2.json");
    let config = json("w3c-vc-di-eddsa/proof-set-chain/proofChainConfig1.json");
    let config = config.as_object().unwrap();
    let proofs = proof::proofs_of(&set);
    let unsecured =
        proof::unsecured_document_for(set.as_object().unwrap(), config, &proofs).unwrap();
    let input = proof::signing_input(ProofSuite::EddsaRdfc2022, &unsecured, config).unwrap();
    let value = tessera_vc::keys::encode_base58btc(&key3.sign(&input.hash_data()));
    let signed = json("w3c-vc-di-eddsa/proof-set-chain/proofChainConfigSigned1.json");
    assert_eq!(value, signed["proofValue"].as_str().unwrap());
}

struct OneEdTech {
    dir: &'static str,
}

impl OneEdTech {
    fn key(&self) -> (KeyPair, String) {
        let pair = json(&format!("{}/keyPair.json", self.dir));
        let key =
            KeyPair::from_secret_multibase(pair["secretKeyMultibase"].as_str().unwrap()).unwrap();
        let values = json(&format!("{}/intermediate-values.json", self.dir));
        assert_eq!(
            hex::encode(key.public_key().as_bytes()),
            values["publicKeyHex"].as_str().unwrap()
        );
        assert_eq!(
            key.public_key(),
            PublicKey::from_multibase(pair["publicKeyMultibase"].as_str().unwrap()).unwrap()
        );
        (key, pair["id"].as_str().unwrap().to_owned())
    }

    fn options(&self) -> VerifyOptions {
        let mut options = VerifyOptions::new(now());
        options
            .add_controller_document(&json(&format!("{}/controller.json", self.dir)))
            .unwrap();
        options
    }

    fn check(&self) {
        let unsigned = json(&format!("{}/unsigned.json", self.dir));
        let expected = json(&format!("{}/signed.json", self.dir));
        let values = json(&format!("{}/intermediate-values.json", self.dir));
        let (key, vm) = self.key();
        let proof_in_vector = proof::proofs_of(&expected).last().copied().unwrap().clone();
        let created = proof_in_vector["created"].as_str().unwrap().to_owned();

        let inputs = proof::signing_inputs(&expected).unwrap();
        let input = inputs.last().unwrap();
        assert_eq!(
            input.canonical_document,
            text(&format!("{}/document-canon.txt", self.dir))
        );
        assert_eq!(
            input.canonical_proof_config,
            text(&format!("{}/proof-canon.txt", self.dir))
        );
        assert_eq!(hex::encode(input.document_hash), values["documentHashHex"]);
        assert_eq!(hex::encode(input.proof_hash), values["proofHashHex"]);
        assert_eq!(hex::encode(input.hash_data()), values["dataToSignHex"]);
        assert_eq!(
            hex::encode(key.sign(&input.hash_data())),
            values["signatureHex"]
        );

        let signed = proof::sign(
            &unsigned,
            &key,
            &ProofOptions::new(Cryptosuite::EddsaRdfc2022, vm, Some(created)),
        )
        .unwrap();
        let ours = proof::proofs_of(&signed).last().copied().unwrap().clone();
        assert_eq!(ours["proofValue"], values["proofValue"]);
        assert_eq!(ours["proofValue"], proof_in_vector["proofValue"]);

        let report = tessera_vc::verify(&expected, &self.options()).unwrap();
        assert!(report.verified, "{}", report.to_text());
        assert_eq!(report.status(CheckCode::IssuerBinding), CheckStatus::Passed);
        assert_eq!(
            report.status(CheckCode::Shape),
            CheckStatus::Passed,
            "{report:#?}"
        );
        let report = tessera_vc::verify(&signed, &self.options()).unwrap();
        assert!(report.verified, "{}", report.to_text());

        // Without the controller document the key cannot be found offline: not verified,
        // and the report says what to supply.
        let report = tessera_vc::verify(&expected, &VerifyOptions::new(now())).unwrap();
        assert!(!report.verified);
        let proof = report.check(CheckCode::Proof).unwrap();
        assert_eq!(proof.status, CheckStatus::NotChecked);
        assert!(
            proof.message.contains("--did-document"),
            "{}",
            proof.message
        );
    }
}

#[test]
fn one_ed_tech_ob3_vector_reproduced_byte_for_byte_and_verifies() {
    OneEdTech { dir: "1edtech-ob3" }.check();
}

#[test]
fn one_ed_tech_clr2_vector_reproduced_byte_for_byte_and_verifies() {
    OneEdTech {
        dir: "1edtech-clr2",
    }
    .check();
    let signed = json("1edtech-clr2/signed.json");
    let report = tessera_vc::verify(
        &signed,
        &OneEdTech {
            dir: "1edtech-clr2",
        }
        .options(),
    )
    .unwrap();
    assert_eq!(report.embedded.len(), 1);
    assert!(report.embedded[0].report.verified, "{}", report.to_text());
    assert_eq!(
        report.status(CheckCode::EmbeddedCredentials),
        CheckStatus::Passed
    );
}

#[test]
fn resolver_accepts_the_one_ed_tech_controller_document() {
    let resolver = KeyResolver::new()
        .with_document(&json("1edtech-ob3/controller.json"))
        .unwrap();
    let vm = resolver
        .resolve(
            "https://example.edu/issuers/565049#z6MkjZRZv3aez3r18pB1RBFJR1kwUVJ5jHt92JmQwXbd5hwi",
            "assertionMethod",
        )
        .unwrap();
    assert_eq!(vm.controller, "https://example.edu/issuers/565049");
}

//! Black-box tests of the offline credential commands: `keys generate`, `credential sign`,
//! `verify`, `canon`, run as the real binary.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::{Value, json};

fn tessera() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tessera"))
}

fn vc_tests(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("crates/tessera-vc/tests")
        .join(rel)
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("run tessera")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn code(out: &Output) -> i32 {
    out.status.code().expect("exit code")
}

fn write(dir: &Path, name: &str, value: &Value) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_vec_pretty(value).unwrap()).unwrap();
    path
}

fn generate(dir: &Path, controller: Option<&str>) -> (PathBuf, Value) {
    let mut cmd = tessera();
    cmd.args(["keys", "generate"]);
    if let Some(c) = controller {
        cmd.args(["--controller", c]);
    }
    let out = run(&mut cmd);
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    let key: Value = serde_json::from_slice(&out.stdout).unwrap();
    (write(dir, "key.json", &key), key)
}

fn credential_for(issuer: &str) -> Value {
    json!({
        "@context": ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"],
        "id": "urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33",
        "type": ["VerifiableCredential", "AlumniCredential"],
        "name": "Alumni Credential",
        "issuer": issuer,
        "validFrom": "2023-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:abcdefgh", "alumniOf": "The School of Examples"}
    })
}

fn sign(key: &Path, args: &[&str], input: &Path) -> Output {
    run(tessera()
        .args(["credential", "sign", "--key"])
        .arg(key)
        .args(args)
        .arg(input))
}

#[test]
fn keys_generate_prints_a_multikey_with_the_seed_form_secret() {
    let dir = tempfile::tempdir().unwrap();
    let (_, key) = generate(dir.path(), None);
    let public = key["publicKeyMultibase"].as_str().unwrap();
    assert!(public.starts_with("z6Mk"), "{key}");
    assert!(
        key["secretKeyMultibase"]
            .as_str()
            .unwrap()
            .starts_with("z3u2")
    );
    assert_eq!(key["type"], "Multikey");
    assert_eq!(key["controller"], format!("did:key:{public}"));
    assert_eq!(key["id"], format!("did:key:{public}#{public}"));
    let (_, other) = generate(dir.path(), None);
    assert_ne!(other["secretKeyMultibase"], key["secretKeyMultibase"]);

    let (_, web) = generate(dir.path(), Some("did:web:school.example"));
    assert_eq!(web["controller"], "did:web:school.example");
    assert!(
        web["id"]
            .as_str()
            .unwrap()
            .starts_with("did:web:school.example#z6Mk")
    );

    let out = run(tessera().args(["keys", "generate", "--controller", "not a url"]));
    assert_eq!(code(&out), 2);
}

#[test]
fn generate_sign_verify_round_trip_with_both_suites() {
    let dir = tempfile::tempdir().unwrap();
    let (key_path, key) = generate(dir.path(), None);
    let unsigned = write(
        dir.path(),
        "unsigned.json",
        &credential_for(key["controller"].as_str().unwrap()),
    );
    for suite in ["eddsa-rdfc-2022", "eddsa-jcs-2022"] {
        let out = sign(
            &key_path,
            &["--suite", suite, "--created", "2024-05-01T12:00:00Z"],
            &unsigned,
        );
        assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
        let signed: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(signed["proof"]["cryptosuite"], suite);
        assert_eq!(signed["proof"]["created"], "2024-05-01T12:00:00Z");
        let path = write(dir.path(), &format!("{suite}.json"), &signed);
        let out = run(tessera().args(["verify"]).arg(&path));
        assert_eq!(code(&out), 0, "{}", stdout(&out));
        assert!(stdout(&out).contains("VERIFIED"), "{}", stdout(&out));

        // Deterministic: the same key, document and created give the same bytes.
        let again = sign(
            &key_path,
            &["--suite", suite, "--created", "2024-05-01T12:00:00Z"],
            &unsigned,
        );
        assert_eq!(again.stdout, out_bytes(&signed));
    }

    // Signing a signed file again makes a proof set; `--created none` omits created.
    let first = dir.path().join("eddsa-rdfc-2022.json");
    let out = sign(&key_path, &["--created", "none"], &first);
    assert_eq!(code(&out), 0);
    let set: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(set["proof"].as_array().unwrap().len(), 2);
    assert!(set["proof"][1].get("created").is_none());
    let path = write(dir.path(), "set.json", &set);
    let out = run(tessera().args(["verify", "--format", "json"]).arg(&path));
    assert_eq!(code(&out), 0, "{}", stdout(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["summary"]["verified"], 1);
    assert_eq!(report["files"][0]["report"]["verified"], true);
}

fn out_bytes(v: &Value) -> Vec<u8> {
    let mut bytes = serde_json::to_vec_pretty(v).unwrap();
    bytes.push(b'\n');
    bytes
}

#[test]
fn sign_reads_standard_input_and_refuses_unsafe_documents() {
    let dir = tempfile::tempdir().unwrap();
    let (key_path, key) = generate(dir.path(), None);
    let mut doc = credential_for(key["controller"].as_str().unwrap());
    let mut child = tessera()
        .args([
            "credential",
            "sign",
            "--created",
            "2024-05-01T12:00:00Z",
            "--key",
        ])
        .arg(&key_path)
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(&serde_json::to_vec(&doc).unwrap())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));

    // The examples context has an @vocab, so undefined terms pass there; a relative IRI does not.
    doc["credentialSubject"]["id"] = json!("learners/42");
    let path = write(dir.path(), "unsafe.json", &doc);
    let out = sign(&key_path, &[], &path);
    assert_eq!(code(&out), 3);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("refusing to sign") && err.contains("credentialSubject"),
        "{err}"
    );

    let out = sign(&key_path, &["--created", "last tuesday"], &path);
    assert_eq!(code(&out), 2, "{}", String::from_utf8_lossy(&out.stderr));
    let out = sign(&dir.path().join("missing.json"), &[], &path);
    assert_eq!(code(&out), 2);
}

#[test]
fn sign_with_the_legacy_1edtech_key_reproduces_the_vector() {
    let dir = tempfile::tempdir().unwrap();
    let values: Value = serde_json::from_slice(
        &std::fs::read(vc_tests("vectors/1edtech-ob3/intermediate-values.json")).unwrap(),
    )
    .unwrap();
    let out = sign(
        &vc_tests("vectors/1edtech-ob3/keyPair.json"),
        &["--created", "2010-01-01T19:23:24Z"],
        &vc_tests("vectors/1edtech-ob3/unsigned.json"),
    );
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    let signed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(signed["proof"]["proofValue"], values["proofValue"]);
    let path = write(dir.path(), "ob.json", &signed);

    let with_doc = run(tessera()
        .args(["verify", "--did-document"])
        .arg(vc_tests("vectors/1edtech-ob3/controller.json"))
        .arg(&path));
    assert_eq!(code(&with_doc), 0, "{}", stdout(&with_doc));
    let without = run(tessera().arg("verify").arg(&path));
    assert_eq!(code(&without), 1);
    assert!(
        stdout(&without).contains("--did-document"),
        "{}",
        stdout(&without)
    );
}

#[test]
fn verify_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let clr = vc_tests("vectors/1edtech-clr2/signed.json");
    let controller = vc_tests("vectors/1edtech-clr2/controller.json");
    let ok = run(tessera()
        .arg("verify")
        .arg("--did-document")
        .arg(&controller)
        .arg(&clr));
    assert_eq!(code(&ok), 0, "{}", stdout(&ok));

    // Did not verify: 1.
    let mut tampered: Value = serde_json::from_slice(&std::fs::read(&clr).unwrap()).unwrap();
    tampered["name"] = json!("Forged Transcript");
    let path = write(dir.path(), "tampered.json", &tampered);
    let out = run(tessera()
        .arg("verify")
        .arg("--did-document")
        .arg(&controller)
        .arg(&path));
    assert_eq!(code(&out), 1);
    assert!(stdout(&out).contains("NOT VERIFIED"));
    assert!(
        stdout(&out).contains("failed      proof"),
        "{}",
        stdout(&out)
    );

    let not_json = dir.path().join("not.json");
    std::fs::write(&not_json, "hello").unwrap();
    let out = run(tessera().arg("verify").arg(&not_json));
    assert_eq!(code(&out), 1);
    assert!(stdout(&out).contains("not JSON"));

    // Could not process: 3.
    let big = dir.path().join("big.json");
    let file = std::fs::File::create(&big).unwrap();
    file.set_len(50 * 1024 * 1024).unwrap();
    let out = run(tessera().arg("verify").arg(&big));
    assert_eq!(code(&out), 3, "{}", stdout(&out));
    assert!(stdout(&out).contains("COULD NOT PROCESS"));

    let deep = dir.path().join("deep.json");
    std::fs::write(
        &deep,
        format!("{}{}", "[".repeat(10_000), "]".repeat(10_000)),
    )
    .unwrap();
    let out = run(tessera().arg("verify").arg(&deep));
    assert_eq!(code(&out), 3);
    assert!(stdout(&out).contains("deeper than 128"), "{}", stdout(&out));

    // Usage errors: 2.
    for args in [
        vec!["verify"],
        vec!["verify", "--format", "yaml", "x.json"],
        vec!["verify", "--now", "tomorrow", "x.json"],
        vec!["verify", "/definitely/not/here.json"],
    ] {
        let out = run(tessera().args(&args));
        assert_eq!(code(&out), 2, "{args:?}");
    }
    let out = run(tessera().args(["verify", "--help"]));
    assert!(stdout(&out).contains("Exit codes"));
}

#[test]
fn verify_walks_directories_in_parallel_and_reports_each_file() {
    let dir = tempfile::tempdir().unwrap();
    let nested = dir.path().join("a/b");
    std::fs::create_dir_all(&nested).unwrap();
    let signed: Value = serde_json::from_slice(
        &std::fs::read(vc_tests("vectors/1edtech-ob3/signed.json")).unwrap(),
    )
    .unwrap();
    write(dir.path(), "one.json", &signed);
    write(&nested, "two.jsonld", &signed);
    write(&nested, "three.json", &signed);
    std::fs::write(dir.path().join("notes.txt"), "ignored").unwrap();
    let controller = vc_tests("vectors/1edtech-ob3/controller.json");
    let out = run(tessera()
        .args([
            "verify",
            "--jobs",
            "2",
            "--format",
            "json",
            "--did-document",
        ])
        .arg(&controller)
        .arg(dir.path()));
    assert_eq!(code(&out), 0, "{}", stdout(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["summary"]["verified"], 3);
    assert_eq!(report["files"].as_array().unwrap().len(), 3);

    let mut bad = signed.clone();
    bad["validFrom"] = json!("2010-01-01T00:00:01Z");
    write(&nested, "bad.json", &bad);
    let out = run(tessera()
        .args(["verify", "--did-document"])
        .arg(&controller)
        .arg(dir.path()));
    assert_eq!(code(&out), 1);
    let text = stdout(&out);
    assert!(text.contains("bad.json: NOT VERIFIED"), "{text}");
    assert!(
        text.contains("4 file(s): 3 verified, 1 not verified"),
        "{text}"
    );
}

#[test]
fn verify_checks_status_against_a_supplied_list_and_time() {
    let fixtures = vc_tests("fixtures");
    let clr = fixtures.join("clr2-transcript.json");
    let key = fixtures.join("issuer-key.json");
    let dir = tempfile::tempdir().unwrap();
    let out = sign(&key, &["--created", "2025-06-20T00:00:05Z"], &clr);
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    let path = dir.path().join("clr.json");
    std::fs::write(&path, &out.stdout).unwrap();
    let base = |now: &str| {
        let mut cmd = tessera();
        cmd.args(["verify", "--now", now, "--did-document"])
            .arg(fixtures.join("issuer-controller.json"))
            .arg("--status-list")
            .arg(fixtures.join("status-list-credential.json"))
            .arg(&path);
        run(&mut cmd)
    };
    let out = base("2026-01-01T00:00:00Z");
    assert_eq!(code(&out), 0, "{}", stdout(&out));
    assert!(stdout(&out).contains("not revoked"), "{}", stdout(&out));
    // In 2036 the embedded badges have expired.
    let out = base("2036-01-01T00:00:00Z");
    assert_eq!(code(&out), 1);
    assert!(stdout(&out).contains("expired"), "{}", stdout(&out));
}

#[test]
fn canon_shows_the_alumni_vector_hashes_and_signed_bytes() {
    let dir = vc_tests("vectors/w3c-vc-di-eddsa/eddsa-rdfc-2022");
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap();
    let out = run(tessera().arg("canon").arg(dir.join("signedDataInt.json")));
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    let text = stdout(&out);
    assert!(text.contains(&read("canonDocDataInt.txt")), "{text}");
    assert!(text.contains(&read("proofCanonDataInt.txt")));
    for hash in [
        "docHashDataInt.txt",
        "proofHashDataInt.txt",
        "combinedHashDataInt.txt",
    ] {
        assert!(text.contains(read(hash).trim()), "{hash}: {text}");
    }

    let out = run(tessera()
        .args(["canon", "--format", "json"])
        .arg(dir.join("signedDataInt.json")));
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let proof = &json["proofs"][0];
    assert_eq!(proof["documentHash"], read("docHashDataInt.txt").trim());
    assert_eq!(proof["proofHash"], read("proofHashDataInt.txt").trim());
    assert_eq!(proof["signedBytes"], read("combinedHashDataInt.txt").trim());
    assert_eq!(proof["canonicalDocument"], read("canonDocDataInt.txt"));

    // An unsigned document: the canonical document alone.
    let out = run(tessera()
        .arg("canon")
        .arg(vc_tests("vectors/w3c-vc-di-eddsa/unsigned.json")));
    assert_eq!(code(&out), 0);
    assert!(stdout(&out).contains(read("docHashDataInt.txt").trim()));
    let out = run(tessera().arg("canon").arg("/no/such/file.json"));
    assert_eq!(code(&out), 3);
}

#[test]
fn verify_reads_standard_input_and_sign_honours_vm() {
    let dir = tempfile::tempdir().unwrap();
    let (key_path, key) = generate(dir.path(), None);
    let unsigned = write(
        dir.path(),
        "unsigned.json",
        &credential_for(key["controller"].as_str().unwrap()),
    );
    let out = sign(&key_path, &["--created", "2024-05-01T12:00:00Z"], &unsigned);
    assert_eq!(code(&out), 0);
    let mut child = tessera()
        .args(["verify", "--format", "json", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&out.stdout).unwrap();
    let verified = child.wait_with_output().unwrap();
    assert_eq!(code(&verified), 0, "{}", stdout(&verified));
    let report: Value = serde_json::from_slice(&verified.stdout).unwrap();
    assert_eq!(report["files"][0]["path"], "-");

    // --vm overrides the key file's id; a method the did:key document does not list fails.
    let out = sign(
        &key_path,
        &[
            "--created",
            "2024-05-01T12:00:00Z",
            "--vm",
            &format!("{}#other", key["controller"].as_str().unwrap()),
        ],
        &unsigned,
    );
    assert_eq!(code(&out), 0);
    let signed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        signed["proof"]["verificationMethod"]
            .as_str()
            .unwrap()
            .ends_with("#other")
    );
    let path = write(dir.path(), "other-vm.json", &signed);
    let out = run(tessera().arg("verify").arg(&path));
    assert_eq!(code(&out), 1);
    assert!(
        stdout(&out).contains("does not list the key"),
        "{}",
        stdout(&out)
    );
}

//! Issuing inside the service: the master key, the organisations' issuer keys (sealed at rest),
//! issuing an Open Badges 3.0 credential for a mastery, and the signed Bitstring Status Lists,
//! kept in memory once made.
//!
//! The routes live in [`crate::routes::credentials`] (the API) and [`crate::routes::did`] (the
//! public DID documents, status lists and context); the CLI (`tessera keys rotate`) calls
//! [`rotate_key`] directly.
//!
//! # The master key
//! `TESSERA_MASTER_KEY` (64 hex digits or base64 of 32 bytes) if set, otherwise the file
//! `<data dir>/master.key`, created on first start with mode 0600. It seals each issuer key's
//! secret (XChaCha20-Poly1305, bound to the organisation and key id); it is never logged
//! (`MasterKey`'s `Debug` shows only its fingerprint) and no route returns it or a secret key.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use tessera_issue::achievement::{
    self, CompetencyItem, CredentialInput, EvidenceRef, IssuerProfile,
};
use tessera_issue::did::{did_web, issuer_for};
use tessera_issue::sealing::{MasterKey, key_aad};
use tessera_issue::status::{self, ListSpec};
use tessera_issue::tessera_vc::keys::KeyPair;
use tessera_review::MasteryState;
use tessera_store::accounts::Org;
use tessera_store::credentials::{Credential, NewCredential};
use tessera_store::issuer_keys::{IssuerKey, NewIssuerKey};
use tessera_store::status_lists::STATUS_LIST_SIZE;
use tessera_store::{Store, StoreError};

use crate::error::AppError;
use crate::state::AppState;

/// The environment variable holding the master key.
pub const MASTER_KEY_ENV: &str = "TESSERA_MASTER_KEY";
/// The key file's name in the data directory.
pub const MASTER_KEY_FILE: &str = "master.key";
/// How long a cached status list is served before its version is checked again. Changes made
/// through this process drop the cache at once; this bounds how stale a list can be when
/// another process behind the same database changed it.
pub const STATUS_RECHECK: Duration = Duration::from_secs(5);
/// `Cache-Control` of a status list: verifiers may keep it a minute.
pub const STATUS_CACHE_CONTROL: &str = "public, max-age=60";

/// Why issuing could not go on (shown as is by the CLI; a 500 with the cause logged by the API).
#[derive(Debug, thiserror::Error)]
pub enum IssuingError {
    /// The master key is unusable or its file cannot be read or made.
    #[error("master key ({source_name}): {reason}")]
    MasterKey {
        /// `TESSERA_MASTER_KEY` or the key file's path.
        source_name: String,
        /// Why.
        reason: String,
    },
    /// The issuer key was sealed under another master key.
    #[error(
        "the issuer key {key} was sealed with master key {sealed_with}, but the service runs \
         with master key {running}: start it with the master key the issuer keys were made with \
         ({MASTER_KEY_ENV} or <data dir>/{MASTER_KEY_FILE})"
    )]
    WrongMasterKey {
        /// The issuer key's id.
        key: String,
        /// The fingerprint recorded beside it.
        sealed_with: String,
        /// The fingerprint of the key in use.
        running: String,
    },
    /// The sealed secret does not open although the fingerprints agree: the row was altered or
    /// moved.
    #[error("the sealed issuer key {0} does not open (altered or moved row)")]
    Unseal(String),
    /// No randomness.
    #[error("randomness unavailable: {0}")]
    Random(String),
    /// The database.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Building or signing.
    #[error(transparent)]
    Issue(#[from] tessera_issue::Error),
}

impl From<IssuingError> for AppError {
    fn from(e: IssuingError) -> Self {
        match e {
            IssuingError::Store(s) => s.into(),
            IssuingError::Issue(tessera_issue::Error::NotMastered) => {
                AppError::Conflict("the competency is not mastered")
            }
            other => AppError::internal(other),
        }
    }
}

fn random<const N: usize>() -> Result<[u8; N], IssuingError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| IssuingError::Random(e.to_string()))?;
    Ok(bytes)
}

/// The master key: `env_value` (from `TESSERA_MASTER_KEY`) if given, else the key file in
/// `data_dir`, made (mode 0600) when there is none.
pub fn load_master_key(
    env_value: Option<&str>,
    data_dir: &Path,
) -> Result<MasterKey, IssuingError> {
    if let Some(text) = env_value {
        return MasterKey::parse(text).map_err(|e| IssuingError::MasterKey {
            source_name: MASTER_KEY_ENV.into(),
            reason: e.to_string(),
        });
    }
    let path = data_dir.join(MASTER_KEY_FILE);
    let file_error = |path: &PathBuf, reason: String| IssuingError::MasterKey {
        source_name: path.display().to_string(),
        reason,
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            return MasterKey::parse(&text).map_err(|e| file_error(&path, e.to_string()));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(file_error(&path, e.to_string())),
    }
    let key = MasterKey::from_bytes(random()?);
    match write_new_private(&path, key.to_hex().as_bytes()) {
        Ok(()) => {
            tracing::info!(path = %path.display(), id = %key.id(), "created the master key file");
            Ok(key)
        }
        // Another process made it first: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let text =
                std::fs::read_to_string(&path).map_err(|e| file_error(&path, e.to_string()))?;
            MasterKey::parse(&text).map_err(|e| file_error(&path, e.to_string()))
        }
        Err(e) => Err(file_error(&path, e.to_string())),
    }
}

/// Creates `path` (never overwriting) readable and writable by the owner only.
fn write_new_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.write_all(b"\n")?;
    file.sync_all()
}

/// Opens a stored issuer key with the master key.
pub fn open_key(master: &MasterKey, key: &IssuerKey) -> Result<KeyPair, IssuingError> {
    let running = master.id();
    if key.master_key_id != running {
        return Err(IssuingError::WrongMasterKey {
            key: key.id.clone(),
            sealed_with: key.master_key_id.clone(),
            running,
        });
    }
    let seed = master
        .open(&key.sealed_secret, &key_aad(&key.org_id, &key.id))
        .map_err(|_| IssuingError::Unseal(key.id.clone()))?;
    let seed: [u8; 32] = seed
        .try_into()
        .map_err(|_| IssuingError::Unseal(key.id.clone()))?;
    Ok(KeyPair::from_seed(seed))
}

async fn new_key(
    store: &Store,
    master: &MasterKey,
    org_id: &str,
    actor: Option<&str>,
    rotate: bool,
    now: DateTime<Utc>,
) -> Result<IssuerKey, IssuingError> {
    let seed: [u8; 32] = random()?;
    let id = uuid::Uuid::new_v4().to_string();
    let public = KeyPair::from_seed(seed).public_key().to_multibase();
    let sealed = master.seal(&seed, &key_aad(org_id, &id), random()?)?;
    Ok(store
        .add_issuer_key(
            &NewIssuerKey {
                id: &id,
                org_id,
                public_key_multibase: &public,
                sealed_secret: &sealed,
                master_key_id: &master.id(),
                actor,
                rotate,
            },
            now,
        )
        .await?)
}

/// The organisation's current key, made on first use.
pub async fn current_key(
    store: &Store,
    master: &MasterKey,
    org_id: &str,
    now: DateTime<Utc>,
) -> Result<(IssuerKey, KeyPair), IssuingError> {
    let key = match store.current_issuer_key(org_id).await? {
        Some(k) => k,
        None => match new_key(store, master, org_id, None, false, now).await {
            Ok(k) => k,
            // Someone else made the first key at the same moment: use theirs.
            Err(IssuingError::Store(StoreError::Conflict(_))) => store
                .current_issuer_key(org_id)
                .await?
                .ok_or(StoreError::NotFound)?,
            Err(e) => return Err(e),
        },
    };
    let pair = open_key(master, &key)?;
    Ok((key, pair))
}

/// Makes a new current key; the old one stays listed as a past key (audited as
/// `IssuerKeyRotated`). Refused under a master key other than the one the current key was
/// sealed with: a rotation must not leave an organisation's keys under two master keys.
pub async fn rotate_key(
    store: &Store,
    master: &MasterKey,
    org_id: &str,
    actor: Option<&str>,
    now: DateTime<Utc>,
) -> Result<IssuerKey, IssuingError> {
    if let Some(current) = store.current_issuer_key(org_id).await? {
        open_key(master, &current)?;
    }
    new_key(store, master, org_id, actor, true, now).await
}

/// A signed status list as served: the exact bytes and their ETag.
#[derive(Debug)]
pub struct ServedList {
    /// The signed `BitstringStatusListCredential`.
    pub bytes: axum::body::Bytes,
    /// `"<hex>"`: a digest of the bytes.
    pub etag: String,
    version: i64,
    checked: Instant,
}

/// Issuing state shared by the handlers: the master key (loaded once) and the status list cache.
#[derive(Debug)]
pub struct Issuing {
    env_key: Option<secrecy::SecretString>,
    master: OnceLock<MasterKey>,
    lists: Mutex<HashMap<(String, String, i64), Arc<ServedList>>>,
}

impl Issuing {
    /// With `TESSERA_MASTER_KEY` as configured (the key itself is loaded, or the key file
    /// made, by [`Issuing::master_key`]).
    pub fn new(env_key: Option<secrecy::SecretString>) -> Self {
        Self {
            env_key,
            master: OnceLock::new(),
            lists: Mutex::new(HashMap::new()),
        }
    }

    /// The master key, loaded (or its file made) on first call.
    pub fn master_key(&self, data_dir: &Path) -> Result<&MasterKey, IssuingError> {
        if let Some(k) = self.master.get() {
            return Ok(k);
        }
        use secrecy::ExposeSecret as _;
        let key = load_master_key(self.env_key.as_ref().map(|s| s.expose_secret()), data_dir)?;
        Ok(self.master.get_or_init(|| key))
    }

    fn cached(&self, key: &(String, String, i64)) -> Option<Arc<ServedList>> {
        self.lists
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(key)
            .cloned()
    }

    fn keep(&self, key: (String, String, i64), list: Arc<ServedList>) {
        self.lists
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(key, list);
    }

    /// Drops the organisation's cached lists (after a status change).
    pub fn forget_lists(&self, slug: &str) {
        self.lists
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .retain(|(s, _, _), _| s != slug);
    }
}

/// The Achievement of a competency: an https URL under the service.
pub fn achievement_id(public: &str, slug: &str, competency_id: &str) -> String {
    format!("{public}/orgs/{slug}/achievements/{competency_id}")
}

/// The Achievement's image: the generated badge, served publicly
/// ([`crate::routes::badges::achievement_image`]).
pub fn achievement_image(public: &str, slug: &str, competency_id: &str) -> String {
    format!("{}/image.png", achievement_id(public, slug, competency_id))
}

/// Who signs the organisation's credentials, as its settings say now.
#[derive(Debug, Clone)]
pub struct SigningIdentity {
    /// `issuer.id`: the did:web DID, or the did:key of `key`.
    pub id: String,
    /// The verification method of `key` under that DID.
    pub method: String,
    /// Whether a second `eddsa-jcs-2022` proof is added (issuer settings).
    pub jcs_proof: bool,
    /// Whether the learner is also named by a salted hash of their e-mail (issuer settings).
    pub email_identifier: bool,
}

/// The salted e-mail `IdentityObject` for a credential (a fresh salt each time, so two
/// credentials of one learner do not share a hash).
pub fn email_identifier(email: &str) -> Result<serde_json::Value, IssuingError> {
    let salt = hex::encode(random::<16>()?);
    Ok(achievement::hashed_email(email, &salt))
}

/// The issuer id and verification method for the organisation's current settings and `key`.
pub async fn issuer_of(
    state: &AppState,
    org: &Org,
    key: &IssuerKey,
) -> Result<SigningIdentity, IssuingError> {
    let settings = state.store.issuer_settings(&org.id).await?;
    let did = did_web(&state.config.public_url, &org.slug)?;
    let (id, method) = issuer_for(
        &settings.did_method,
        &did,
        key.seq,
        &key.public_key_multibase,
    )?;
    Ok(SigningIdentity {
        id,
        method,
        jcs_proof: settings.jcs_proof,
        email_identifier: settings.email_identifier,
    })
}

/// The signed status list `(purpose, seq)` of the organisation, from the cache when it is fresh;
/// remade and republished when its bits changed.
pub async fn status_list(
    state: &AppState,
    slug: &str,
    purpose: &str,
    seq: i64,
) -> Result<Arc<ServedList>, AppError> {
    let cache_key = (slug.to_owned(), purpose.to_owned(), seq);
    let cached = state.issuing.cached(&cache_key);
    if let Some(c) = &cached
        && c.checked.elapsed() < STATUS_RECHECK
    {
        return Ok(c.clone());
    }
    let org = state.store.org_by_slug(slug).await?;
    let row = state.store.status_list(&org.id, purpose, seq).await?;
    if let Some(c) = cached
        && c.version == row.version
    {
        let fresh = Arc::new(ServedList {
            bytes: c.bytes.clone(),
            etag: c.etag.clone(),
            version: c.version,
            checked: Instant::now(),
        });
        state.issuing.keep(cache_key, fresh.clone());
        return Ok(fresh);
    }
    let (version, text) = match (row.published_version, row.published) {
        (Some(v), Some(text)) if v == row.version => (v, text),
        _ => {
            let now = state.clock.now();
            let (version, set) = state.store.status_list_bits(&row.id).await?;
            let master = state.issuing.master_key(&state.config.data_dir)?;
            let (key, pair) = current_key(&state.store, master, &org.id, now).await?;
            let SigningIdentity {
                id: issuer, method, ..
            } = issuer_of(state, &org, &key).await?;
            let url = status::list_url(&state.config.public_url, slug, purpose, seq);
            let size = usize::try_from(row.size).map_err(AppError::internal)?;
            let signed = status::signed_list(
                &ListSpec {
                    url: &url,
                    issuer_id: &issuer,
                    purpose,
                    size,
                    set: &set,
                    valid_from: now,
                },
                &pair,
                &method,
            )
            .map_err(IssuingError::from)?;
            if state
                .store
                .publish_status_list(&row.id, version, &signed)
                .await?
            {
                (version, signed)
            } else {
                // A newer one was published meanwhile: serve that.
                let row = state.store.status_list(&org.id, purpose, seq).await?;
                match (row.published_version, row.published) {
                    (Some(v), Some(text)) => (v, text),
                    _ => (version, signed),
                }
            }
        }
    };
    let etag = format!(
        "\"{}\"",
        &hex::encode(Sha256::digest(text.as_bytes()))[..32]
    );
    let served = Arc::new(ServedList {
        bytes: axum::body::Bytes::from(text),
        etag,
        version,
        checked: Instant::now(),
    });
    state.issuing.keep(cache_key, served.clone());
    Ok(served)
}

/// The idempotency key of the credential for a mastery: one credential per (learner,
/// competency, mastery date); a mastery withdrawn and later regained is a new mastery.
pub fn mastery_key(learner_id: &str, competency_id: &str, mastered_at: DateTime<Utc>) -> String {
    format!(
        "mastery:{learner_id}:{competency_id}:{}",
        achievement::xsd_date_time(mastered_at)
    )
}

/// Issues (or finds, if already issued) the credential for the learner's current mastery of the
/// competency. Returns the credential and whether this call made it.
pub async fn issue_for_mastery(
    state: &AppState,
    org: &Org,
    learner_id: &str,
    competency_id: &str,
    issued_by: Option<&str>,
) -> Result<(Credential, bool), AppError> {
    let store = &state.store;
    let public = state.config.public_url.as_str();
    let competency = store.competency(competency_id).await?;
    if competency.org_id != org.id {
        return Err(AppError::NotFound);
    }
    let record = store.learner_record(&org.id, learner_id).await?;
    let rec = record
        .competencies
        .get(competency_id)
        .filter(|r| r.state == MasteryState::Mastered)
        .ok_or(AppError::Conflict("the competency is not mastered"))?;
    let mastered_at = rec
        .mastered_at
        .ok_or(AppError::Conflict("the competency is not mastered"))?;
    let idempotency_key = mastery_key(learner_id, competency_id, mastered_at);
    if let Some(existing) = store.credential_by_key(&idempotency_key).await? {
        return Ok((existing, false));
    }

    let now = state.clock.now();
    let rubric = match &rec.rubric {
        Some(r) => Some(
            store
                .rubric(&org.id, &r.id, Some(&r.version.to_string()))
                .await?
                .1,
        ),
        None => None,
    };
    let framework = store.framework(&competency.framework_id).await?;
    let evidence = evidence_refs(state, org, learner_id, competency_id, rec).await?;
    let subject_id = store
        .credential_subject_id(&org.id, learner_id, now)
        .await?;
    let master = state.issuing.master_key(&state.config.data_dir)?;
    let (key, pair) = current_key(store, master, &org.id, now).await?;
    let SigningIdentity {
        id: issuer_id,
        method,
        jcs_proof,
        email_identifier: with_email,
    } = issuer_of(state, org, &key).await?;
    let identifier = if with_email {
        Some(email_identifier(&store.user(learner_id).await?.email)?)
    } else {
        None
    };
    let reserved = store
        .reserve_status_slots(&org.id, 1, STATUS_LIST_SIZE, now)
        .await?
        .pop()
        .ok_or_else(|| AppError::internal(StoreError::NotFound))?;
    let entries = [
        ("revocation", &reserved.revocation),
        ("suspension", &reserved.suspension),
    ]
    .map(|(purpose, slot)| {
        status::entry(
            &status::list_url(public, &org.slug, purpose, slot.list_seq),
            purpose,
            slot.index,
        )
    });

    let id = uuid::Uuid::new_v4().to_string();
    let issuer = IssuerProfile {
        id: issuer_id.clone(),
        name: org.name.clone(),
        url: Some(public.to_owned()),
    };
    let item = CompetencyItem {
        id: competency.id.clone(),
        uri: competency.uri.clone(),
        code: competency.code.clone(),
        statement: competency.statement.clone(),
        abbreviated: competency.abbreviated_statement.clone(),
        description: competency.description.clone(),
        framework: Some(framework.title.clone()),
    };
    let input = CredentialInput {
        id: &id,
        issuer: &issuer,
        achievement_id: &achievement_id(public, &org.slug, &competency.id),
        image: Some(&achievement_image(public, &org.slug, &competency.id)),
        identifier,
        competency: &item,
        rubric: rubric.as_ref(),
        rubric_base: &format!("{public}/rubrics"),
        record: rec,
        subject_id: &subject_id,
        valid_from: now,
        status: entries.to_vec(),
        evidence: &evidence,
    };
    let document = achievement::build(&input).map_err(IssuingError::from)?;
    let signed = tessera_issue::sign::sign_to_string(&document, &pair, &method, now, jcs_proof)
        .map_err(IssuingError::from)?;
    let (credential, created) = store
        .insert_credential(
            &NewCredential {
                id: &id,
                org_id: &org.id,
                learner_id,
                competency_id,
                idempotency_key: &idempotency_key,
                key_id: &key.id,
                subject_id: &subject_id,
                issuer_id: &issuer_id,
                valid_from: now,
                signed: &signed,
                status: &reserved,
                issued_by,
            },
            now,
        )
        .await?;
    Ok((credential, created))
}

/// The evidence of the attempt that gave mastery, by reference and digest only: the written
/// answer's digest and each file's, never their content or file names.
async fn evidence_refs(
    state: &AppState,
    org: &Org,
    learner_id: &str,
    competency_id: &str,
    rec: &tessera_review::MasteryRecord,
) -> Result<Vec<EvidenceRef>, AppError> {
    let Some(n) = rec.attempts_to_mastery else {
        return Ok(Vec::new());
    };
    let Some(attempt) = rec.attempts.iter().find(|a| a.number == n) else {
        return Ok(Vec::new());
    };
    let submissions = state
        .store
        .submissions(&org.id, learner_id, Some(competency_id))
        .await?;
    let Some(sub) = submissions.iter().find(|s| s.id == attempt.submission) else {
        return Ok(Vec::new());
    };
    // Addressed by the submission (a random id), never by the learner's account id: a
    // credential travels, and its bytes must not link it to an account here. The addresses are
    // the evidence pages' own, so only the learner and the organisation's reviewers open them.
    let url = format!(
        "{}/orgs/{}/submissions/{}",
        state.config.public_url, org.slug, sub.id
    );
    let mut refs = Vec::new();
    if let Some(text) = &sub.text {
        refs.push(EvidenceRef {
            url: format!("{url}#written-answer"),
            sha256_hex: hex::encode(Sha256::digest(text.as_bytes())),
            media_type: Some("text/plain".into()),
            name: format!("Attempt {n}, written answer"),
        });
    }
    for (i, file) in sub.files.iter().enumerate() {
        refs.push(EvidenceRef {
            url: format!("{url}/files/{i}"),
            sha256_hex: file.sha256.clone(),
            media_type: Some(file.media_type.clone()),
            name: format!("Attempt {n}, file {}", i + 1),
        });
    }
    Ok(refs)
}

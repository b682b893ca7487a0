//! Verification for anyone: the credential (JSON, or baked into a PNG or SVG) goes through the
//! same `tessera_vc::verify` call as `tessera verify`; what the CLI reads from `--did-document`
//! and `--status-list` files is resolved here instead.
//!
//! # Resolution
//! - A URL under our own public URL (our organisations' did:web documents and status lists) is
//!   read through [`LocalDocuments`], never over the network.
//! - Any other `https` URL (did:web resolves to one; `http` only when the [`FetchPolicy`] allows
//!   it) is fetched with a bounded timeout and size limit, and remembered for a few minutes
//!   (failures for less), so a burst of verifications of one issuer's badges fetches once.
//! - Server-side fetching of URLs that anonymous callers choose is a request-forgery risk, so by
//!   default only public addresses are contacted: names resolving to loopback, private,
//!   link-local or other special ranges are refused (also after redirects).
//!
//! A status list that cannot be fetched leaves the status **unknown**: a warning, never
//! "revoked".

use std::collections::{BTreeSet, HashMap};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures_util::future::{BoxFuture, join_all};
use serde_json::Value;
use tessera_bake::{BakeError, Format};
use tessera_core::clock::Clock;
use tessera_vc::{CheckCode, CheckStatus, VerificationReport, VerifyOptions};

/// Largest DID / controller document fetched.
pub const MAX_DID_DOCUMENT_BYTES: usize = 1024 * 1024;
/// Largest status list credential fetched (the verifier's own limit for lists).
pub const MAX_STATUS_LIST_BYTES: usize = tessera_vc::status_list::MAX_BYTES;
/// Largest upload: a badge image, not a poster.
pub const MAX_UPLOAD_BYTES: usize = tessera_bake::MAX_IMAGE_BYTES;
/// How many documents one verification may fetch (issuers, lists, their issuers).
const MAX_REFERENCES: usize = 16;
/// How long a fetched document is reused.
const CACHE_TTL: Duration = Duration::from_secs(300);
/// How long a failed fetch is remembered (so a dead host is not hammered).
const FAILURE_TTL: Duration = Duration::from_secs(30);
/// Cache entries kept; the oldest goes first.
const CACHE_ENTRIES: usize = 512;

/// What may be contacted.
#[derive(Debug, Clone, Copy)]
pub struct FetchPolicy {
    /// Contact loopback, private and other non-public addresses (tests, intranets).
    pub allow_private: bool,
    /// Resolve did:web over plain `http` and follow `http` URLs (tests only).
    pub allow_http: bool,
    /// Time for one fetch, connecting included.
    pub timeout: Duration,
}

impl Default for FetchPolicy {
    fn default() -> Self {
        FetchPolicy {
            allow_private: false,
            allow_http: false,
            timeout: Duration::from_secs(5),
        }
    }
}

/// Why a verification could not be done (as opposed to a "not verified" verdict).
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// Neither JSON nor a baked badge.
    #[error("{0}")]
    NotACredential(String),
    /// A baked image without a (usable) credential.
    #[error(transparent)]
    Bake(#[from] BakeError),
    /// A PDF that is not a readable transcript PDF (damaged, or no transcript attached).
    #[error(transparent)]
    Pdf(#[from] tessera_render::Error),
    /// A VC-JWT: Tessera verifies embedded proofs only.
    #[error(
        "this is a VC-JWT (a compact JWS); Tessera verifies credentials with embedded Data Integrity proofs only"
    )]
    VcJwt,
    /// A resource limit (size, depth, a poison graph) or an internal failure.
    #[error("the credential could not be processed: {0}")]
    CannotProcess(String),
}

/// Documents this service serves itself, read without the network.
pub trait LocalDocuments: Send + Sync {
    /// The JSON document served at `url` (which is under our public URL), `Ok(None)` if nothing
    /// is served there.
    fn document<'a>(&'a self, url: &'a str) -> BoxFuture<'a, Result<Option<Value>, String>>;
}

/// A served nothing: every local URL is "not found".
#[derive(Debug, Default)]
pub struct NoLocalDocuments;

impl LocalDocuments for NoLocalDocuments {
    fn document<'a>(&'a self, _url: &'a str) -> BoxFuture<'a, Result<Option<Value>, String>> {
        Box::pin(async { Ok(None) })
    }
}

/// The verdict with what it took to reach it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Verdict {
    /// `verified`, `verified_with_warnings` or `not_verified`.
    pub verdict: &'static str,
    /// `json`, `png`, `svg` or `pdf`: what the credential came in.
    pub format: &'static str,
    /// The credential's name, or its achievement's (as the credential says; not verified
    /// unless the verdict says so).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The report: `verified`, `id`, `issuer`, `types`, `checks`, `embedded`.
    #[serde(flatten)]
    pub report: VerificationReport,
    /// For a CLR transcript: what it says (learner, competencies, levels, dates), read from the
    /// signed JSON. What it is worth is the verdict's: shown beside the checks, never instead.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transcript: Option<tessera_transcript::TranscriptView>,
    /// For a CLR transcript: the embedded credentials that did not verify, by name.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub failed_credentials: Vec<FailedCredentialDoc>,
}

/// An embedded credential that did not verify, as a person recognises it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FailedCredentialDoc {
    /// Where it sits (`credentialSubject.verifiableCredential[3]`).
    pub path: String,
    /// Its `id`.
    pub id: Option<String>,
    /// Its `name`.
    pub name: Option<String>,
    /// The codes of the checks it failed.
    pub failed_checks: Vec<String>,
}

#[derive(Debug, Clone)]
struct Cached {
    at: Instant,
    result: Result<Arc<Value>, String>,
}

/// The verifier: an HTTP client, the fetch policy and the document cache. One per process.
pub struct Verifier {
    client: reqwest::Client,
    policy: Arc<RwLock<FetchPolicy>>,
    cache: Mutex<HashMap<String, Cached>>,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("policy", &self.policy())
            .finish_non_exhaustive()
    }
}

impl Default for Verifier {
    fn default() -> Self {
        Self::new(FetchPolicy::default())
    }
}

impl Verifier {
    /// A verifier with this policy.
    pub fn new(policy: FetchPolicy) -> Self {
        let policy = Arc::new(RwLock::new(policy));
        let redirect_policy = policy.clone();
        let client = reqwest::Client::builder()
            .timeout(policy_of(&policy).timeout)
            .connect_timeout(policy_of(&policy).timeout)
            .user_agent(concat!("tessera-verifier/", env!("CARGO_PKG_VERSION")))
            .dns_resolver(Arc::new(PublicOnly {
                policy: policy.clone(),
            }))
            .redirect(reqwest::redirect::Policy::custom(move |attempt| {
                if attempt.previous().len() >= 3 {
                    return attempt.error("more than 3 redirects");
                }
                match url_allowed(attempt.url().as_str(), policy_of(&redirect_policy)) {
                    Ok(()) => attempt.follow(),
                    Err(e) => attempt.error(e),
                }
            }))
            .build()
            .unwrap_or_default();
        Verifier {
            client,
            policy,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// The policy in force.
    pub fn policy(&self) -> FetchPolicy {
        policy_of(&self.policy)
    }

    /// Changes the policy (tests open loopback and plain http; the timeout of the HTTP client
    /// stays as built). Forgets the cache.
    pub fn set_policy(&self, policy: FetchPolicy) {
        if let Ok(mut p) = self.policy.write() {
            *p = policy;
        }
        if let Ok(mut c) = self.cache.lock() {
            c.clear();
        }
    }

    /// Verifies `upload` (JSON, or a baked PNG/SVG) at the time `clock` reads once every
    /// document is fetched: a status list signed on demand is valid from the second it was
    /// signed, so a time read before the fetch could find it "not yet valid". `public_url` is
    /// ours: documents under it come from `local`.
    pub async fn verify(
        &self,
        upload: &[u8],
        clock: &dyn Clock,
        public_url: &str,
        local: &dyn LocalDocuments,
    ) -> Result<Verdict, VerifyError> {
        // A transcript PDF is verified through the signed CLR attached to it, exactly as
        // `tessera verify transcript.pdf` does; what its pages print is not what is checked.
        let (format, credential) = if tessera_render::is_pdf(upload) {
            (
                "pdf",
                std::borrow::Cow::Owned(tessera_render::extract_attachment(upload)?),
            )
        } else {
            let (format, credential) = tessera_bake::extract(upload)?;
            let name = match format {
                Format::Json => "json",
                Format::Png => "png",
                Format::Svg => "svg",
            };
            (name, credential)
        };
        if tessera_bake::is_compact_jws(&credential) {
            return Err(VerifyError::VcJwt);
        }
        let doc = parse(&credential, format)?;

        // The time is set below, once the documents are in.
        let mut options = VerifyOptions::new(DateTime::<Utc>::MIN_UTC);
        let mut failures: Vec<(String, String)> = Vec::new();
        let mut known: BTreeSet<String> = BTreeSet::new();
        let mut refs = References::default();
        refs.collect(&doc, 0);
        // Round one: the credential's key controllers and status lists; round two: the
        // controllers of the lists' keys (usually the same issuer, already known).
        for _round in 0..2 {
            let wanted: Vec<(String, Kind)> = refs
                .controllers
                .iter()
                .map(|u| (u.clone(), Kind::Controller))
                .chain(refs.lists.iter().map(|u| (u.clone(), Kind::StatusList)))
                .filter(|(u, _)| !known.contains(u))
                .take(MAX_REFERENCES.saturating_sub(known.len()))
                .collect();
            if wanted.is_empty() {
                break;
            }
            let fetched = join_all(
                wanted
                    .iter()
                    .map(|(url, kind)| self.document(url, *kind, public_url, local)),
            )
            .await;
            let mut next = References::default();
            for ((url, kind), result) in wanted.into_iter().zip(fetched) {
                known.insert(url.clone());
                match (kind, result) {
                    (Kind::Controller, Ok(document)) => {
                        if let Err(e) = options.add_controller_document(&document) {
                            failures.push((url, format!("not a usable controller document: {e}")));
                        }
                    }
                    (Kind::StatusList, Ok(list)) => {
                        next.collect(&list, 0);
                        if let Err(e) = options.add_status_list((*list).clone()) {
                            failures.push((url, e.to_string()));
                        }
                    }
                    (_, Err(e)) => failures.push((url, e)),
                }
            }
            refs = next;
        }

        options.now = clock.now();
        let name = display_name(&doc);
        let is_clr = as_list(doc.get("type"))
            .iter()
            .any(|t| t.as_str() == Some("ClrCredential"));
        let (report, transcript, failed) = tokio::task::spawn_blocking(move || {
            if is_clr {
                // The transcript verdict names each embedded credential that fails.
                let verdict = tessera_transcript::verify(&doc, &options)
                    .map_err(|e| VerifyError::CannotProcess(e.to_string()))?;
                let failed = verdict
                    .failed
                    .into_iter()
                    .map(|f| FailedCredentialDoc {
                        path: f.path,
                        id: f.id,
                        name: f.name,
                        failed_checks: f.failed_checks,
                    })
                    .collect();
                let view = tessera_transcript::TranscriptView::from_clr(&doc).ok();
                Ok((verdict.report, view, failed))
            } else {
                tessera_vc::verify(&doc, &options)
                    .map(|r| (r, None, Vec::new()))
                    .map_err(|e| VerifyError::CannotProcess(e.to_string()))
            }
        })
        .await
        .map_err(|e| VerifyError::CannotProcess(e.to_string()))??;
        let report = explain_failures(report, &failures);
        Ok(Verdict {
            verdict: verdict_word(&report),
            format,
            name,
            report,
            transcript,
            failed_credentials: failed,
        })
    }

    /// One document: ours from `local`, anyone else's from the network (cached).
    async fn document(
        &self,
        url: &str,
        kind: Kind,
        public_url: &str,
        local: &dyn LocalDocuments,
    ) -> Result<Arc<Value>, String> {
        let address = match kind {
            // Our own did:web resolves under our public URL whatever its scheme (plain http in
            // development); anyone else's over https unless the policy allows http.
            Kind::Controller => [true, false]
                .into_iter()
                .filter_map(|http| controller_url(url, http).ok())
                .find(|a| is_under(a, public_url))
                .map_or_else(|| controller_url(url, self.policy().allow_http), Ok)?,
            Kind::StatusList => url.to_owned(),
        };
        if is_under(&address, public_url) {
            return match local.document(&address).await? {
                Some(v) => Ok(Arc::new(v)),
                None => Err(format!("{address} is not served by this service")),
            };
        }
        if let Some(hit) = self.cached(&address) {
            return hit;
        }
        let result = self.fetch(&address, kind.limit()).await.map(Arc::new);
        self.remember(&address, result.clone());
        result
    }

    fn cached(&self, url: &str) -> Option<Result<Arc<Value>, String>> {
        let cache = self.cache.lock().ok()?;
        let hit = cache.get(url)?;
        let ttl = if hit.result.is_ok() {
            CACHE_TTL
        } else {
            FAILURE_TTL
        };
        (hit.at.elapsed() < ttl).then(|| hit.result.clone())
    }

    fn remember(&self, url: &str, result: Result<Arc<Value>, String>) {
        let Ok(mut cache) = self.cache.lock() else {
            return;
        };
        if cache.len() >= CACHE_ENTRIES
            && let Some(oldest) = cache
                .iter()
                .min_by_key(|(_, c)| c.at)
                .map(|(k, _)| k.clone())
        {
            cache.remove(&oldest);
        }
        cache.insert(
            url.to_owned(),
            Cached {
                at: Instant::now(),
                result,
            },
        );
    }

    async fn fetch(&self, url: &str, limit: usize) -> Result<Value, String> {
        url_allowed(url, self.policy())?;
        let mut response = self
            .client
            .get(url)
            .header(
                reqwest::header::ACCEPT,
                "application/did+json, application/vc+ld+json, application/ld+json, application/json",
            )
            .send()
            .await
            .map_err(|e| describe(&e))?;
        if !response.status().is_success() {
            return Err(format!("{url} answered {}", response.status()));
        }
        if response.content_length().is_some_and(|n| n > limit as u64) {
            return Err(format!("{url} is larger than {limit} bytes"));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| describe(&e))? {
            if body.len() + chunk.len() > limit {
                return Err(format!("{url} is larger than {limit} bytes"));
            }
            body.extend_from_slice(&chunk);
        }
        serde_json::from_slice(&body).map_err(|e| format!("{url} is not JSON: {e}"))
    }
}

fn policy_of(policy: &RwLock<FetchPolicy>) -> FetchPolicy {
    policy.read().map(|p| *p).unwrap_or_default()
}

/// A fetch error in a sentence, without internals a caller cannot use.
fn describe(e: &reqwest::Error) -> String {
    let what = if e.is_timeout() {
        "timed out".to_owned()
    } else if e.is_connect() {
        "could not connect".to_owned()
    } else if e.is_redirect() {
        "too many or disallowed redirects".to_owned()
    } else if e.is_body() || e.is_decode() {
        "the response broke off".to_owned()
    } else {
        "the request failed".to_owned()
    };
    // The deepest cause says why (refused address, DNS failure, TLS); it names no secret.
    let mut cause: &dyn std::error::Error = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    match e.url() {
        Some(url) => format!("{url}: {what} ({cause})"),
        None => format!("{what} ({cause})"),
    }
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    Controller,
    StatusList,
}

impl Kind {
    fn limit(self) -> usize {
        match self {
            Kind::Controller => MAX_DID_DOCUMENT_BYTES,
            Kind::StatusList => MAX_STATUS_LIST_BYTES,
        }
    }
}

/// The documents a credential points at.
#[derive(Debug, Default)]
struct References {
    /// Controller ids of proof keys (did:web DIDs, https URLs); did:key needs nothing.
    controllers: BTreeSet<String>,
    /// `statusListCredential` URLs.
    lists: BTreeSet<String>,
}

impl References {
    fn collect(&mut self, value: &Value, depth: usize) {
        if depth > 32 {
            return;
        }
        match value {
            Value::Object(map) => {
                for proof in as_list(map.get("proof")) {
                    if let Some(vm) = proof.get("verificationMethod").and_then(Value::as_str) {
                        let controller = vm.split('#').next().unwrap_or(vm);
                        if !controller.starts_with("did:key:") {
                            self.controllers.insert(controller.to_owned());
                        }
                    }
                }
                for entry in as_list(map.get("credentialStatus")) {
                    if let Some(url) = entry.get("statusListCredential").and_then(Value::as_str) {
                        self.lists.insert(url.to_owned());
                    }
                }
                for (key, v) in map {
                    if key != "proof" {
                        self.collect(v, depth + 1);
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|v| self.collect(v, depth + 1)),
            _ => {}
        }
    }
}

/// A JSON-LD value as a list: one value is a list of one, absent or null is empty.
fn as_list(value: Option<&Value>) -> Vec<&Value> {
    match value {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items.iter().collect(),
        Some(one) => vec![one],
    }
}

/// Where a controller document lives: did:web per the did:web method spec, an http(s) URL as
/// it is.
pub fn controller_url(id: &str, allow_http: bool) -> Result<String, String> {
    if let Some(rest) = id.strip_prefix("did:web:") {
        let mut parts = rest.split(':');
        let host = parts
            .next()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| format!("{id} is not a valid did:web DID"))?
            .replace("%3A", ":")
            .replace("%3a", ":");
        let path: Vec<&str> = parts.collect();
        if host.contains('/') || path.iter().any(|p| p.is_empty() || p.contains('/')) {
            return Err(format!("{id} is not a valid did:web DID"));
        }
        let scheme = if allow_http { "http" } else { "https" };
        return Ok(if path.is_empty() {
            format!("{scheme}://{host}/.well-known/did.json")
        } else {
            format!("{scheme}://{host}/{}/did.json", path.join("/"))
        });
    }
    if id.starts_with("https://") || id.starts_with("http://") {
        return Ok(id.to_owned());
    }
    Err(format!(
        "keys of {id} cannot be resolved (did:key, did:web and https controllers are supported)"
    ))
}

/// Is `url` under `base` (same scheme, host and port; path below)?
fn is_under(url: &str, base: &str) -> bool {
    let base = base.trim_end_matches('/');
    url.strip_prefix(base)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// Refuses schemes and literal addresses the policy does not allow (names are checked when
/// they are resolved, by [`PublicOnly`]).
fn url_allowed(url: &str, policy: FetchPolicy) -> Result<(), String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("{url} is not a URL: {e}"))?;
    match parsed.scheme() {
        "https" => {}
        "http" if policy.allow_http => {}
        other => {
            return Err(format!(
                "{url}: the {other} scheme is not fetched (https only)"
            ));
        }
    }
    let ip = match parsed.host() {
        Some(url::Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
        Some(url::Host::Domain(_)) => None,
        None => return Err(format!("{url} has no host")),
    };
    if let Some(ip) = ip
        && !policy.allow_private
        && !is_public(ip)
    {
        return Err(format!("{url}: {ip} is not a public address"));
    }
    Ok(())
}

/// Is `ip` an address on the public internet?
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_broadcast()
                || v4.is_documentation()
                || v4.is_unspecified()
                || v4.is_multicast()
                || a == 0
                || a >= 240
                || (a == 100 && (64..128).contains(&b))
                || (a == 192 && b == 0 && c == 0)
                || (a == 198 && (18..20).contains(&b)))
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || (first == 0x2001 && v6.segments()[1] == 0x0db8))
        }
    }
}

/// DNS resolution that drops non-public addresses unless the policy allows them.
struct PublicOnly {
    policy: Arc<RwLock<FetchPolicy>>,
}

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow_private = policy_of(&self.policy).allow_private;
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| allow_private || is_public(a.ip()))
                .collect();
            if addrs.is_empty() {
                return Err(format!("{host} has no public address").into());
            }
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// Parses the credential, sorting "not a credential" from "could not process".
fn parse(credential: &[u8], format: &str) -> Result<Value, VerifyError> {
    if credential.len() > tessera_vc::verify::DEFAULT_MAX_BYTES {
        return Err(VerifyError::CannotProcess(
            tessera_vc::Error::TooLarge {
                size: credential.len(),
                limit: tessera_vc::verify::DEFAULT_MAX_BYTES,
            }
            .to_string(),
        ));
    }
    match serde_json::from_slice::<Value>(credential) {
        Ok(doc @ Value::Object(_)) => Ok(doc),
        Ok(_) => Err(VerifyError::NotACredential(
            "this is JSON but not a credential (a credential is a JSON object)".into(),
        )),
        Err(e) if e.to_string().contains("recursion limit exceeded") => {
            Err(VerifyError::CannotProcess(
                tessera_vc::Error::TooDeep {
                    limit: tessera_vc::verify::MAX_JSON_DEPTH,
                }
                .to_string(),
            ))
        }
        Err(e) => Err(VerifyError::NotACredential(match format {
            "json" => format!(
                "this is not a credential: it is neither JSON, a baked PNG or SVG badge, nor a \
                 transcript PDF ({e})"
            ),
            "pdf" => format!("the transcript attached to this PDF is not JSON ({e})"),
            other => format!(
                "the credential baked into this {} is not JSON ({e})",
                other.to_uppercase()
            ),
        })),
    }
}

/// Puts what could not be fetched into the checks it affected: an unreachable status list makes
/// the status unknown (a warning), an unreachable DID document explains a failed proof.
fn explain_failures(
    mut report: VerificationReport,
    failures: &[(String, String)],
) -> VerificationReport {
    if failures.is_empty() {
        return report;
    }
    let notes: Vec<String> = failures
        .iter()
        .map(|(url, why)| format!("could not fetch {url}: {why}"))
        .collect();
    for check in &mut report.checks {
        match (check.code, check.status) {
            (CheckCode::Status, CheckStatus::NotChecked) => {
                check.status = CheckStatus::Warning;
                // Never a word that reads as a verdict on the status: it is unknown.
                check.message = "status unknown: the issuer's status list could not be fetched, \
                    so the credential's current status cannot be confirmed"
                    .into();
                check.details.extend(notes.iter().cloned());
            }
            // A key that could not be resolved leaves the proof failed or not checked: say why.
            (
                CheckCode::Proof | CheckCode::IssuerBinding,
                CheckStatus::Failed | CheckStatus::NotChecked,
            ) => {
                check.details.extend(notes.iter().cloned());
            }
            _ => {}
        }
    }
    for embedded in &mut report.embedded {
        embedded.report = explain_failures(embedded.report.clone(), failures);
    }
    report
}

/// `name`, else `credentialSubject.achievement.name` (OB 3.0), as plain text.
fn display_name(doc: &Value) -> Option<String> {
    let text = |v: Option<&Value>| match v {
        Some(Value::String(s)) => Some(s.clone()),
        // A language map (`{"en": "…"}`) or a value object: the first string inside.
        Some(Value::Object(m)) => m
            .get("@value")
            .or_else(|| m.values().next())
            .and_then(Value::as_str)
            .map(str::to_owned),
        _ => None,
    };
    text(doc.get("name")).or_else(|| {
        as_list(doc.get("credentialSubject"))
            .first()
            .and_then(|s| text(s.get("achievement").and_then(|a| a.get("name"))))
    })
}

fn verdict_word(report: &VerificationReport) -> &'static str {
    if !report.verified {
        "not_verified"
    } else if report
        .checks
        .iter()
        .any(|c| matches!(c.status, CheckStatus::Warning | CheckStatus::NotChecked))
    {
        "verified_with_warnings"
    } else {
        "verified"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn did_web_urls() {
        assert_eq!(
            controller_url("did:web:example.com", false).unwrap(),
            "https://example.com/.well-known/did.json"
        );
        assert_eq!(
            controller_url("did:web:example.com%3A8443:orgs:school", false).unwrap(),
            "https://example.com:8443/orgs/school/did.json"
        );
        assert!(controller_url("did:web:", false).is_err());
        assert!(controller_url("did:example:123", false).is_err());
    }

    #[test]
    fn private_addresses_are_refused_by_default() {
        let strict = FetchPolicy::default();
        for url in [
            "https://127.0.0.1/x",
            "https://10.0.0.1/x",
            "https://169.254.169.254/latest",
            "https://[::1]/x",
            "https://[fd00::1]/x",
            "https://[::ffff:192.168.0.1]/x",
            "http://example.com/x",
            "file:///etc/passwd",
        ] {
            assert!(url_allowed(url, strict).is_err(), "{url}");
        }
        assert!(url_allowed("https://93.184.215.14/x", strict).is_ok());
        assert!(url_allowed("https://example.com/x", strict).is_ok());
        let open = FetchPolicy {
            allow_private: true,
            allow_http: true,
            ..strict
        };
        assert!(url_allowed("http://127.0.0.1:8080/x", open).is_ok());
    }

    #[test]
    fn under_the_public_url() {
        assert!(is_under(
            "https://a.example/orgs/x/did.json",
            "https://a.example"
        ));
        assert!(is_under(
            "https://a.example/orgs/x/did.json",
            "https://a.example/"
        ));
        assert!(!is_under("https://a.example.evil/x", "https://a.example"));
    }
}

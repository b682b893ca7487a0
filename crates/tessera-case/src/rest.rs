//! Pure pieces of the CASE 1.1 REST/JSON binding (`/ims/case/v1p1/…`): response shapes, paging
//! and the `imsx_StatusInfo` error payload. The HTTP layer (`tessera-server`) only wires these
//! to routes and the store.
//!
//! Source: *CASE REST/JSON Binding 1.1*, §3.1 Pagination (`limit` default 100, `offset` default
//! 0, `X-Total-Count`, `Link` with first/prev/next/last), §6.3 (a stand-alone CFDocument carries
//! `CFPackageURI` (multiplicity 1), a CFItem `CFDocumentURI` (1), a CFAssociation `CFDocumentURI`
//! (0..1)),
//! §7 (errors are `imsx_StatusInfo` with `failure`/`error` and a code minor such as
//! `unknownobject`, `invaliduuid`, `invalid_selection_field`).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::package::{CfAssociation, CfDocument, CfItem, LinkUri};

/// Default page size (REST binding §3.1).
pub const DEFAULT_LIMIT: u64 = 100;
/// Largest page we serve; larger `limit`s are clamped, not refused, so generic clients that ask
/// for "everything" still get a well-formed page and the `Link` header to continue.
pub const MAX_LIMIT: u64 = 1_000;

/// `{"CFDocuments": [...]}` — the `getAllCFDocuments` response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CfDocumentSet {
    /// One page of documents.
    #[serde(rename = "CFDocuments")]
    pub documents: Vec<CfDocument>,
}

/// A stand-alone CFDocument: the package form plus its required `CFPackageURI`.
#[must_use]
pub fn document_payload(document: &CfDocument, package_uri: &str) -> CfDocument {
    let mut out = document.clone();
    out.extra.insert(
        "CFPackageURI".into(),
        link_value(&document.title, &document.identifier, package_uri),
    );
    out
}

/// A stand-alone CFItem: the package form plus its required `CFDocumentURI`.
#[must_use]
pub fn item_payload(item: &CfItem, document: &LinkUri) -> CfItem {
    let mut out = item.clone();
    out.extra.insert(
        "CFDocumentURI".into(),
        link_value(&document.title, &document.identifier, &document.uri),
    );
    out
}

/// A stand-alone CFAssociation with its `CFDocumentURI`.
#[must_use]
pub fn association_payload(association: &CfAssociation, document: &LinkUri) -> CfAssociation {
    let mut out = association.clone();
    out.extra.insert(
        "CFDocumentURI".into(),
        link_value(&document.title, &document.identifier, &document.uri),
    );
    out
}

fn link_value(title: &str, identifier: &str, uri: &str) -> Value {
    serde_json::json!({"title": title, "identifier": identifier, "uri": uri})
}

/// A validated page request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    /// Records per page (1..=[`MAX_LIMIT`]).
    pub limit: u64,
    /// Index of the first record.
    pub offset: u64,
}

impl Paging {
    /// Reads `limit` and `offset` query values (absent = defaults).
    ///
    /// # Errors
    /// A [`StatusInfo::invalid_selection_field`] naming the parameter when a value is not a
    /// non-negative integer or `limit` is 0 (the binding types `limit` as PositiveInteger).
    pub fn parse(limit: Option<&str>, offset: Option<&str>) -> Result<Paging, StatusInfo> {
        let limit = match limit {
            None => DEFAULT_LIMIT,
            Some(text) => match text.parse::<u64>() {
                Ok(0) | Err(_) => {
                    return Err(StatusInfo::invalid_selection_field(
                        "limit",
                        "limit must be a positive integer",
                    ));
                }
                Ok(n) => n.min(MAX_LIMIT),
            },
        };
        let offset = match offset {
            None => 0,
            Some(text) => text.parse::<u64>().map_err(|_| {
                StatusInfo::invalid_selection_field(
                    "offset",
                    "offset must be a non-negative integer",
                )
            })?,
        };
        Ok(Paging { limit, offset })
    }

    /// The RFC 8288 `Link` header value for this page of `total` records at `base_url` (the
    /// collection URL without query), with `first`, `last`, and `prev`/`next` when they exist.
    #[must_use]
    pub fn link_header(&self, base_url: &str, total: u64) -> String {
        let link = |limit: u64, offset: u64, rel: &str| {
            format!("<{base_url}?limit={limit}&offset={offset}>; rel=\"{rel}\"")
        };
        let mut links = vec![link(self.limit, 0, "first")];
        if self.offset > 0 {
            links.push(link(
                self.limit,
                self.offset.saturating_sub(self.limit),
                "prev",
            ));
        }
        let next = self.offset.saturating_add(self.limit);
        if next < total {
            links.push(link(self.limit, next, "next"));
        }
        let last = if total == 0 {
            0
        } else {
            (total - 1) / self.limit * self.limit
        };
        links.push(link(self.limit, last, "last"));
        links.join(", ")
    }
}

/// `imsx_StatusInfo`, the CASE error payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusInfo {
    /// `success`, `processing`, `failure` or `unsupported`.
    #[serde(rename = "imsx_codeMajor")]
    pub code_major: String,
    /// `status`, `warning` or `error`.
    #[serde(rename = "imsx_severity")]
    pub severity: String,
    /// Human-readable description.
    #[serde(
        rename = "imsx_description",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub description: Option<String>,
    /// Machine-readable detail.
    #[serde(
        rename = "imsx_codeMinor",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub code_minor: Option<CodeMinor>,
    /// The HTTP status this payload goes with (not serialised).
    #[serde(skip)]
    pub http_status: u16,
}

/// `imsx_CodeMinor`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeMinor {
    /// The fields.
    #[serde(rename = "imsx_codeMinorField")]
    pub fields: Vec<CodeMinorField>,
}

/// `imsx_CodeMinorField`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeMinorField {
    /// Which field or object the code is about.
    #[serde(rename = "imsx_codeMinorFieldName")]
    pub name: String,
    /// The code, e.g. `unknownobject`.
    #[serde(rename = "imsx_codeMinorFieldValue")]
    pub value: String,
}

impl StatusInfo {
    fn failure(http_status: u16, field: &str, code: &str, description: String) -> StatusInfo {
        StatusInfo {
            code_major: "failure".into(),
            severity: "error".into(),
            description: Some(description),
            code_minor: Some(CodeMinor {
                fields: vec![CodeMinorField {
                    name: field.into(),
                    value: code.into(),
                }],
            }),
            http_status,
        }
    }

    /// 404: no such object ("Unknown Object").
    #[must_use]
    pub fn unknown_object(sourced_id: &str) -> StatusInfo {
        StatusInfo::failure(
            404,
            "sourcedId",
            "unknownobject",
            format!("Unknown Object: {sourced_id}"),
        )
    }

    /// 404: the path identifier is not a UUID ("Invalid UUID").
    #[must_use]
    pub fn invalid_uuid(sourced_id: &str) -> StatusInfo {
        StatusInfo::failure(
            404,
            "sourcedId",
            "invaliduuid",
            format!("Invalid UUID: {sourced_id}"),
        )
    }

    /// 400: a query parameter cannot be honoured.
    #[must_use]
    pub fn invalid_selection_field(field: &str, description: &str) -> StatusInfo {
        StatusInfo::failure(
            400,
            field,
            "invalid_selection_field",
            description.to_owned(),
        )
    }

    /// 500: something failed on our side (no internal detail is included).
    #[must_use]
    pub fn internal_server_error() -> StatusInfo {
        StatusInfo::failure(
            500,
            "server",
            "internal_server_error",
            "The service could not complete the request.".into(),
        )
    }

    /// 429: slow down.
    #[must_use]
    pub fn server_busy() -> StatusInfo {
        StatusInfo::failure(
            429,
            "server",
            "server_busy",
            "Too many requests; retry later.".into(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paging_defaults_clamps_and_rejects() {
        assert_eq!(
            Paging::parse(None, None).unwrap(),
            Paging {
                limit: 100,
                offset: 0
            }
        );
        assert_eq!(
            Paging::parse(Some("5000"), Some("7")).unwrap().limit,
            MAX_LIMIT
        );
        let e = Paging::parse(Some("0"), None).unwrap_err();
        assert_eq!(e.http_status, 400);
        assert_eq!(e.code_minor.unwrap().fields[0].name, "limit");
        assert!(Paging::parse(None, Some("-1")).is_err());
        assert!(Paging::parse(Some("ten"), None).is_err());
    }

    #[test]
    fn link_header_matches_the_binding_example() {
        // 503 records in pages of 10, asking for the second page.
        let p = Paging {
            limit: 10,
            offset: 10,
        };
        let h = p.link_header("https://x/ims/case/v1p1/CFDocuments", 503);
        assert!(
            h.contains("<https://x/ims/case/v1p1/CFDocuments?limit=10&offset=20>; rel=\"next\"")
        );
        assert!(h.contains("offset=0>; rel=\"prev\""));
        assert!(h.contains("offset=0>; rel=\"first\""));
        assert!(h.contains("offset=500>; rel=\"last\""));
        let end = Paging {
            limit: 10,
            offset: 500,
        }
        .link_header("u", 503);
        assert!(!end.contains("next"));
    }

    #[test]
    fn status_info_serialises_in_the_imsx_shape() {
        let v = serde_json::to_value(StatusInfo::unknown_object("abc")).unwrap();
        assert_eq!(v["imsx_codeMajor"], "failure");
        assert_eq!(v["imsx_severity"], "error");
        assert_eq!(
            v["imsx_codeMinor"]["imsx_codeMinorField"][0]["imsx_codeMinorFieldValue"],
            "unknownobject"
        );
        assert!(v.get("http_status").is_none());
    }

    #[test]
    fn stand_alone_payloads_carry_their_links() {
        let pkg = crate::generate::package(3);
        let doc = document_payload(&pkg.document, "https://t/ims/case/v1p1/CFPackages/x");
        assert_eq!(
            doc.extra["CFPackageURI"]["uri"],
            "https://t/ims/case/v1p1/CFPackages/x"
        );
        let link = LinkUri {
            title: pkg.document.title.clone(),
            identifier: pkg.document.identifier.clone(),
            uri: pkg.document.uri.clone(),
        };
        let item = item_payload(&pkg.items[0], &link);
        assert_eq!(
            item.extra["CFDocumentURI"]["identifier"],
            pkg.document.identifier
        );
        let a = association_payload(&pkg.associations[0], &link);
        assert_eq!(a.extra["CFDocumentURI"]["uri"], pkg.document.uri);
    }
}

//! SVG baking: `xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0"` on the root element and,
//! right after its start tag, one `<openbadges:credential>` holding the credential as CDATA (a
//! VC-JWT goes in a `verify` attribute instead).
//!
//! The markup is read with quick-xml (namespace-aware, so another prefix bound to the Open Badges
//! namespace is found too); baking splices text into the original bytes at the positions the
//! parser reports, so nothing else in the file changes. quick-xml expands no custom entities and
//! fetches no DTD, so a hostile upload cannot make it read files or explode entities.

use std::ops::Range;

use quick_xml::events::{BytesStart, Event};
use quick_xml::name::{Namespace, ResolveResult};
use quick_xml::reader::NsReader;

use crate::BakeError;

/// The Open Badges 3.0 namespace.
pub const NAMESPACE: &str = "https://purl.imsglobal.org/ob/v3p0";
/// The namespace declaration baking adds to the root element.
const DECLARATION: &str = r#" xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0""#;

/// How far into the file [`looks_like_svg`] reads for the root element (prolog, comments).
const SNIFF_LIMIT: usize = 64 * 1024;

/// A credential element: its span, and what it holds (or why it cannot be read).
type Found = (Range<usize>, Result<Vec<u8>, BakeError>);

/// The root start tag: its span, qualified name, whether it is empty, and `xmlns:openbadges`.
type Root = (Range<usize>, Vec<u8>, bool, Option<bool>);

/// What one pass over the document found.
struct Layout {
    /// The root element's start tag (`<svg …>` or `<svg …/>`).
    root: Range<usize>,
    /// Its qualified name, to close an empty root.
    root_name: Vec<u8>,
    root_empty: bool,
    /// `xmlns:openbadges` on the root: `Some(true)` bound to the OB namespace, `Some(false)` to
    /// something else.
    prefix_bound: Option<bool>,
    /// Every `credential` element in the OB namespace: its span and what it holds.
    credentials: Vec<Found>,
}

fn not_svg(e: impl std::fmt::Display) -> BakeError {
    BakeError::NotSvg(e.to_string())
}

fn pos(reader: &NsReader<&[u8]>) -> usize {
    usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX)
}

/// A credential element's `verify` attribute (a VC-JWT), if any.
fn verify_attribute(start: &BytesStart<'_>) -> Result<Option<Vec<u8>>, BakeError> {
    for attr in start.attributes() {
        let attr = attr.map_err(not_svg)?;
        if attr.key.local_name().as_ref() == b"verify" {
            let value = attr
                .unescape_value()
                .map_err(|e| BakeError::MalformedCredential(e.to_string()))?;
            return Ok(Some(value.into_owned().into_bytes()));
        }
    }
    Ok(None)
}

/// Reads the content of a credential element up to its end tag: CDATA as is, text unescaped;
/// whitespace around CDATA is layout, not content.
fn read_content(reader: &mut NsReader<&[u8]>) -> Result<Vec<u8>, BakeError> {
    // (is CDATA, bytes): text runs are kept apart so whitespace between CDATA sections can be
    // told from content.
    let mut pieces: Vec<(bool, Vec<u8>)> = Vec::new();
    let push_text = |pieces: &mut Vec<(bool, Vec<u8>)>, bytes: &[u8]| match pieces.last_mut() {
        Some((false, run)) => run.extend_from_slice(bytes),
        _ => pieces.push((false, bytes.to_vec())),
    };
    loop {
        match reader.read_event().map_err(not_svg)? {
            Event::CData(c) => pieces.push((true, c.into_inner().into_owned())),
            Event::Text(t) => push_text(&mut pieces, &t.into_inner()),
            Event::GeneralRef(r) => {
                let resolved = if r.is_char_ref() {
                    r.resolve_char_ref()
                        .map_err(|e| BakeError::MalformedCredential(e.to_string()))?
                } else {
                    match r.as_ref() {
                        b"amp" => Some('&'),
                        b"lt" => Some('<'),
                        b"gt" => Some('>'),
                        b"quot" => Some('"'),
                        b"apos" => Some('\''),
                        _ => None,
                    }
                };
                let c = resolved.ok_or_else(|| {
                    BakeError::MalformedCredential(format!(
                        "unknown entity &{};",
                        String::from_utf8_lossy(&r)
                    ))
                })?;
                let mut buf = [0u8; 4];
                push_text(&mut pieces, c.encode_utf8(&mut buf).as_bytes());
            }
            Event::Comment(_) | Event::PI(_) => {}
            Event::End(_) => break,
            Event::Eof => return Err(not_svg("the credential element is not closed")),
            _ => {
                return Err(BakeError::MalformedCredential(
                    "the credential element contains other elements".into(),
                ));
            }
        }
    }
    let content: Vec<u8> = if pieces.iter().any(|(is_cdata, _)| *is_cdata) {
        pieces
            .into_iter()
            .filter(|(is_cdata, run)| *is_cdata || !run.iter().all(u8::is_ascii_whitespace))
            .flat_map(|(_, run)| run)
            .collect()
    } else {
        let text: Vec<u8> = pieces.into_iter().flat_map(|(_, run)| run).collect();
        text.trim_ascii().to_vec()
    };
    if content.is_empty() {
        return Err(BakeError::MalformedCredential(
            "the credential element is empty".into(),
        ));
    }
    if std::str::from_utf8(&content).is_err() {
        return Err(BakeError::MalformedCredential(
            "the credential is not UTF-8".into(),
        ));
    }
    Ok(content)
}

fn layout(svg: &[u8]) -> Result<Layout, BakeError> {
    let mut reader = NsReader::from_reader(svg);
    let mut root: Option<Root> = None;
    let mut credentials = Vec::new();
    let mut depth = 0usize;
    loop {
        let before = pos(&reader);
        let (ns, event) = match reader.read_resolved_event() {
            Ok(pair) => pair,
            Err(e) => {
                let near = reader.error_position();
                return Err(not_svg(format!("{e} (near byte {near})")));
            }
        };
        let in_ob_namespace =
            matches!(ns, ResolveResult::Bound(Namespace(n)) if n == NAMESPACE.as_bytes());
        match event {
            Event::Start(ref start) | Event::Empty(ref start) => {
                let empty = matches!(event, Event::Empty(_));
                let after = pos(&reader);
                if root.is_none() {
                    if start.local_name().as_ref() != b"svg" {
                        return Err(not_svg(format!(
                            "the root element is <{}>, not <svg>",
                            String::from_utf8_lossy(start.name().as_ref())
                        )));
                    }
                    let mut bound = None;
                    for attr in start.attributes() {
                        let attr = attr.map_err(not_svg)?;
                        if attr.key.as_ref() == b"xmlns:openbadges" {
                            bound = Some(attr.value.as_ref() == NAMESPACE.as_bytes());
                        }
                    }
                    root = Some((before..after, start.name().as_ref().to_vec(), empty, bound));
                    if empty {
                        break;
                    }
                    depth = 1;
                    continue;
                }
                if in_ob_namespace && start.local_name().as_ref() == b"credential" {
                    let content = match verify_attribute(start)? {
                        Some(jws) => {
                            if !empty {
                                // The element's content is ignored for a VC-JWT, but it must
                                // still be read past.
                                let _ = read_content(&mut reader);
                            }
                            Ok(jws)
                        }
                        None if empty => Err(BakeError::MalformedCredential(
                            "the credential element is empty".into(),
                        )),
                        None => read_content(&mut reader),
                    };
                    credentials.push((before..pos(&reader), content));
                } else if !empty {
                    depth += 1;
                }
            }
            Event::End(_) => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    break;
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    let (root, root_name, root_empty, prefix_bound) =
        root.ok_or_else(|| not_svg("there is no root element"))?;
    Ok(Layout {
        root,
        root_name,
        root_empty,
        prefix_bound,
        credentials,
    })
}

/// Does `bytes` look like an SVG document (markup whose root element is `svg`)? Reads at most
/// the first 64 KiB.
pub fn looks_like_svg(bytes: &[u8]) -> bool {
    let text = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    if !text.trim_ascii_start().starts_with(b"<") {
        return false;
    }
    let head = &text[..text.len().min(SNIFF_LIMIT)];
    let mut reader = NsReader::from_reader(head);
    loop {
        match reader.read_event() {
            Ok(Event::Start(s) | Event::Empty(s)) => return s.local_name().as_ref() == b"svg",
            Ok(Event::Eof) | Err(_) => return false,
            Ok(_) => {}
        }
    }
}

/// The credential baked into `svg`, byte for byte as it was baked.
pub fn extract(svg: &[u8]) -> Result<Vec<u8>, BakeError> {
    let mut layout = layout(svg)?;
    match layout.credentials.len() {
        0 => Err(BakeError::NoCredential("SVG")),
        1 => layout.credentials.remove(0).1,
        _ => Err(BakeError::SeveralCredentials("SVG")),
    }
}

/// CDATA cannot contain `]]>`; such a run is split over two sections, which a reader joins back.
fn cdata(credential: &str) -> String {
    format!(
        "<![CDATA[{}]]>",
        credential.replace("]]>", "]]]]><![CDATA[>")
    )
}

/// `svg` with `credential` baked in right after the root start tag. A credential already baked
/// into the image is replaced.
pub fn bake(svg: &[u8], credential: &[u8]) -> Result<Vec<u8>, BakeError> {
    let credential = std::str::from_utf8(credential).map_err(|_| BakeError::CredentialNotText)?;
    let layout = layout(svg)?;
    if layout.prefix_bound == Some(false) {
        return Err(not_svg(
            "the prefix `openbadges` is already bound to another namespace",
        ));
    }
    let element = if crate::is_compact_jws(credential.as_bytes()) {
        format!(
            r#"<openbadges:credential verify="{}"/>"#,
            credential.trim_ascii()
        )
    } else {
        format!(
            "<openbadges:credential>{}</openbadges:credential>",
            cdata(credential)
        )
    };
    let tag = &svg[layout.root.clone()];
    // Where the start tag closes: before `/>` or `>`.
    let close = layout.root.end - if layout.root_empty { 2 } else { 1 };
    if !tag.ends_with(if layout.root_empty { b"/>" } else { b">" }) {
        return Err(not_svg("the root start tag is not closed"));
    }
    let mut out = Vec::with_capacity(svg.len() + element.len() + DECLARATION.len() + 16);
    out.extend_from_slice(&svg[..close]);
    if layout.prefix_bound.is_none() {
        out.extend_from_slice(DECLARATION.as_bytes());
    }
    out.push(b'>');
    out.extend_from_slice(element.as_bytes());
    if layout.root_empty {
        out.extend_from_slice(b"</");
        out.extend_from_slice(&layout.root_name);
        out.push(b'>');
        out.extend_from_slice(&svg[layout.root.end..]);
        return Ok(out);
    }
    let mut at = layout.root.end;
    for (span, _) in &layout.credentials {
        out.extend_from_slice(&svg[at..span.start]);
        at = span.end;
    }
    out.extend_from_slice(&svg[at..]);
    Ok(out)
}

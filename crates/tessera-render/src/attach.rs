//! The signed CLR JSON as a PDF file attachment (ISO 32000-2 §7.11.4, and PDF/A-3's associated
//! files): an embedded file stream, a file specification with `/AFRelationship /Source`, the
//! catalog's `/Names /EmbeddedFiles` name tree and its `/AF` array. Reading it back returns the
//! exact bytes that were signed.

use std::io::{Read, Write};

use lopdf::{Dictionary, Document, Object, ObjectId, Stream, StringFormat};
use tessera_transcript::TranscriptView;

use crate::error::{Error, Result};

/// The attachment's file name.
pub const ATTACHMENT_NAME: &str = "transcript.json";
/// The largest attachment read back (a transcript of thousands of credentials fits easily;
/// the cap stops a crafted PDF from inflating into gigabytes).
pub const MAX_ATTACHMENT_BYTES: u64 = 64 * 1024 * 1024;

/// Whether the bytes are a PDF (`%PDF-` in the first kilobyte, as readers accept).
pub fn is_pdf(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(1024)];
    head.windows(5).any(|w| w == b"%PDF-")
}

/// A text string as PDF wants it outside content streams: UTF-16BE with a byte-order mark.
fn text_string(s: &str) -> Object {
    let mut bytes = vec![0xFE, 0xFF];
    for unit in s.encode_utf16() {
        bytes.extend_from_slice(&unit.to_be_bytes());
    }
    Object::String(bytes, StringFormat::Hexadecimal)
}

fn deflate(bytes: &[u8]) -> Result<Vec<u8>> {
    // Fast level: the transcript must render in milliseconds; level 9 costs 5x for a few %.
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).map_err(|e| Error::Pdf(e.to_string()))?;
    e.finish().map_err(|e| Error::Pdf(e.to_string()))
}

fn pdf_date(t: &chrono::DateTime<chrono::Utc>) -> Object {
    Object::string_literal(t.format("D:%Y%m%d%H%M%SZ").to_string())
}

/// Attaches `clr` to the PDF printpdf wrote, compresses the page contents, and sets the
/// document information with Unicode strings.
pub(crate) fn attach(pdf: &[u8], clr: &[u8], view: &TranscriptView) -> Result<Vec<u8>> {
    let mut doc = Document::load_mem(pdf).map_err(|e| Error::Pdf(e.to_string()))?;
    // Page content streams: printpdf writes them uncompressed.
    let content_ids: Vec<ObjectId> = doc
        .get_pages()
        .values()
        .flat_map(|p| doc.get_page_contents(*p))
        .collect();
    for id in content_ids {
        if let Ok(Object::Stream(s)) = doc.get_object_mut(id)
            && s.dict.get(b"Filter").is_err()
        {
            let packed = deflate(&s.content)?;
            s.dict.set("Filter", "FlateDecode");
            s.set_content(packed);
        }
    }

    let mut params = Dictionary::new();
    params.set("Size", Object::Integer(clr.len() as i64));
    params.set("ModDate", pdf_date(&view.issued_at));
    let mut ef_dict = Dictionary::new();
    ef_dict.set("Type", "EmbeddedFile");
    ef_dict.set("Subtype", Object::Name(b"application/json".to_vec()));
    ef_dict.set("Params", params);
    ef_dict.set("Filter", "FlateDecode");
    let ef = doc.add_object(Stream::new(ef_dict, deflate(clr)?).with_compression(false));

    let mut ef_refs = Dictionary::new();
    ef_refs.set("F", Object::Reference(ef));
    ef_refs.set("UF", Object::Reference(ef));
    let mut spec = Dictionary::new();
    spec.set("Type", "Filespec");
    spec.set("F", Object::string_literal(ATTACHMENT_NAME));
    spec.set("UF", text_string(ATTACHMENT_NAME));
    spec.set(
        "Desc",
        text_string("Signed mastery transcript (1EdTech CLR 2.0 ClrCredential, JSON)"),
    );
    spec.set("AFRelationship", "Source");
    spec.set("EF", ef_refs);
    let spec = doc.add_object(spec);

    let mut tree = Dictionary::new();
    tree.set(
        "Names",
        Object::Array(vec![
            Object::string_literal(ATTACHMENT_NAME),
            Object::Reference(spec),
        ]),
    );
    let mut names = Dictionary::new();
    names.set("EmbeddedFiles", tree);
    {
        let catalog = doc.catalog_mut().map_err(|e| Error::Pdf(e.to_string()))?;
        catalog.set("Names", names);
        catalog.set("AF", Object::Array(vec![Object::Reference(spec)]));
        catalog.set("PageMode", "UseAttachments");
        catalog.set("Lang", text_string("und"));
    }
    // Document information with Unicode strings (printpdf writes raw UTF-8, which readers
    // show as mojibake for non-Latin names).
    let mut info = Dictionary::new();
    info.set("Title", text_string(&view.title));
    info.set("Author", text_string(&view.issuer_name));
    info.set("Subject", text_string(&view.id));
    info.set("Creator", text_string("Tessera"));
    info.set("CreationDate", pdf_date(&view.issued_at));
    let info = doc.add_object(info);
    doc.trailer.set("Info", Object::Reference(info));

    let mut out = Vec::with_capacity(pdf.len() / 2 + clr.len() / 3);
    doc.save_to(&mut out)
        .map_err(|e| Error::Pdf(e.to_string()))?;
    Ok(out)
}

fn deref<'a>(doc: &'a Document, o: &'a Object) -> Result<&'a Object> {
    doc.dereference(o)
        .map(|(_, o)| o)
        .map_err(|e| Error::NotPdf(e.to_string()))
}

/// Name-tree leaves (name, value), depth-limited against cycles.
fn leaves<'a>(
    doc: &'a Document,
    node: &'a Dictionary,
    depth: usize,
    out: &mut Vec<(Vec<u8>, &'a Object)>,
) -> Result<()> {
    if depth > 16 {
        return Err(Error::NotPdf("name tree too deep".into()));
    }
    if let Ok(names) = node.get(b"Names") {
        let names = deref(doc, names)?
            .as_array()
            .map_err(|e| Error::NotPdf(e.to_string()))?;
        for pair in names.chunks(2) {
            if let [k, v] = pair {
                let key = deref(doc, k)?.as_str().unwrap_or_default().to_vec();
                out.push((key, v));
            }
        }
    }
    if let Ok(kids) = node.get(b"Kids") {
        for kid in deref(doc, kids)?
            .as_array()
            .map(|a| a.as_slice())
            .unwrap_or(&[])
        {
            if let Ok(d) = deref(doc, kid)?.as_dict() {
                leaves(doc, d, depth + 1, out)?;
            }
        }
    }
    Ok(())
}

/// UTF-16BE (with BOM) or PDFDocEncoding-as-Latin-1 bytes to text.
fn decode_text(bytes: &[u8]) -> String {
    if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        let units: Vec<u16> = rest
            .chunks(2)
            .map(|c| u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]))
            .collect();
        String::from_utf16_lossy(&units)
    } else {
        bytes.iter().map(|b| *b as char).collect()
    }
}

fn file_name(doc: &Document, spec: &Dictionary) -> Option<String> {
    spec.get(b"UF")
        .or_else(|_| spec.get(b"F"))
        .ok()
        .and_then(|o| deref(doc, o).ok())
        .and_then(|o| o.as_str().ok())
        .map(decode_text)
}

fn embedded_bytes(doc: &Document, spec: &Dictionary) -> Result<Vec<u8>> {
    let ef = spec
        .get(b"EF")
        .map_err(|_| Error::NoAttachment("file specification without /EF".into()))?;
    let ef = deref(doc, ef)?
        .as_dict()
        .map_err(|e| Error::NotPdf(e.to_string()))?;
    let stream = ef
        .get(b"UF")
        .or_else(|_| ef.get(b"F"))
        .map_err(|_| Error::NoAttachment("/EF without a file stream".into()))?;
    let stream = deref(doc, stream)?
        .as_stream()
        .map_err(|e| Error::NotPdf(e.to_string()))?;
    let filters = stream.filters().unwrap_or_default();
    let bytes = match filters.as_slice() {
        [] => stream.content.clone(),
        [f] if *f == b"FlateDecode" => {
            if stream.dict.get(b"DecodeParms").is_ok() {
                return Err(Error::NotPdf(
                    "attachment uses a predictor (not written by Tessera)".into(),
                ));
            }
            let mut out = Vec::new();
            flate2::read::ZlibDecoder::new(stream.content.as_slice())
                .take(MAX_ATTACHMENT_BYTES + 1)
                .read_to_end(&mut out)
                .map_err(|e| Error::NotPdf(format!("attachment does not inflate: {e}")))?;
            out
        }
        other => {
            return Err(Error::NotPdf(format!(
                "attachment filter {:?} is not supported",
                other
                    .iter()
                    .map(|f| String::from_utf8_lossy(f))
                    .collect::<Vec<_>>()
            )));
        }
    };
    if bytes.len() as u64 > MAX_ATTACHMENT_BYTES {
        return Err(Error::NotPdf(format!(
            "attachment larger than {MAX_ATTACHMENT_BYTES} bytes"
        )));
    }
    Ok(bytes)
}

fn extract(doc: &Document) -> Result<Vec<u8>> {
    let catalog = doc.catalog().map_err(|e| Error::NotPdf(e.to_string()))?;
    let mut found: Vec<(String, &Dictionary)> = Vec::new();
    if let Ok(names) = catalog.get(b"Names")
        && let Ok(names) = deref(doc, names)?.as_dict()
        && let Ok(tree) = names.get(b"EmbeddedFiles")
        && let Ok(tree) = deref(doc, tree)?.as_dict()
    {
        let mut out = Vec::new();
        leaves(doc, tree, 0, &mut out)?;
        for (key, value) in out {
            if let Ok(spec) = deref(doc, value)?.as_dict() {
                let name = file_name(doc, spec).unwrap_or_else(|| decode_text(&key));
                found.push((name, spec));
            }
        }
    }
    if found.is_empty()
        && let Ok(af) = catalog.get(b"AF")
    {
        for spec in deref(doc, af)?
            .as_array()
            .map(|a| a.as_slice())
            .unwrap_or(&[])
        {
            if let Ok(spec) = deref(doc, spec)?.as_dict() {
                found.push((file_name(doc, spec).unwrap_or_default(), spec));
            }
        }
    }
    let spec = match found.iter().find(|(n, _)| n == ATTACHMENT_NAME) {
        Some((_, s)) => *s,
        None if found.len() == 1 => found[0].1,
        None if found.is_empty() => return Err(Error::NoAttachment("no embedded files".into())),
        None => {
            return Err(Error::NoAttachment(format!(
                "{} embedded files, none named {ATTACHMENT_NAME}",
                found.len()
            )));
        }
    };
    embedded_bytes(doc, spec)
}

/// The transcript attached to a PDF: the exact bytes of `transcript.json` (or of the only
/// attachment when it is named otherwise).
pub fn extract_attachment(pdf: &[u8]) -> Result<Vec<u8>> {
    if !is_pdf(pdf) {
        return Err(Error::NotPdf("no %PDF- header".into()));
    }
    // lopdf is a parser of untrusted input here; a panic inside it must become an error, not
    // bring down `tessera verify` or a service worker.
    let loaded = std::panic::catch_unwind(|| Document::load_mem(pdf))
        .map_err(|_| Error::NotPdf("the PDF parser failed on this file".into()))?;
    let doc = loaded.map_err(|e| Error::NotPdf(e.to_string()))?;
    extract(&doc)
}

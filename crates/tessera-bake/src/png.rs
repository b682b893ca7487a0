//! PNG baking: the credential in one uncompressed `iTXt` chunk with keyword
//! `openbadgecredential`.
//!
//! Only the chunk layer is touched (length, type, data, CRC-32 — PNG §5.3); the image data is
//! copied as it is, so baking never re-encodes a picture. Every chunk's CRC is checked on the
//! way, so a damaged file is reported as damaged rather than read half-way.

use crate::BakeError;

/// The eight bytes every PNG starts with.
pub const SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1a, b'\n'];
/// The `iTXt` keyword Open Badges 3.0 reserves.
pub const KEYWORD: &[u8] = b"openbadgecredential";
/// PNG's largest chunk length (2^31 − 1).
const MAX_CHUNK: usize = 0x7fff_ffff;

/// One chunk, borrowed from the file.
#[derive(Debug, Clone, Copy)]
struct Chunk<'a> {
    kind: [u8; 4],
    data: &'a [u8],
    /// The whole chunk, length to CRC.
    raw: &'a [u8],
}

/// Splits a PNG into its chunks, checking lengths, types, CRCs and that `IEND` comes last.
fn chunks(png: &[u8]) -> Result<Vec<Chunk<'_>>, BakeError> {
    let rest = png.strip_prefix(&SIGNATURE).ok_or(BakeError::NotPng)?;
    let mut out = Vec::new();
    let mut at = 0usize;
    loop {
        let offset = at + SIGNATURE.len();
        let header = rest.get(at..at + 8).ok_or_else(|| {
            BakeError::CorruptPng(format!(
                "the file ends inside a chunk header at byte {offset}"
            ))
        })?;
        let len = u32::from_be_bytes([header[0], header[1], header[2], header[3]]) as usize;
        let kind = [header[4], header[5], header[6], header[7]];
        if len > MAX_CHUNK {
            return Err(BakeError::CorruptPng(format!(
                "the chunk at byte {offset} claims {len} bytes, more than PNG allows"
            )));
        }
        if !kind.iter().all(u8::is_ascii_alphabetic) {
            return Err(BakeError::CorruptPng(format!(
                "the chunk at byte {offset} has an invalid type {kind:02x?}"
            )));
        }
        let end = at + 12 + len;
        let raw = rest.get(at..end).ok_or_else(|| {
            BakeError::CorruptPng(format!(
                "the {} chunk at byte {offset} is cut off (the file is truncated)",
                String::from_utf8_lossy(&kind)
            ))
        })?;
        let data = &raw[8..8 + len];
        let stored = u32::from_be_bytes([raw[8 + len], raw[9 + len], raw[10 + len], raw[11 + len]]);
        let mut hasher = crc32fast::Hasher::new();
        hasher.update(&kind);
        hasher.update(data);
        if hasher.finalize() != stored {
            return Err(BakeError::CorruptPng(format!(
                "the {} chunk at byte {offset} fails its CRC check",
                String::from_utf8_lossy(&kind)
            )));
        }
        out.push(Chunk { kind, data, raw });
        at = end;
        if &kind == b"IEND" {
            if at != rest.len() {
                return Err(BakeError::CorruptPng(format!(
                    "{} bytes follow the IEND chunk",
                    rest.len() - at
                )));
            }
            break;
        }
    }
    if out.first().map(|c| &c.kind) != Some(b"IHDR") {
        return Err(BakeError::CorruptPng("the first chunk is not IHDR".into()));
    }
    Ok(out)
}

fn is_credential_chunk(chunk: &Chunk<'_>) -> bool {
    &chunk.kind == b"iTXt"
        && chunk.data.len() > KEYWORD.len()
        && chunk.data.starts_with(KEYWORD)
        && chunk.data[KEYWORD.len()] == 0
}

/// Reads the text of an `openbadgecredential` iTXt chunk: keyword NUL, compression flag and
/// method, language tag NUL, translated keyword NUL, then the text.
fn credential_text(data: &[u8]) -> Result<&[u8], BakeError> {
    let after_keyword = &data[KEYWORD.len() + 1..];
    let [flag, method, rest @ ..] = after_keyword else {
        return Err(BakeError::MalformedCredential(
            "the iTXt chunk ends before its compression fields".into(),
        ));
    };
    if *flag != 0 {
        return Err(BakeError::MalformedCredential(format!(
            "the iTXt chunk is compressed (flag {flag}, method {method}); Open Badges 3.0 requires it uncompressed"
        )));
    }
    let mut fields = rest.splitn(3, |b| *b == 0);
    let (Some(_language), Some(_translated), Some(text)) =
        (fields.next(), fields.next(), fields.next())
    else {
        return Err(BakeError::MalformedCredential(
            "the iTXt chunk lacks its language tag or translated keyword".into(),
        ));
    };
    if std::str::from_utf8(text).is_err() {
        return Err(BakeError::MalformedCredential(
            "the iTXt text is not UTF-8".into(),
        ));
    }
    Ok(text)
}

/// The credential baked into `png`, byte for byte as it was baked.
pub fn extract(png: &[u8]) -> Result<&[u8], BakeError> {
    let mut found = None;
    for chunk in chunks(png)?.iter().filter(|c| is_credential_chunk(c)) {
        if found.is_some() {
            return Err(BakeError::SeveralCredentials("PNG"));
        }
        found = Some(credential_text(chunk.data)?);
    }
    found.ok_or(BakeError::NoCredential("PNG"))
}

/// `png` with `credential` baked in, right before `IEND`. A credential already baked into the
/// image is replaced.
pub fn bake(png: &[u8], credential: &[u8]) -> Result<Vec<u8>, BakeError> {
    if std::str::from_utf8(credential).is_err() {
        return Err(BakeError::CredentialNotText);
    }
    let data_len = KEYWORD.len() + 5 + credential.len();
    if data_len > MAX_CHUNK {
        return Err(BakeError::MalformedCredential(
            "the credential is larger than a PNG chunk can hold".into(),
        ));
    }
    let chunks = chunks(png)?;
    let mut out = Vec::with_capacity(png.len() + data_len + 12);
    out.extend_from_slice(&SIGNATURE);
    for chunk in &chunks {
        if is_credential_chunk(chunk) {
            continue;
        }
        if &chunk.kind == b"IEND" {
            write_credential_chunk(&mut out, credential);
        }
        out.extend_from_slice(chunk.raw);
    }
    Ok(out)
}

fn write_credential_chunk(out: &mut Vec<u8>, credential: &[u8]) {
    let mut data = Vec::with_capacity(KEYWORD.len() + 5 + credential.len());
    data.extend_from_slice(KEYWORD);
    // NUL after the keyword, compression flag 0 and method 0, empty language tag and
    // translated keyword (each NUL-terminated).
    data.extend_from_slice(&[0, 0, 0, 0, 0]);
    data.extend_from_slice(credential);
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(b"iTXt");
    hasher.update(&data);
    // The length fits: `bake` checked it against MAX_CHUNK.
    out.extend_from_slice(&u32::try_from(data.len()).unwrap_or(u32::MAX).to_be_bytes());
    out.extend_from_slice(b"iTXt");
    out.extend_from_slice(&data);
    out.extend_from_slice(&hasher.finalize().to_be_bytes());
}

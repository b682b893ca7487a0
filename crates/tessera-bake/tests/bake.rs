//! Baking and extraction: round trips to the identical signed bytes (and the extracted credential
//! still verifies), an independent PNG decoder sees the chunk, and every kind of bad input is a
//! clear error.

use std::path::PathBuf;

use tessera_bake::{BakeError, Format, png, svg};

fn vector(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tessera-vc/tests/vectors/1edtech-ob3")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A real 4×3 RGBA PNG written by the `png` crate, with a tEXt chunk of its own.
fn sample_png() -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut encoder = ::png::Encoder::new(&mut out, 4, 3);
        encoder.set_color(::png::ColorType::Rgba);
        encoder.set_depth(::png::BitDepth::Eight);
        encoder
            .add_text_chunk("Software".into(), "tessera tests".into())
            .unwrap();
        let mut writer = encoder.write_header().unwrap();
        let pixels: Vec<u8> = (0..4 * 3 * 4).map(|i| (i * 7) as u8).collect();
        writer.write_image_data(&pixels).unwrap();
    }
    out
}

const SAMPLE_SVG: &str = r##"<?xml version="1.0" encoding="UTF-8"?>
<!-- a badge -->
<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100" viewBox="0 0 100 100">
  <circle cx="50" cy="50" r="40" fill="#2a6"/>
  <text x="50" y="55">A&amp;B</text>
</svg>
"##;

fn verifies(credential: &[u8]) -> bool {
    let controller: serde_json::Value = serde_json::from_slice(&vector("controller.json")).unwrap();
    let now = chrono::DateTime::parse_from_rfc3339("2024-01-01T00:00:00Z")
        .unwrap()
        .to_utc();
    let mut options = tessera_vc::VerifyOptions::new(now);
    options.add_controller_document(&controller).unwrap();
    let report = tessera_vc::verify_bytes(credential, &options).unwrap();
    report.verified
}

/// Decodes the whole image with the `png` crate and returns its pixels and iTXt chunks.
fn decode(bytes: &[u8]) -> (Vec<u8>, Vec<(String, String)>) {
    let mut reader = ::png::Decoder::new(std::io::Cursor::new(bytes))
        .read_info()
        .unwrap();
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    reader.next_frame(&mut pixels).unwrap();
    reader.finish().unwrap();
    let texts = reader
        .info()
        .utf8_text
        .iter()
        .map(|t| (t.keyword.clone(), t.get_text().unwrap()))
        .collect();
    (pixels, texts)
}

#[test]
fn png_round_trip_keeps_the_signed_bytes_and_the_picture() {
    let credential = vector("signed.json");
    assert!(verifies(&credential), "the official vector verifies as is");
    let image = sample_png();
    let baked = png::bake(&image, &credential).unwrap();

    assert_eq!(png::extract(&baked).unwrap(), credential.as_slice());
    assert!(verifies(png::extract(&baked).unwrap()));
    assert_eq!(tessera_bake::sniff(&baked), Format::Png);
    let (format, extracted) = tessera_bake::extract(&baked).unwrap();
    assert_eq!(
        (format, extracted.as_ref()),
        (Format::Png, credential.as_slice())
    );

    // An independent decoder reads the same picture and finds our chunk, uncompressed.
    let (before, _) = decode(&image);
    let (after, texts) = decode(&baked);
    assert_eq!(before, after);
    let ours: Vec<_> = texts
        .iter()
        .filter(|(k, _)| k == "openbadgecredential")
        .collect();
    assert_eq!(ours.len(), 1);
    assert_eq!(ours[0].1.as_bytes(), credential.as_slice());
    // The chunk sits right before IEND and nothing else moved.
    assert!(baked.ends_with(&image[image.len() - 12..]));
    assert_eq!(&baked[..image.len() - 12], &image[..image.len() - 12]);
}

#[test]
fn baking_twice_replaces_the_credential() {
    let image = sample_png();
    let once = png::bake(&image, b"{\"first\":1}").unwrap();
    let twice = png::bake(&once, b"{\"second\":2}").unwrap();
    assert_eq!(png::extract(&twice).unwrap(), b"{\"second\":2}");
    assert_eq!(twice.len(), once.len() + 1);

    let svg_once = svg::bake(SAMPLE_SVG.as_bytes(), b"{\"first\":1}").unwrap();
    let svg_twice = svg::bake(&svg_once, b"{\"second\":2}").unwrap();
    assert_eq!(svg::extract(&svg_twice).unwrap(), b"{\"second\":2}");
    assert_eq!(
        String::from_utf8(svg_twice)
            .unwrap()
            .matches("xmlns:openbadges")
            .count(),
        1
    );
}

/// A chunk as a PNG writer would write it.
fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut out = (data.len() as u32).to_be_bytes().to_vec();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let mut h = crc32fast::Hasher::new();
    h.update(kind);
    h.update(data);
    out.extend_from_slice(&h.finalize().to_be_bytes());
    out
}

fn insert_before_iend(image: &[u8], extra: &[u8]) -> Vec<u8> {
    let cut = image.len() - 12;
    [&image[..cut], extra, &image[cut..]].concat()
}

#[test]
fn png_with_two_credential_chunks_is_refused() {
    let baked = png::bake(&sample_png(), b"{\"a\":1}").unwrap();
    let second = chunk(b"iTXt", b"openbadgecredential\0\0\0\0\0{\"b\":2}");
    let doubled = insert_before_iend(&baked, &second);
    assert_eq!(
        png::extract(&doubled),
        Err(BakeError::SeveralCredentials("PNG"))
    );
    assert!(
        BakeError::SeveralCredentials("PNG")
            .to_string()
            .contains("more than one")
    );
}

#[test]
fn damaged_pngs_are_reported_as_damaged() {
    let baked = png::bake(&sample_png(), &vector("signed.json")).unwrap();

    // One flipped bit inside the credential text: the CRC no longer matches.
    let mut flipped = baked.clone();
    let at = baked.len() - 40;
    flipped[at] ^= 0x01;
    let err = png::extract(&flipped).unwrap_err();
    assert!(
        matches!(&err, BakeError::CorruptPng(m) if m.contains("iTXt") && m.contains("CRC")),
        "{err}"
    );

    // Truncated in the middle.
    let err = png::extract(&baked[..baked.len() / 2]).unwrap_err();
    assert!(
        matches!(&err, BakeError::CorruptPng(m) if m.contains("truncated") || m.contains("ends")),
        "{err}"
    );

    // Junk after IEND.
    let mut trailing = baked.clone();
    trailing.extend_from_slice(b"junk");
    assert!(matches!(
        png::extract(&trailing),
        Err(BakeError::CorruptPng(_))
    ));

    // A compressed credential chunk is not what OB 3.0 allows.
    let compressed = chunk(b"iTXt", b"openbadgecredential\0\x01\x00\0\0xxxx");
    let err = png::extract(&insert_before_iend(&sample_png(), &compressed)).unwrap_err();
    assert!(
        matches!(&err, BakeError::MalformedCredential(m) if m.contains("compressed")),
        "{err}"
    );

    // A chunk header without its fields.
    let short = chunk(b"iTXt", b"openbadgecredential\0");
    assert!(matches!(
        png::extract(&insert_before_iend(&sample_png(), &short)),
        Err(BakeError::MalformedCredential(_))
    ));

    // Baking refuses a damaged image too (nothing half-written comes out).
    assert!(matches!(
        png::bake(&flipped, b"{}"),
        Err(BakeError::CorruptPng(_))
    ));
    assert_eq!(png::extract(b"GIF89a"), Err(BakeError::NotPng));
}

#[test]
fn ordinary_images_have_no_credential() {
    assert_eq!(
        png::extract(&sample_png()),
        Err(BakeError::NoCredential("PNG"))
    );
    // Another iTXt keyword is not ours.
    let other = chunk(b"iTXt", b"Comment\0\0\0\0\0hello");
    assert_eq!(
        png::extract(&insert_before_iend(&sample_png(), &other)),
        Err(BakeError::NoCredential("PNG"))
    );
    assert_eq!(
        svg::extract(SAMPLE_SVG.as_bytes()),
        Err(BakeError::NoCredential("SVG"))
    );
    assert_eq!(
        tessera_bake::extract(SAMPLE_SVG.as_bytes()).unwrap_err(),
        BakeError::NoCredential("SVG")
    );
    assert!(
        BakeError::NoCredential("SVG")
            .to_string()
            .contains("not a baked badge")
    );
}

#[test]
fn svg_round_trip_keeps_the_signed_bytes() {
    let credential = vector("signed.json");
    let baked = svg::bake(SAMPLE_SVG.as_bytes(), &credential).unwrap();
    let text = String::from_utf8(baked.clone()).unwrap();

    // The namespace on the root, the element immediately after the root start tag.
    assert!(text.contains(
        r#"viewBox="0 0 100 100" xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0"><openbadges:credential><![CDATA[{"#
    ));
    assert_eq!(text.matches("<openbadges:credential>").count(), 1);
    // The rest of the file is untouched.
    assert!(text.ends_with("<circle cx=\"50\" cy=\"50\" r=\"40\" fill=\"#2a6\"/>\n  <text x=\"50\" y=\"55\">A&amp;B</text>\n</svg>\n"));

    assert_eq!(svg::extract(&baked).unwrap(), credential);
    assert!(verifies(&svg::extract(&baked).unwrap()));
    assert_eq!(tessera_bake::sniff(&baked), Format::Svg);
}

#[test]
fn svg_cdata_terminator_inside_the_credential_survives() {
    let credential = br#"{"name":"a ]]> b ]]]]> c"}"#;
    let baked = svg::bake(SAMPLE_SVG.as_bytes(), credential).unwrap();
    assert_eq!(svg::extract(&baked).unwrap(), credential);
}

#[test]
fn svg_variants_are_read() {
    // Another prefix bound to the namespace, escaped text instead of CDATA.
    let other_prefix = r#"<svg xmlns="http://www.w3.org/2000/svg" xmlns:ob="https://purl.imsglobal.org/ob/v3p0"><ob:credential>{"a":"x&lt;y"}</ob:credential></svg>"#;
    assert_eq!(
        svg::extract(other_prefix.as_bytes()).unwrap(),
        br#"{"a":"x<y"}"#
    );

    // Whitespace around the CDATA is layout.
    let spaced = "<svg xmlns:openbadges=\"https://purl.imsglobal.org/ob/v3p0\">\n  <openbadges:credential>\n    <![CDATA[{\"a\":1}]]>\n  </openbadges:credential>\n</svg>";
    assert_eq!(svg::extract(spaced.as_bytes()).unwrap(), br#"{"a":1}"#);

    // An empty root element is opened and closed around the credential.
    let baked = svg::bake(b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>", b"{\"a\":1}").unwrap();
    assert_eq!(
        String::from_utf8(baked.clone()).unwrap(),
        "<svg xmlns=\"http://www.w3.org/2000/svg\" xmlns:openbadges=\"https://purl.imsglobal.org/ob/v3p0\"><openbadges:credential><![CDATA[{\"a\":1}]]></openbadges:credential></svg>"
    );
    assert_eq!(svg::extract(&baked).unwrap(), b"{\"a\":1}");

    // VC-JWT: the compact JWS in the verify attribute.
    let jws = "eyJhbGciOiJFZERTQSJ9.eyJ2YyI6e319.c2ln";
    let baked = svg::bake(SAMPLE_SVG.as_bytes(), jws.as_bytes()).unwrap();
    assert!(
        String::from_utf8_lossy(&baked)
            .contains(&format!(r#"<openbadges:credential verify="{jws}"/>"#))
    );
    let extracted = svg::extract(&baked).unwrap();
    assert_eq!(extracted, jws.as_bytes());
    assert!(tessera_bake::is_compact_jws(&extracted));
}

#[test]
fn bad_svgs_are_clear_errors() {
    let two = r#"<svg xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0"><openbadges:credential><![CDATA[{}]]></openbadges:credential><openbadges:credential><![CDATA[{}]]></openbadges:credential></svg>"#;
    assert_eq!(
        svg::extract(two.as_bytes()),
        Err(BakeError::SeveralCredentials("SVG"))
    );
    // The element name without the namespace is not a credential.
    let unbound = r#"<svg><credential><![CDATA[{}]]></credential></svg>"#;
    assert_eq!(
        svg::extract(unbound.as_bytes()),
        Err(BakeError::NoCredential("SVG"))
    );
    let broken = r#"<svg xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0"><openbadges:credential><![CDATA[{}]]></svg>"#;
    assert!(matches!(
        svg::extract(broken.as_bytes()),
        Err(BakeError::NotSvg(_))
    ));
    assert!(matches!(
        svg::extract(b"<html><body/></html>"),
        Err(BakeError::NotSvg(m)) if m.contains("<html>")
    ));
    let empty = r#"<svg xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0"><openbadges:credential/></svg>"#;
    assert!(matches!(
        svg::extract(empty.as_bytes()),
        Err(BakeError::MalformedCredential(_))
    ));
    let nested = r#"<svg xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0"><openbadges:credential><g/></openbadges:credential></svg>"#;
    assert!(matches!(
        svg::extract(nested.as_bytes()),
        Err(BakeError::MalformedCredential(_))
    ));
    // A custom entity is not expanded (no billion laughs, no external files).
    let entity = r#"<!DOCTYPE svg [<!ENTITY x "boom">]><svg xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0"><openbadges:credential>&x;</openbadges:credential></svg>"#;
    assert!(matches!(
        svg::extract(entity.as_bytes()),
        Err(BakeError::MalformedCredential(m)) if m.contains("&x;")
    ));
    let clash = r#"<svg xmlns:openbadges="urn:other"/>"#;
    assert!(matches!(
        svg::bake(clash.as_bytes(), b"{}"),
        Err(BakeError::NotSvg(_))
    ));
    assert_eq!(
        svg::bake(SAMPLE_SVG.as_bytes(), &[0xff, 0xfe]),
        Err(BakeError::CredentialNotText)
    );
}

#[test]
fn json_passes_through_sniffing() {
    let credential = vector("signed.json");
    assert_eq!(tessera_bake::sniff(&credential), Format::Json);
    let (format, extracted) = tessera_bake::extract(&credential).unwrap();
    assert_eq!(
        (format, extracted.as_ref()),
        (Format::Json, credential.as_slice())
    );
    assert_eq!(tessera_bake::sniff(b"<p>not svg</p>"), Format::Json);
}

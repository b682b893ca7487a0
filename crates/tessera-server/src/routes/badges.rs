//! Credential downloads: the exact signed JSON, and the same bytes baked into a badge image, PNG
//! or SVG, following the Open Badges 3.0 baking rules (`tessera-bake`), so the picture a learner
//! posts is itself the verifiable credential.
//!
//! No image is configured per competency yet, so each competency gets a generated one: a disc
//! in a colour drawn from a digest of the achievement id (the same competency always looks the
//! same; neighbours differ) with a check mark, and in the SVG the competency's code. The title
//! and code come from the signed credential itself, never from the registry as it is today, so
//! the image says what was signed.
//!
//! The same picture, without a credential in it, is the Achievement's `image`
//! (`/orgs/{slug}/achievements/{id}/image.png`, public like the DID document): the one a
//! verifier or a wallet shows beside the credential.
//!
//! Who may download: the API routes here follow [`get_credential`](super::credentials): the
//! learner it was issued to and the organisation's reviewers, teachers and admins (404 for
//! anyone else). Share links serve the same downloads without an account
//! (`/share/c/{token}/…`, see [`crate::pages`]).

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use sha2::{Digest, Sha256};
use tessera_store::credentials::Credential;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Auth;
use crate::error::{AppError, ProblemDoc};
use crate::extract::AppPath;
use crate::routes::evidence::{content_disposition, may_read_learner};
use crate::state::AppState;

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(download_json))
        .routes(routes!(download_png))
        .routes(routes!(download_svg))
        .routes(routes!(achievement_image))
}

/// Side of the generated badge, in pixels (PNG) and user units (SVG).
pub const BADGE_SIZE: u32 = 256;

/// A download format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Download {
    /// The signed JSON, as stored.
    Json,
    /// A PNG with the credential in an `iTXt` chunk.
    Png,
    /// An SVG with an `openbadges:credential` element.
    Svg,
}

impl Download {
    /// The media type served.
    pub fn media_type(self) -> &'static str {
        match self {
            Self::Json => "application/vc+ld+json",
            Self::Png => "image/png",
            Self::Svg => "image/svg+xml",
        }
    }

    fn extension(self) -> &'static str {
        match self {
            Self::Json => "json",
            Self::Png => "png",
            Self::Svg => "svg",
        }
    }
}

/// What the generated image shows, read from the signed credential.
#[derive(Debug, Clone)]
pub struct BadgeLook {
    /// Seeds the colour (the achievement id).
    pub seed: String,
    /// The achievement's name (the SVG's title).
    pub title: String,
    /// The competency's code, if it has one.
    pub code: Option<String>,
}

impl BadgeLook {
    /// Reads the look from a signed credential's JSON (falling back to its id).
    pub fn of(signed: &Value) -> Self {
        let achievement = &signed["credentialSubject"]["achievement"];
        let text = |v: &Value| v.as_str().map(str::to_owned);
        Self {
            seed: text(&achievement["id"])
                .or_else(|| text(&signed["id"]))
                .unwrap_or_default(),
            title: text(&achievement["name"])
                .or_else(|| text(&signed["name"]))
                .unwrap_or_else(|| "Credential".into()),
            code: text(&achievement["humanCode"]),
        }
    }
}

/// Ring and disc colours (sRGB) for a seed: a hue from its digest, fixed saturation and
/// lightness dark enough for white to stand out on it (contrast above 4.5:1).
fn colours(seed: &str) -> ([u8; 3], [u8; 3]) {
    let d = Sha256::digest(seed.as_bytes());
    palette(f64::from(u16::from_be_bytes([d[0], d[1]])) / 65536.0 * 360.0)
}

/// Ring and disc for a hue. Lightness 0.30 keeps white at 5:1 or more on every hue (yellow and
/// green are the bright ones).
fn palette(hue: f64) -> ([u8; 3], [u8; 3]) {
    (hsl(hue, 0.55, 0.18), hsl(hue, 0.50, 0.30))
}

/// HSL (degrees, 0–1, 0–1) to sRGB bytes.
fn hsl(h: f64, s: f64, l: f64) -> [u8; 3] {
    let c = (1.0 - (2.0 * l - 1.0).abs()) * s;
    let hp = h / 60.0;
    let x = c * (1.0 - (hp % 2.0 - 1.0).abs());
    let (r, g, b) = match hp as u32 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    let m = l - c / 2.0;
    let byte = |v: f64| ((v + m) * 255.0).round().clamp(0.0, 255.0) as u8;
    [byte(r), byte(g), byte(b)]
}

fn hex_colour(c: [u8; 3]) -> String {
    format!("#{:02x}{:02x}{:02x}", c[0], c[1], c[2])
}

/// Escapes text for XML character data and attribute values.
fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Control characters are not allowed in XML 1.0.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// The check mark, in units of the badge's side: two segments and the stroke's width.
const CHECK: [(f64, f64); 3] = [(0.32, 0.53), (0.45, 0.65), (0.70, 0.38)];
const CHECK_WIDTH: f64 = 0.06;
const RING_RADIUS: f64 = 0.47;
const DISC_RADIUS: f64 = 0.40;

/// The generated badge as SVG (no credential inside). `id_prefix` keeps element ids unique when
/// several badges sit in one HTML page.
pub fn badge_svg(look: &BadgeLook, id_prefix: &str) -> String {
    let (ring, disc) = colours(&look.seed);
    let s = f64::from(BADGE_SIZE);
    let pt = |(x, y): (f64, f64)| format!("{:.0},{:.0}", x * s, y * s);
    let points: Vec<String> = CHECK.iter().copied().map(pt).collect();
    let code = look.code.as_deref().map(|c| {
        let short = badge_code(c);
        format!(
            "<text x=\"128\" y=\"206\" text-anchor=\"middle\" font-family=\"sans-serif\" \
             font-size=\"17\" fill=\"#ffffff\">{}</text>",
            xml_escape(&short)
        )
    });
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{BADGE_SIZE}\" height=\"{BADGE_SIZE}\" \
         viewBox=\"0 0 {BADGE_SIZE} {BADGE_SIZE}\" role=\"img\" aria-labelledby=\"{id_prefix}title\">\
         <title id=\"{id_prefix}title\">{title}</title>\
         <circle cx=\"128\" cy=\"128\" r=\"{ring_r:.0}\" fill=\"{ring}\"/>\
         <circle cx=\"128\" cy=\"128\" r=\"{disc_r:.0}\" fill=\"{disc}\"/>\
         <polyline points=\"{points}\" fill=\"none\" stroke=\"#ffffff\" stroke-width=\"{width:.0}\" \
         stroke-linecap=\"round\" stroke-linejoin=\"round\"/>{code}</svg>",
        title = xml_escape(&look.title),
        ring_r = RING_RADIUS * s,
        disc_r = DISC_RADIUS * s,
        ring = hex_colour(ring),
        disc = hex_colour(disc),
        points = points.join(" "),
        width = CHECK_WIDTH * s,
        code = code.unwrap_or_default(),
    )
}

/// The code as it fits inside the ring (16 characters): long dotted codes keep their most
/// specific end (`CCSS.ELA-LITERACY.W.9-10.1` → `…W.9-10.1`), anything else its start.
fn badge_code(code: &str) -> String {
    const FITS: usize = 16;
    if code.chars().count() <= FITS {
        return code.to_owned();
    }
    let mut tail = String::new();
    for segment in code.rsplit('.') {
        let next = if tail.is_empty() {
            segment.to_owned()
        } else {
            format!("{segment}.{tail}")
        };
        if next.chars().count() > FITS - 1 {
            break;
        }
        tail = next;
    }
    if tail.is_empty() {
        format!("{}…", code.chars().take(FITS - 1).collect::<String>())
    } else {
        format!("…{tail}")
    }
}

/// Distance from `p` to the segment `a`–`b`.
fn segment_distance(p: (f64, f64), a: (f64, f64), b: (f64, f64)) -> f64 {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let len2 = dx * dx + dy * dy;
    let t = (((p.0 - a.0) * dx + (p.1 - a.1) * dy) / len2).clamp(0.0, 1.0);
    let (cx, cy) = (a.0 + t * dx, a.1 + t * dy);
    ((p.0 - cx).powi(2) + (p.1 - cy).powi(2)).sqrt()
}

/// The generated badge as PNG (RGBA, transparent outside the ring, 3×3 supersampled edges; no
/// code text, which would need a font). CPU work: call it off the async workers.
pub fn badge_png(look: &BadgeLook) -> Result<Vec<u8>, AppError> {
    const SUB: u32 = 3;
    let (ring, disc) = colours(&look.seed);
    let n = BADGE_SIZE;
    let mut pixels = Vec::with_capacity((n * n * 4) as usize);
    let samples = f64::from(SUB * SUB);
    for y in 0..n {
        for x in 0..n {
            let mut acc = [0.0f64; 4];
            for sy in 0..SUB {
                for sx in 0..SUB {
                    let p = (
                        (f64::from(x) + (f64::from(sx) + 0.5) / f64::from(SUB)) / f64::from(n),
                        (f64::from(y) + (f64::from(sy) + 0.5) / f64::from(SUB)) / f64::from(n),
                    );
                    let r = ((p.0 - 0.5).powi(2) + (p.1 - 0.5).powi(2)).sqrt();
                    let check = segment_distance(p, CHECK[0], CHECK[1])
                        .min(segment_distance(p, CHECK[1], CHECK[2]))
                        <= CHECK_WIDTH / 2.0;
                    let colour = if r > RING_RADIUS {
                        None
                    } else if check {
                        Some([255, 255, 255])
                    } else if r > DISC_RADIUS {
                        Some(ring)
                    } else {
                        Some(disc)
                    };
                    if let Some(c) = colour {
                        for i in 0..3 {
                            acc[i] += f64::from(c[i]);
                        }
                        acc[3] += 1.0;
                    }
                }
            }
            if acc[3] == 0.0 {
                pixels.extend_from_slice(&[0, 0, 0, 0]);
            } else {
                // Colour averaged over covered samples; alpha is the coverage.
                for v in &acc[..3] {
                    pixels.push((v / acc[3]).round() as u8);
                }
                pixels.push((acc[3] / samples * 255.0).round() as u8);
            }
        }
    }
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, n, n);
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::High);
    let mut writer = encoder.write_header().map_err(AppError::internal)?;
    writer
        .write_image_data(&pixels)
        .map_err(AppError::internal)?;
    writer.finish().map_err(AppError::internal)?;
    Ok(out)
}

/// The credential in `format`: the stored bytes, or those bytes baked into the generated image.
/// The baked credential is byte for byte the stored one (`tessera-bake` inserts, never
/// re-serialises).
pub async fn credential_bytes(
    credential: &Credential,
    format: Download,
) -> Result<Vec<u8>, AppError> {
    if format == Download::Json {
        return Ok(credential.signed.clone().into_bytes());
    }
    let signed = credential.signed.clone();
    tokio::task::spawn_blocking(move || {
        let doc: Value = serde_json::from_str(&signed).map_err(AppError::internal)?;
        let look = BadgeLook::of(&doc);
        match format {
            Download::Png => tessera_bake::png::bake(&badge_png(&look)?, signed.as_bytes())
                .map_err(AppError::internal),
            Download::Svg => {
                tessera_bake::svg::bake(badge_svg(&look, "b-").as_bytes(), signed.as_bytes())
                    .map_err(AppError::internal)
            }
            Download::Json => Ok(signed.into_bytes()),
        }
    })
    .await
    .map_err(AppError::internal)?
}

/// The download response: media type and an attachment file name from the credential's code.
pub async fn download_response(
    credential: &Credential,
    format: Download,
) -> Result<Response, AppError> {
    let bytes = credential_bytes(credential, format).await?;
    let doc: Value = serde_json::from_str(&credential.signed).unwrap_or(Value::Null);
    let stem = BadgeLook::of(&doc)
        .code
        .unwrap_or_else(|| "credential".into());
    let short = credential.id.get(..8).unwrap_or(&credential.id);
    let name = format!("{stem}-{short}.{}", format.extension());
    Ok((
        [
            (header::CONTENT_TYPE, format.media_type().to_owned()),
            (
                header::CONTENT_DISPOSITION,
                content_disposition(Some(&name), &credential.sha256),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// The credential with the checks of the API: in this organisation, readable by the caller.
async fn readable(
    state: &AppState,
    caller: &crate::auth::Caller,
    slug: &str,
    id: &str,
) -> Result<Credential, AppError> {
    let org = state.store.org_by_slug(slug).await?;
    caller.require_member(&org.id)?;
    let credential = state.store.credential(id).await?;
    if credential.org_id != org.id {
        return Err(AppError::NotFound);
    }
    may_read_learner(caller, &org.id, &credential.learner_id)?;
    Ok(credential)
}

/// The signed credential as a file to save (`Content-Disposition: attachment`), exactly the
/// stored bytes. The learner and the organisation's reviewers, teachers and admins.
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/credentials/{id}/download.json", tag = "credentials",
    params(("slug" = String, Path), ("id" = String, Path)),
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, description = "The signed AchievementCredential", content_type = "application/vc+ld+json"),
        (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn download_json(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppPath((slug, id)): AppPath<(String, String)>,
) -> Result<Response, AppError> {
    let credential = readable(&state, &caller, &slug, &id).await?;
    download_response(&credential, Download::Json).await
}

/// The credential baked into a PNG badge (OB 3.0: an `iTXt` chunk `openbadgecredential`). The
/// learner and the organisation's reviewers, teachers and admins.
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/credentials/{id}/badge.png", tag = "credentials",
    params(("slug" = String, Path), ("id" = String, Path)),
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, description = "A baked PNG", content_type = "image/png"),
        (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn download_png(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppPath((slug, id)): AppPath<(String, String)>,
) -> Result<Response, AppError> {
    let credential = readable(&state, &caller, &slug, &id).await?;
    download_response(&credential, Download::Png).await
}

/// The credential baked into an SVG badge (OB 3.0: `openbadges:credential` with the JSON as
/// CDATA). The learner and the organisation's reviewers, teachers and admins.
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/credentials/{id}/badge.svg", tag = "credentials",
    params(("slug" = String, Path), ("id" = String, Path)),
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, description = "A baked SVG", content_type = "image/svg+xml"),
        (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn download_svg(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppPath((slug, id)): AppPath<(String, String)>,
) -> Result<Response, AppError> {
    let credential = readable(&state, &caller, &slug, &id).await?;
    download_response(&credential, Download::Svg).await
}

/// The Achievement's image: the generated badge of the competency, with no credential in it.
/// Public (it names a competency, never a learner); cached by browsers and wallets for a day.
#[utoipa::path(get, path = "/orgs/{slug}/achievements/{id}/image.png", tag = "credentials",
    params(("slug" = String, Path), ("id" = String, Path)),
    responses((status = 200, description = "The badge image", content_type = "image/png"),
        (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn achievement_image(
    State(state): State<AppState>,
    AppPath((slug, id)): AppPath<(String, String)>,
) -> Result<Response, AppError> {
    let org = state.store.org_by_slug(&slug).await?;
    let competency = state.store.competency(&id).await?;
    if competency.org_id != org.id {
        return Err(AppError::NotFound);
    }
    let look = BadgeLook {
        seed: crate::routes::issuing::achievement_id(
            &state.config.public_url,
            &org.slug,
            &competency.id,
        ),
        title: competency.statement.clone(),
        code: competency.code.clone(),
    };
    let png = tokio::task::spawn_blocking(move || badge_png(&look))
        .await
        .map_err(AppError::internal)??;
    Ok((
        [
            (header::CONTENT_TYPE, "image/png"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        png,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn look() -> BadgeLook {
        BadgeLook {
            seed: "https://x/achievements/1".into(),
            title: "Counts <to> 10 & \"more\"".into(),
            code: Some("MATH.1".into()),
        }
    }

    #[test]
    fn the_svg_escapes_its_text_and_is_stable_per_seed() {
        let svg = badge_svg(&look(), "a-");
        assert!(
            svg.contains("Counts &lt;to&gt; 10 &amp; &quot;more&quot;"),
            "{svg}"
        );
        assert!(svg.contains(">MATH.1</text>"));
        assert_eq!(svg, badge_svg(&look(), "a-"));
        assert_eq!(badge_code("CCSS.ELA-LITERACY.W.9-10.1"), "…W.9-10.1");
        assert_eq!(
            badge_code("A-VERY-LONG-CODE-WITHOUT-DOTS"),
            "A-VERY-LONG-COD…"
        );
        let mut other = look();
        other.seed = "https://x/achievements/2".into();
        assert_ne!(colours(&look().seed), colours(&other.seed));
    }

    #[test]
    fn the_png_is_a_png_of_the_badge_size_and_small() {
        let png = badge_png(&look()).unwrap();
        assert!(png.starts_with(&tessera_bake::png::SIGNATURE));
        // IHDR width and height.
        assert_eq!(&png[16..20], &BADGE_SIZE.to_be_bytes());
        assert_eq!(&png[20..24], &BADGE_SIZE.to_be_bytes());
        assert!(png.len() < 16 * 1024, "{} bytes", png.len());
    }

    #[test]
    fn white_on_the_disc_has_enough_contrast() {
        fn lum(c: [u8; 3]) -> f64 {
            let f = |v: u8| {
                let v = f64::from(v) / 255.0;
                if v <= 0.03928 {
                    v / 12.92
                } else {
                    ((v + 0.055) / 1.055).powf(2.4)
                }
            };
            0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2])
        }
        for hue in 0..360 {
            let (ring, disc) = palette(f64::from(hue));
            for c in [ring, disc] {
                let ratio = 1.05 / (lum(c) + 0.05);
                assert!(ratio >= 4.5, "hue {hue}: {c:?} {ratio}");
            }
        }
    }
}

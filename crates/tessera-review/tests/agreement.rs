//! Inter-rater agreement against published worked examples.

use tessera_review::{ConfusionMatrix, DoubleRating, Error, Rubric, Weights, agreement_by_pair};

fn close(got: Option<f64>, want: f64, tol: f64) -> bool {
    got.is_some_and(|g| (g - want).abs() <= tol)
}

/// SAS/STAT PROC FREQ "Getting Started: Agreement Study" (skin condition data, two
/// dermatologists, 88 patients, categories terrible/poor/marginal/clear):
/// <https://support.sas.com/documentation/cdl/en/procstat/66703/HTML/default/procstat_freq_gettingstarted02.htm>.
/// The documented output reports a simple kappa of 0.3449. SAS's default weighted kappa uses
/// Cicchetti–Allison weights `1 − |i−j|/(k−1)`, i.e. our linear weights; computed by hand from
/// the table: p_o = 71.333/88 = 0.81061, p_e = 0.61493, κ_w = 0.50816.
const SKIN: [&[u64]; 4] = [
    &[10, 4, 1, 0],
    &[5, 10, 12, 2],
    &[2, 4, 12, 5],
    &[0, 2, 6, 13],
];

#[test]
fn sas_skin_condition_table_gives_the_published_simple_kappa_and_the_cicchetti_allison_weighted_kappa()
 {
    let m = ConfusionMatrix::from_rows(&SKIN).expect("4x4");
    assert_eq!(m.n(), 88);
    let a = m.agreement();
    assert!(
        close(a.kappa, 0.3449, 0.00005),
        "simple kappa {:?}",
        a.kappa
    );
    assert!(
        close(a.kappa_linear, 0.50816, 0.00001),
        "linear {:?}",
        a.kappa_linear
    );
    // Exact agreement: (10 + 10 + 12 + 13) / 88.
    assert!(close(a.exact, 45.0 / 88.0, 1e-12));
    // Within one level: everything except the (terrible, marginal), (poor, clear),
    // (marginal, terrible), (clear, poor) cells = 88 − (1 + 2 + 2 + 2).
    assert!(close(a.adjacent, 81.0 / 88.0, 1e-12));
}

/// Cohen's kappa, two raters, yes/no, 50 items: 20 yes/yes, 5 yes/no, 10 no/yes, 15 no/no.
/// p_o = 0.7, p_e = 0.5, κ = 0.4 (the worked example in the Wikipedia article "Cohen's kappa",
/// following Cohen 1960).
#[test]
fn two_by_two_worked_example_gives_kappa_0_4() {
    let m = ConfusionMatrix::from_rows(&[&[20, 5], &[10, 15]]).expect("2x2");
    let a = m.agreement();
    assert!(close(a.exact, 0.7, 1e-12));
    assert!(close(a.kappa, 0.4, 1e-12));
    // With two categories every weighting is the same.
    assert!(close(a.kappa_linear, 0.4, 1e-12));
    assert!(close(a.kappa_quadratic, 0.4, 1e-12));
}

/// Quadratically weighted kappa equals `2·cov(x, y) / (var x + var y + (x̄ − ȳ)²)` with population
/// moments (Fleiss & Cohen 1973; Schuster 2004). Checked independently on the SAS table.
#[test]
fn quadratic_kappa_matches_the_moment_identity() {
    let m = ConfusionMatrix::from_rows(&SKIN).expect("4x4");
    let mut pairs = Vec::new();
    for (i, row) in SKIN.iter().enumerate() {
        for (j, &c) in row.iter().enumerate() {
            for _ in 0..c {
                pairs.push((i as f64, j as f64));
            }
        }
    }
    let n = pairs.len() as f64;
    let mx = pairs.iter().map(|p| p.0).sum::<f64>() / n;
    let my = pairs.iter().map(|p| p.1).sum::<f64>() / n;
    let vx = pairs.iter().map(|p| (p.0 - mx).powi(2)).sum::<f64>() / n;
    let vy = pairs.iter().map(|p| (p.1 - my).powi(2)).sum::<f64>() / n;
    let cov = pairs.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum::<f64>() / n;
    let want = 2.0 * cov / (vx + vy + (mx - my).powi(2));
    assert!(
        close(m.kappa(Weights::Quadratic), want, 1e-12),
        "{:?} vs {want}",
        m.kappa(Weights::Quadratic)
    );
    // Ordering of the coefficients on this table: partial credit raises agreement.
    let (k, kl, kq) = (
        m.kappa(Weights::Unweighted),
        m.kappa(Weights::Linear),
        m.kappa(Weights::Quadratic),
    );
    assert!(k < kl && kl < kq);
}

#[test]
fn perfect_agreement_is_one_and_a_single_used_level_leaves_kappa_undefined() {
    let m = ConfusionMatrix::from_rows(&[&[5, 0, 0], &[0, 7, 0], &[0, 0, 3]]).expect("3x3");
    assert!(close(m.kappa(Weights::Unweighted), 1.0, 1e-12));
    assert!(close(m.kappa(Weights::Quadratic), 1.0, 1e-12));
    let one = ConfusionMatrix::from_rows(&[&[9, 0], &[0, 0]]).expect("2x2");
    assert_eq!(one.agreement().kappa, None);
    assert_eq!(one.agreement().exact, Some(1.0));
    let empty = ConfusionMatrix::new(3).expect("3x3");
    assert_eq!(empty.agreement().kappa, None);
    assert_eq!(empty.agreement().exact, None);
}

#[test]
fn bad_tables_and_ratings_are_typed_errors() {
    assert!(matches!(ConfusionMatrix::new(1), Err(Error::Agreement(_))));
    assert!(matches!(
        ConfusionMatrix::from_rows(&[&[1, 2], &[3]]),
        Err(Error::Agreement(_))
    ));
    let mut m = ConfusionMatrix::new(3).expect("3x3");
    assert!(matches!(m.add(0, 3), Err(Error::Agreement(_))));
}

#[test]
fn agreement_is_computed_per_reviewer_pair_with_pairs_unordered() {
    let r = Rubric::load(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../rubrics/science-lab-report.toml"),
    )
    .expect("shipped");
    let dr = |a: &str, la: &str, b: &str, lb: &str, c: &str| DoubleRating {
        rubric: "science-lab-report".into(),
        criterion: c.into(),
        reviewer_a: a.into(),
        level_a: la.into(),
        reviewer_b: b.into(),
        level_b: lb.into(),
    };
    let ratings = vec![
        dr("rev:1", "meeting", "rev:2", "meeting", "design"),
        // Same pair, reversed order: pooled with the first, levels swapped accordingly.
        dr("rev:2", "approaching", "rev:1", "meeting", "analysis"),
        dr("rev:1", "exceeding", "rev:3", "emerging", "data"),
    ];
    let pairs = agreement_by_pair(&r, &ratings).expect("valid ratings");
    assert_eq!(pairs.len(), 2);
    assert_eq!(
        (pairs[0].reviewer_a.as_str(), pairs[0].reviewer_b.as_str()),
        ("rev:1", "rev:2")
    );
    assert_eq!(pairs[0].agreement.n, 2);
    assert_eq!(pairs[0].agreement.exact, Some(0.5));
    assert_eq!(pairs[0].agreement.adjacent, Some(1.0));
    assert_eq!(pairs[1].agreement.exact, Some(0.0));
    assert_eq!(pairs[1].agreement.adjacent, Some(0.0));
    let bad = vec![dr("rev:1", "stellar", "rev:2", "meeting", "design")];
    assert!(matches!(
        agreement_by_pair(&r, &bad),
        Err(Error::Agreement(_))
    ));
    let same = vec![dr("rev:1", "meeting", "rev:1", "meeting", "design")];
    assert!(matches!(
        agreement_by_pair(&r, &same),
        Err(Error::Agreement(_))
    ));
}

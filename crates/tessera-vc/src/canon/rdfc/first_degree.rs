//! RDFC-1.0 when first-degree hashes already tell every blank node apart.
//!
//! The canonicalization algorithm (<https://www.w3.org/TR/rdf-canon/#canon-algorithm>) issues
//! canonical identifiers in step 5 for every blank node whose first-degree hash (§4.6) no other
//! blank node shares; only nodes left over need the N-degree hash (step 6). Credentials almost
//! never leave any: each blank node (a subject without `id`, a list cell) has its own
//! properties. For such a dataset this module runs steps 1–5 and the serialisation (§4.4.3)
//! directly, with each quad's terms written once, instead of `sophia_c14n`'s general machinery.
//! A dataset with a shared hash returns `None`, and the caller runs the full algorithm with its
//! poison-graph limits; everything here is linear in the size of the dataset.

use std::collections::HashMap;

use sha2::Digest;
use sha2::digest::Output;

use super::super::quads::{Quad, Term, write_term};

/// One position of a quad: a blank node (by index) or an already serialised term.
#[derive(Clone, Copy)]
enum Slot {
    Blank(usize),
    Text(usize, usize),
}

/// The quads with their non-blank terms serialised once, blank nodes numbered.
struct Prepared<'q> {
    text: String,
    quads: Vec<[Option<Slot>; 4]>,
    labels: Vec<&'q str>,
    /// For each blank node, the quads (indices) that mention it, each once.
    mentions: Vec<Vec<usize>>,
}

fn prepare(quads: &[Quad]) -> Prepared<'_> {
    // A dataset is a set: duplicate quads count once.
    let mut unique: Vec<&Quad> = quads.iter().collect();
    unique.sort_unstable();
    unique.dedup();

    let mut text = String::with_capacity(unique.len() * 96);
    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut labels: Vec<&str> = Vec::new();
    let mut mentions: Vec<Vec<usize>> = Vec::new();
    let mut prepared = Vec::with_capacity(unique.len());
    for (qi, q) in unique.iter().enumerate() {
        let mut slots = [None; 4];
        for (pos, term) in [Some(&q.s), Some(&q.p), Some(&q.o), q.g.as_ref()]
            .into_iter()
            .enumerate()
        {
            let Some(term) = term else { continue };
            slots[pos] = Some(match term {
                Term::Blank(label) => {
                    let b = *index.entry(label.as_str()).or_insert_with(|| {
                        labels.push(label.as_str());
                        mentions.push(Vec::new());
                        labels.len() - 1
                    });
                    if mentions[b].last() != Some(&qi) {
                        mentions[b].push(qi);
                    }
                    Slot::Blank(b)
                }
                other => {
                    let start = text.len();
                    write_term(&mut text, other);
                    Slot::Text(start, text.len())
                }
            });
        }
        prepared.push(slots);
    }
    Prepared {
        text,
        quads: prepared,
        labels,
        mentions,
    }
}

impl Prepared<'_> {
    /// Append the N-Quads line of quad `qi`, writing blank node `b` as `blank(b)`.
    fn write_line(&self, out: &mut String, qi: usize, blank: impl Fn(&mut String, usize)) {
        for slot in self.quads[qi].iter().flatten() {
            match *slot {
                Slot::Blank(b) => {
                    out.push_str("_:");
                    blank(out, b);
                }
                Slot::Text(start, end) => out.push_str(&self.text[start..end]),
            }
            out.push(' ');
        }
        out.push_str(".\n");
    }

    /// Hash First Degree Quads (§4.6) of blank node `reference`.
    fn first_degree_hash<D: Digest>(&self, reference: usize, lines: &mut Vec<String>) -> Output<D> {
        let quads = &self.mentions[reference];
        lines.truncate(0);
        for &qi in quads {
            let mut line = String::with_capacity(128);
            self.write_line(&mut line, qi, |out, b| {
                out.push(if b == reference { 'a' } else { 'z' })
            });
            lines.push(line);
        }
        lines.sort_unstable();
        let mut hasher = D::new();
        for line in lines.iter() {
            hasher.update(line.as_bytes());
        }
        hasher.finalize()
    }
}

/// The canonical blank node order: `Some(order)` where `order[rank]` is the blank node issued
/// `c14n{rank}`, or `None` when two blank nodes share a first-degree hash.
fn canonical_order<D: Digest>(p: &Prepared<'_>) -> Option<Vec<usize>> {
    let mut lines = Vec::new();
    let mut hashes: Vec<(Output<D>, usize)> = (0..p.labels.len())
        .map(|b| (p.first_degree_hash::<D>(b, &mut lines), b))
        .collect();
    // Hex digests order as the raw bytes do, so the raw digests are sorted (step 5).
    hashes.sort_unstable();
    if hashes.windows(2).any(|w| w[0].0 == w[1].0) {
        return None;
    }
    Some(hashes.into_iter().map(|(_, b)| b).collect())
}

/// The canonical N-Quads of `quads`, or `None` if the full algorithm is needed.
pub(super) fn canonical_nquads<D: Digest>(quads: &[Quad]) -> Option<String> {
    let p = prepare(quads);
    let order = canonical_order::<D>(&p)?;
    let mut rank = vec![0; order.len()];
    for (r, &b) in order.iter().enumerate() {
        rank[b] = r;
    }
    let names: Vec<String> = rank.iter().map(|r| format!("c14n{r}")).collect();
    let mut lines: Vec<String> = (0..p.quads.len())
        .map(|qi| {
            let mut line = String::with_capacity(128);
            p.write_line(&mut line, qi, |out, b| out.push_str(&names[b]));
            line
        })
        .collect();
    lines.sort_unstable();
    let mut out = String::with_capacity(lines.iter().map(String::len).sum());
    for line in &lines {
        out.push_str(line);
    }
    Some(out)
}

/// The issued identifier map (input label → canonical label), or `None` if the full algorithm
/// is needed.
pub(super) fn issued_identifiers<D: Digest>(quads: &[Quad]) -> Option<Vec<(String, String)>> {
    let p = prepare(quads);
    let order = canonical_order::<D>(&p)?;
    Some(
        order
            .iter()
            .enumerate()
            .map(|(r, &b)| (p.labels[b].to_owned(), format!("c14n{r}")))
            .collect(),
    )
}

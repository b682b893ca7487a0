//! The pace of the transcript as a timeline: one lane per area, a span per competency from first
//! activity to mastery and a mark on the mastery date. Positions are fractions of the period
//! (0 = start, 1 = end) so the HTML page and the PDF scale them to their own widths.

use chrono::{DateTime, Datelike, TimeZone, Utc};
use serde::Serialize;
use tessera_transcript::TranscriptView;

/// The timeline of a transcript.
#[derive(Debug, Clone, Serialize)]
pub struct Timeline {
    /// Start of the axis.
    pub start: DateTime<Utc>,
    /// End of the axis.
    pub end: DateTime<Utc>,
    /// One lane per area, in the transcript's order.
    pub lanes: Vec<Lane>,
    /// Axis ticks.
    pub ticks: Vec<Tick>,
}

/// One area's lane.
#[derive(Debug, Clone, Serialize)]
pub struct Lane {
    /// The area's name.
    pub label: String,
    /// Its competencies.
    pub marks: Vec<Mark>,
}

/// One competency on the timeline.
#[derive(Debug, Clone, Serialize)]
pub struct Mark {
    /// The competency's name (a tooltip in the page).
    pub name: String,
    /// Where its first activity falls.
    pub from: f64,
    /// Where it was mastered (or the end of the period while in progress).
    pub to: f64,
    /// Mastered (else in progress).
    pub mastered: bool,
}

/// One tick on the axis.
#[derive(Debug, Clone, Serialize)]
pub struct Tick {
    /// Where it falls.
    pub at: f64,
    /// Its label (`2024-01`, or the year for January).
    pub label: String,
}

impl Timeline {
    /// The timeline of a transcript view.
    pub fn of(view: &TranscriptView) -> Timeline {
        let mut lo = view.period_start;
        let mut hi = view.period_end;
        for c in view.competencies() {
            for t in [c.first_activity, c.mastered_at].into_iter().flatten() {
                lo = Some(lo.map_or(t, |l| l.min(t)));
                hi = Some(hi.map_or(t, |h| h.max(t)));
            }
        }
        let start = lo.unwrap_or(view.issued_at);
        let end = hi.unwrap_or(view.issued_at).max(start);
        let span = (end - start).num_seconds().max(1) as f64;
        let at = |t: DateTime<Utc>| ((t - start).num_seconds() as f64 / span).clamp(0.0, 1.0);
        let lanes = view
            .areas
            .iter()
            .map(|a| Lane {
                label: a.name.clone(),
                marks: a
                    .competencies
                    .iter()
                    .filter_map(|c| {
                        let from = c.first_activity.or(c.mastered_at)?;
                        Some(Mark {
                            name: c.name.clone(),
                            from: at(from),
                            to: at(c.mastered_at.unwrap_or(end)),
                            mastered: c.mastered_at.is_some(),
                        })
                    })
                    .collect(),
            })
            .collect();
        Timeline {
            start,
            end,
            lanes,
            ticks: ticks(start, end, &at),
        }
    }
}

fn ticks(start: DateTime<Utc>, end: DateTime<Utc>, at: &dyn Fn(DateTime<Utc>) -> f64) -> Vec<Tick> {
    let months = (end.year() - start.year()) * 12 + end.month() as i32 - start.month() as i32;
    // At most about eight ticks, on month boundaries a reader recognises.
    let step = [1, 2, 3, 6, 12, 24, 60]
        .into_iter()
        .find(|s| months / s <= 8)
        .unwrap_or(120);
    let mut out = Vec::new();
    let (mut y, mut m) = (start.year(), start.month() as i32);
    // First boundary after start that is a multiple of the step (January-aligned).
    loop {
        m += 1;
        if m > 12 {
            m = 1;
            y += 1;
        }
        if (m - 1) % step.min(12) == 0 && (step < 12 || (y % (step / 12)) == 0) {
            break;
        }
    }
    for _ in 0..64 {
        let Some(t) = Utc.with_ymd_and_hms(y, m as u32, 1, 0, 0, 0).single() else {
            break;
        };
        if t > end {
            break;
        }
        out.push(Tick {
            at: at(t),
            label: if m == 1 {
                y.to_string()
            } else {
                format!("{y}-{m:02}")
            },
        });
        m += step;
        while m > 12 {
            m -= 12;
            y += 1;
        }
    }
    out
}

//! The onboarding funnel: the counts each engine reads from the events and the feedback, and
//! the funnel the API shows, made from them here (the same arithmetic for both engines).

use serde::Serialize;

/// The onboarding funnel of the sessions in a time range.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Funnel {
    pub from: String,
    pub to: String,
    /// Sessions started, completed, abandoned and expired in the range (by event time).
    pub sessions: SessionCounts,
    /// Of the sessions started in the range: how many saved and completed each step, and how
    /// many of those that reached the previous step did not reach this one.
    pub steps: Vec<StepReach>,
    /// Time from start to completion of the sessions completed in the range (nearest rank).
    pub time_to_complete: Durations,
    pub suggestions: SuggestionCounts,
}

#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
pub struct SessionCounts {
    pub started: i64,
    pub completed: i64,
    pub abandoned: i64,
    pub expired: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StepReach {
    pub step: &'static str,
    pub reached: i64,
    pub completed: i64,
    pub drop_off: i64,
    /// `drop_off` over the previous step's reach (the started sessions for the first step).
    pub drop_off_rate: Option<f64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Durations {
    pub count: i64,
    pub median_ms: Option<i64>,
    pub p90_ms: Option<i64>,
}

#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
pub struct SuggestionCounts {
    pub accepted: i64,
    pub edited: i64,
    pub dismissed: i64,
    /// (accepted + edited) / all choices: an edited suggestion was still taken.
    pub acceptance_rate: Option<f64>,
}

/// The counts behind a [`Funnel`] over a time range, as an engine reads them.
#[derive(Debug, Default)]
pub struct FunnelFigures {
    /// Events per session kind (`started`, `completed`, `abandoned`, `expired`) in the range.
    pub sessions_by_kind: Vec<(String, i64)>,
    /// Sessions started in the range.
    pub cohort: i64,
    /// Of those, the sessions with each `(step, kind)` event (`step_saved`, `step_completed`).
    pub reach: Vec<(String, String, i64)>,
    /// How many sessions completed in the range, and the start-to-completion times at the
    /// ranks [`Durations::ranks`] gives for that count.
    pub completed: i64,
    pub durations_at_ranks: Vec<i64>,
    /// Feedback per action (`accepted`, `edited`, `dismissed`) in the range.
    pub feedback_by_action: Vec<(String, i64)>,
}

impl Durations {
    /// The percentiles reported (median, p90).
    pub const PERCENTILES: [i64; 2] = [50, 90];

    /// The 0-based offsets of the percentiles among `n` sorted durations (nearest rank: the
    /// ceil(p% · n)-th smallest); none when there are none.
    pub fn ranks(n: i64) -> Vec<i64> {
        if n <= 0 {
            return Vec::new();
        }
        Self::PERCENTILES
            .iter()
            .map(|p| (p * n + 99) / 100 - 1)
            .collect()
    }
}

impl Funnel {
    /// The funnel from an engine's counts (`from` and `to` are filled in by the caller).
    pub fn from_figures(figures: FunnelFigures) -> Funnel {
        let mut sessions = SessionCounts::default();
        for (kind, n) in figures.sessions_by_kind {
            match kind.as_str() {
                "started" => sessions.started = n,
                "completed" => sessions.completed = n,
                "abandoned" => sessions.abandoned = n,
                _ => sessions.expired = n,
            }
        }
        let count = |step: &str, kind: &str| {
            figures
                .reach
                .iter()
                .find(|(s, k, _)| s == step && k == kind)
                .map_or(0, |(_, _, n)| *n)
        };
        let mut steps = Vec::new();
        let mut previous = figures.cohort;
        for id in onboarding_core::StepId::ALL {
            let reached = count(id.name(), "step_saved");
            let drop_off = (previous - reached).max(0);
            steps.push(StepReach {
                step: id.name(),
                reached,
                completed: count(id.name(), "step_completed"),
                drop_off,
                drop_off_rate: ratio(drop_off, previous),
            });
            previous = reached;
        }
        let mut suggestions = SuggestionCounts::default();
        for (action, n) in figures.feedback_by_action {
            match action.as_str() {
                "accepted" => suggestions.accepted = n,
                "edited" => suggestions.edited = n,
                _ => suggestions.dismissed = n,
            }
        }
        let all = suggestions.accepted + suggestions.edited + suggestions.dismissed;
        suggestions.acceptance_rate = ratio(suggestions.accepted + suggestions.edited, all);
        let at = |i: usize| figures.durations_at_ranks.get(i).copied();
        Funnel {
            from: String::new(),
            to: String::new(),
            sessions,
            steps,
            time_to_complete: Durations {
                count: figures.completed,
                median_ms: at(0),
                p90_ms: at(1),
            },
            suggestions,
        }
    }
}

fn ratio(part: i64, whole: i64) -> Option<f64> {
    // Counts stay far below 2^53, where i64 → f64 is exact.
    #[allow(clippy::cast_precision_loss)]
    (whole > 0).then(|| part as f64 / whole as f64)
}

//! Onboarding sessions and step saves: the rows, and what a save decides (its rules, once for
//! both engines). A save finds the user's open session locked, refuses when it has been
//! inactive longer than the TTL or does not match `If-Match`, and otherwise bumps the version,
//! writes its step's row and its events. [`decide_saves`] runs the rules for a batch of saves
//! in order over the sessions an engine locked and read, and returns each save's outcome and
//! the rows to write; the engine only locks, reads and writes.

use serde_json::Value;

/// Where a session stands (the `status` column's spellings).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionStatus {
    InProgress,
    Completed,
    /// Left by `start` with `restart` (its draft discarded).
    Abandoned,
    /// Inactive past the TTL, flipped by `start` or the purge (its draft discarded).
    Expired,
}

impl SessionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SessionStatus::InProgress => "in_progress",
            SessionStatus::Completed => "completed",
            SessionStatus::Abandoned => "abandoned",
            SessionStatus::Expired => "expired",
        }
    }
}

impl TryFrom<String> for SessionStatus {
    type Error = String;
    fn try_from(text: String) -> Result<SessionStatus, String> {
        [
            SessionStatus::InProgress,
            SessionStatus::Completed,
            SessionStatus::Abandoned,
            SessionStatus::Expired,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
        .ok_or_else(|| format!("unknown session status {text:?}"))
    }
}

/// How an open session ends without completing (its status, and the kind of its event).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionEnd {
    Abandoned,
    Expired,
}

impl SessionEnd {
    pub fn status(self) -> SessionStatus {
        match self {
            SessionEnd::Abandoned => SessionStatus::Abandoned,
            SessionEnd::Expired => SessionStatus::Expired,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Session {
    pub id: String,
    pub user_id: String,
    pub status: SessionStatus,
    pub version: i64,
    pub draft: Value,
    pub completed_steps: Vec<String>,
    pub organization_id: Option<String>,
    pub last_activity_at: i64,
    pub created_at: i64,
}

/// A session as an engine reads it: its draft as the JSON text of `{step: data, …}` (the
/// steps' stored texts joined as they are) and its completed steps as a JSON array's text.
#[derive(Clone, Debug)]
pub struct SessionRow {
    pub id: String,
    pub user_id: String,
    pub status: SessionStatus,
    pub version: i64,
    pub draft: String,
    pub completed_steps: String,
    pub organization_id: Option<String>,
    pub last_activity_at: i64,
    pub created_at: i64,
}

impl TryFrom<SessionRow> for Session {
    type Error = sqlx::Error;
    /// A draft that cannot be read is an error (a 500, logged), never an empty one (shown to
    /// the user it would be a lie, and saved back, a loss).
    fn try_from(row: SessionRow) -> crate::Result<Session> {
        Ok(Session {
            draft: parse_json("draft", &row.draft)?,
            completed_steps: in_wizard_order(parse_json("completed_steps", &row.completed_steps)?),
            id: row.id,
            user_id: row.user_id,
            status: row.status,
            version: row.version,
            organization_id: row.organization_id,
            last_activity_at: row.last_activity_at,
            created_at: row.created_at,
        })
    }
}

fn parse_json<T: serde::de::DeserializeOwned>(column: &str, text: &str) -> crate::Result<T> {
    serde_json::from_str(text).map_err(|e| sqlx::Error::ColumnDecode {
        index: column.to_owned(),
        source: Box::new(e),
    })
}

/// Completed steps in wizard order.
pub fn in_wizard_order(mut steps: Vec<String>) -> Vec<String> {
    steps.sort_by_key(|s| onboarding_core::StepId::parse(s).map(onboarding_core::StepId::index));
    steps
}

/// A parsed `If-Match`: any open session (`*`), or one of these versions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IfMatch {
    Any,
    Versions(Vec<i64>),
}

impl IfMatch {
    pub fn matches(&self, version: i64) -> bool {
        match self {
            IfMatch::Any => true,
            IfMatch::Versions(v) => v.contains(&version),
        }
    }
}

/// One step save as the API received it.
#[derive(Clone, Debug)]
pub struct StepSave {
    pub user: String,
    pub step: String,
    /// The step's data, as the JSON text stored.
    pub data: String,
    /// Whether the step is valid (then it counts as completed).
    pub valid: bool,
    /// When (ms), and how long a session may be inactive (ms).
    pub at: i64,
    pub ttl_ms: i64,
    pub expected: Option<IfMatch>,
    /// The ids of its `step_saved` and (when valid) `step_completed` events.
    pub saved_event: String,
    pub completed_event: Option<String>,
}

/// What became of one save.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Written: the session's new version and its completed steps in wizard order.
    Saved {
        version: i64,
        completed_steps: Vec<String>,
    },
    NoSession,
    Expired,
    /// `If-Match` did not match the session's current version.
    Stale(Option<i64>),
}

/// An open session as a save batch found it, its row locked.
#[derive(Clone, Debug)]
pub struct OpenSession {
    pub id: String,
    pub user_id: String,
    pub version: i64,
    pub last_activity_at: i64,
}

/// A session's new version and activity time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionBump {
    pub id: String,
    pub version: i64,
    pub at: i64,
}

/// A step's row of a draft, written or replaced (a step saved twice in a batch is written
/// once, with its last data and its first time).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepRow {
    pub session_id: String,
    pub user_id: String,
    pub step: String,
    pub data: String,
    pub completed: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

/// An event of a session (`started`, `step_saved`, `completed`, …).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventRow {
    pub id: String,
    pub session_id: String,
    pub user_id: String,
    pub kind: &'static str,
    pub step: Option<String>,
    pub at: i64,
}

/// What a batch of saves writes, in one transaction.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SaveWrites {
    pub sessions: Vec<SessionBump>,
    pub steps: Vec<StepRow>,
    pub events: Vec<EventRow>,
}

impl SaveWrites {
    pub fn is_empty(&self) -> bool {
        self.sessions.is_empty()
    }
}

/// The rules of a batch of saves, in order: each against its user's open session (`open`,
/// locked, with its completed steps `completed` as `(session id, step)`) as the saves before
/// it left it. Returns each save's outcome, in the batch's order, and what to write.
pub fn decide_saves(
    saves: &[&StepSave],
    open: Vec<OpenSession>,
    completed: Vec<(String, String)>,
) -> (Vec<Outcome>, SaveWrites) {
    struct Current {
        session: OpenSession,
        completed: Vec<String>,
        changed: bool,
    }
    let mut sessions: Vec<Current> = open
        .into_iter()
        .map(|session| Current {
            completed: completed
                .iter()
                .filter(|(id, _)| *id == session.id)
                .map(|(_, step)| step.clone())
                .collect(),
            session,
            changed: false,
        })
        .collect();
    let mut writes = SaveWrites::default();
    let mut outcomes = Vec::with_capacity(saves.len());
    for save in saves {
        let Some(current) = sessions.iter_mut().find(|c| c.session.user_id == save.user) else {
            outcomes.push(Outcome::NoSession);
            continue;
        };
        let session = &mut current.session;
        if save.at.saturating_sub(session.last_activity_at) > save.ttl_ms {
            outcomes.push(Outcome::Expired);
            continue;
        }
        if save
            .expected
            .as_ref()
            .is_some_and(|e| !e.matches(session.version))
        {
            outcomes.push(Outcome::Stale(Some(session.version)));
            continue;
        }
        session.version += 1;
        session.last_activity_at = save.at;
        current.changed = true;
        current.completed.retain(|s| *s != save.step);
        if save.valid {
            current.completed.push(save.step.clone());
        }
        match writes
            .steps
            .iter_mut()
            .find(|r| r.session_id == session.id && r.step == save.step)
        {
            Some(row) => {
                row.data.clone_from(&save.data);
                row.completed = save.valid;
                row.updated_at = save.at;
            }
            None => writes.steps.push(StepRow {
                session_id: session.id.clone(),
                user_id: save.user.clone(),
                step: save.step.clone(),
                data: save.data.clone(),
                completed: save.valid,
                created_at: save.at,
                updated_at: save.at,
            }),
        }
        let event = |id: &String, kind| EventRow {
            id: id.clone(),
            session_id: session.id.clone(),
            user_id: save.user.clone(),
            kind,
            step: Some(save.step.clone()),
            at: save.at,
        };
        writes.events.push(event(&save.saved_event, "step_saved"));
        if let (true, Some(id)) = (save.valid, &save.completed_event) {
            writes.events.push(event(id, "step_completed"));
        }
        outcomes.push(Outcome::Saved {
            version: session.version,
            completed_steps: in_wizard_order(current.completed.clone()),
        });
    }
    writes.sessions = sessions
        .into_iter()
        .filter(|c| c.changed)
        .map(|c| SessionBump {
            id: c.session.id,
            version: c.session.version,
            at: c.session.last_activity_at,
        })
        .collect();
    (outcomes, writes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn save(user: &str, step: &str, at: i64, expected: Option<IfMatch>, valid: bool) -> StepSave {
        StepSave {
            user: user.into(),
            step: step.into(),
            data: format!("{{\"at\":{at}}}"),
            valid,
            at,
            ttl_ms: 1_000,
            expected,
            saved_event: format!("s{at}"),
            completed_event: valid.then(|| format!("c{at}")),
        }
    }

    fn open(user: &str, version: i64, last: i64) -> OpenSession {
        OpenSession {
            id: format!("session-{user}"),
            user_id: user.into(),
            version,
            last_activity_at: last,
        }
    }

    #[test]
    fn each_save_sees_what_the_saves_before_it_left() {
        let saves = [
            save(
                "a",
                "organization",
                100,
                Some(IfMatch::Versions(vec![3])),
                true,
            ),
            save(
                "a",
                "organization",
                200,
                Some(IfMatch::Versions(vec![3])),
                false,
            ),
            save("a", "company", 300, Some(IfMatch::Versions(vec![4])), true),
            save("b", "company", 100, None, true),
            save("c", "company", 5_000, None, true),
        ];
        let refs: Vec<&StepSave> = saves.iter().collect();
        let (outcomes, writes) = decide_saves(
            &refs,
            vec![open("a", 3, 0), open("c", 1, 0)],
            vec![("session-a".into(), "objectives".into())],
        );
        let saved = |version, steps: &[&str]| Outcome::Saved {
            version,
            completed_steps: steps.iter().map(|s| (*s).to_owned()).collect(),
        };
        assert_eq!(
            outcomes,
            [
                saved(4, &["organization", "objectives"]),
                Outcome::Stale(Some(4)),
                saved(5, &["company", "organization", "objectives"]),
                Outcome::NoSession,
                Outcome::Expired,
            ]
        );
        assert_eq!(
            writes.sessions,
            [SessionBump {
                id: "session-a".into(),
                version: 5,
                at: 300
            }]
        );
        assert_eq!(writes.steps.len(), 2);
        assert_eq!(writes.events.len(), 4);
    }

    #[test]
    fn a_step_saved_twice_in_a_batch_is_written_once_with_its_last_data() {
        let saves = [
            save("a", "company", 100, None, true),
            save("a", "company", 200, None, false),
        ];
        let refs: Vec<&StepSave> = saves.iter().collect();
        let (outcomes, writes) = decide_saves(&refs, vec![open("a", 1, 0)], vec![]);
        assert_eq!(
            outcomes[1],
            Outcome::Saved {
                version: 3,
                completed_steps: vec![]
            }
        );
        assert_eq!(writes.steps.len(), 1);
        let row = &writes.steps[0];
        assert_eq!((row.data.as_str(), row.completed), ("{\"at\":200}", false));
        assert_eq!((row.created_at, row.updated_at), (100, 200));
        let kinds: Vec<&str> = writes.events.iter().map(|e| e.kind).collect();
        assert_eq!(kinds, ["step_saved", "step_completed", "step_saved"]);
    }
}

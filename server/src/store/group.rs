//! SQLite's step-save writes, group-committed (decision 64). Each save's compare-and-swap
//! (decision 61) is queued to one task, which writes everything queued so far as one statement
//! list in one transaction on the writer connection: one hop to SQLite's worker thread and one
//! commit for the group, not for each save. Every save keeps its own outcome (a row of the
//! list). If the list fails, its transaction is rolled back (`pool.rs`) and each save is
//! written again alone, so one save's error is its own.

use super::pool::ConnPool;
use sqlx::{Arguments, Row};
use tokio::sync::{mpsc, oneshot};

/// The most saves one transaction takes. Each group size is its own cached statement list (3
/// statements a save), so this also bounds what the statement cache holds.
const MOST: usize = 16;

/// One save's compare-and-swap: the update applies if the session is still open at `version`,
/// and then its events are inserted.
pub struct StepWrite {
    pub user: String,
    pub session: String,
    pub version: i64,
    pub draft: String,
    pub completed: String,
    pub now: i64,
    pub step: String,
    pub saved_event: String,
    pub completed_event: Option<String>,
}

type Job = (StepWrite, oneshot::Sender<Result<i64, sqlx::Error>>);

#[derive(Clone, Debug)]
pub struct GroupWriter {
    queue: mpsc::UnboundedSender<Job>,
}

impl GroupWriter {
    /// Starts the writing task on `writer` (it ends when every `GroupWriter` is dropped).
    pub fn start(writer: ConnPool) -> GroupWriter {
        let (queue, jobs) = mpsc::unbounded_channel();
        tokio::spawn(run(writer, jobs));
        GroupWriter { queue }
    }

    /// The number of events written: 0 if the session had moved on (nothing written).
    pub async fn write(&self, step: StepWrite) -> Result<i64, sqlx::Error> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send((step, reply))
            .map_err(|_| sqlx::Error::PoolClosed)?;
        answer.await.map_err(|_| sqlx::Error::PoolClosed)?
    }
}

async fn run(writer: ConnPool, mut queue: mpsc::UnboundedReceiver<Job>) {
    // The statement list for each group size, built once (sqlx finds its prepared statements by
    // this text).
    let lists: Vec<String> = (1..=MOST).map(statement_list).collect();
    let list = |n: usize| lists[n - 1].as_str();
    let mut jobs: Vec<Job> = Vec::with_capacity(MOST);
    while queue.recv_many(&mut jobs, MOST).await > 0 {
        let steps: Vec<&StepWrite> = jobs.iter().map(|(s, _)| s).collect();
        match write(&writer, list(steps.len()), &steps).await {
            Ok(events) => {
                for ((_, reply), n) in jobs.drain(..).zip(events) {
                    let _ = reply.send(Ok(n));
                }
            }
            Err(e) if jobs.len() == 1 => {
                if let Some((_, reply)) = jobs.pop() {
                    let _ = reply.send(Err(e));
                }
            }
            Err(_) => {
                for (step, reply) in jobs.drain(..) {
                    let alone = write(&writer, list(1), &[&step]).await;
                    let _ = reply.send(alone.map(|events| events.first().copied().unwrap_or(0)));
                }
            }
        }
    }
}

/// One transaction of `saves` compare-and-swaps, 9 arguments each, and a row with the events
/// each wrote. (rows_affected would not do: SQLite reports the last DML statement's count
/// again for BEGIN and COMMIT.)
fn statement_list(saves: usize) -> String {
    let mut sql = String::with_capacity(64 + 560 * saves);
    sql.push_str("begin immediate; ");
    for i in 0..saves {
        let [user, session, version, draft, completed, now, step, saved, done] =
            std::array::from_fn(|k| format!("${}", 9 * i + k + 1));
        sql.push_str(&format!(
            "update onboarding_sessions set draft = {draft}, completed_steps = {completed}, \
             version = version + 1, last_activity_at = {now}, updated_at = {now} \
             where id = {session} and user_id = {user} and version = {version} \
             and status = 'in_progress'; \
             insert into onboarding_events (id, session_id, user_id, kind, step, created_at, updated_at) \
             select * from (values ({saved}, {session}, {user}, 'step_saved', {step}, {now}, {now}), \
             ({done}, {session}, {user}, 'step_completed', {step}, {now}, {now})) \
             where changes() = 1 and column1 is not null; select changes() as events; "
        ));
    }
    sql.push_str("commit");
    sql
}

/// One transaction for `steps` through `sql` (their [`statement_list`]): the events each
/// wrote, in order.
async fn write(
    writer: &ConnPool,
    sql: &str,
    steps: &[&StepWrite],
) -> Result<Vec<i64>, sqlx::Error> {
    let mut args = sqlx::any::AnyArguments::default();
    for s in steps {
        let added = [
            args.add(s.user.as_str()),
            args.add(s.session.as_str()),
            args.add(s.version),
            args.add(s.draft.as_str()),
            args.add(s.completed.as_str()),
            args.add(s.now),
            args.add(s.step.as_str()),
            args.add(s.saved_event.as_str()),
            args.add(s.completed_event.as_deref()),
        ];
        if let Some(Err(e)) = added.into_iter().find(Result::is_err) {
            return Err(sqlx::Error::Encode(e));
        }
    }
    let mut conn = writer.acquire().await?;
    // `fetch_all`, not `fetch_optional`, which would stop the list at its first row. Any
    // failure drops the connection unreleased: the pool rolls the transaction back.
    let rows = sqlx::query_with(sql, args).fetch_all(&mut *conn).await?;
    conn.release();
    if rows.len() != steps.len() {
        return Err(sqlx::Error::RowNotFound);
    }
    rows.iter().map(|r| r.try_get::<i64, _>("events")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{new_id, Store};

    fn step(session: &crate::store::Session, saved_event: &str) -> StepWrite {
        StepWrite {
            user: session.user_id.clone(),
            session: session.id.clone(),
            version: session.version,
            draft: r#"{"welcome":{}}"#.into(),
            completed: r#"["welcome"]"#.into(),
            now: 1,
            step: "welcome".into(),
            saved_event: saved_event.into(),
            completed_event: Some(new_id()),
        }
    }

    /// Saves queued together share a transaction but keep their own outcomes: a stale one
    /// writes nothing, and one that fails (here an event id already taken) fails alone after the
    /// group is rolled back and written again save by save.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_group_keeps_each_saves_outcome() {
        let dir = std::env::temp_dir().join(format!("group-{}", new_id()));
        let url = format!("sqlite://{}/g.db?mode=rwc", dir.display());
        let store = Store::connect(&url).await.unwrap();
        store.migrate().await.unwrap();
        let sessions: Vec<_> = futures_free_join(&store, ["ana", "bea", "cai", "dan"]).await;
        let taken = new_id();
        let mut first = step(&sessions[0], &taken);
        first.completed_event = None;
        let mut stale = step(&sessions[2], &new_id());
        stale.version += 1;
        let group = GroupWriter::start(store.writer.clone());
        let (a, b, c, d) = tokio::join!(
            group.write(first),
            group.write(step(&sessions[1], &taken)),
            group.write(stale),
            group.write(step(&sessions[3], &new_id())),
        );
        assert_eq!(a.unwrap(), 1);
        assert!(matches!(b, Err(sqlx::Error::Database(_))), "{b:?}");
        assert_eq!(c.unwrap(), 0);
        assert_eq!(d.unwrap(), 2);
        let versions: Vec<i64> =
            sqlx::query("select version from onboarding_sessions order by user_id")
                .fetch_all(&store.pool)
                .await
                .unwrap()
                .iter()
                .map(|r| r.get("version"))
                .collect();
        assert_eq!(versions, [2, 1, 1, 2]);
        let events: i64 =
            sqlx::query("select count(*) as n from onboarding_events where kind <> 'started'")
                .fetch_one(&store.pool)
                .await
                .unwrap()
                .get("n");
        assert_eq!(events, 3);
        let _ = std::fs::remove_dir_all(dir);
    }

    async fn futures_free_join<const N: usize>(
        store: &Store,
        users: [&str; N],
    ) -> Vec<crate::store::Session> {
        let mut sessions = Vec::new();
        for user in users {
            sessions.push(store.create_session(user).await.unwrap());
        }
        sessions
    }
}

//! [`Find::cursor`]'s stream: one statement, its rows decoded by a task of
//! their own as the server sends them and handed over a batch at a time
//! through a bounded channel (a reader that is behind holds the reading of
//! the connection back).

use std::future::Future as _;
use std::panic::Location;
use std::task::{Context, Poll};

use futures_core::Stream;
use tokio::sync::mpsc;

use super::Find;
use crate::backend::sink::{Batch, HANDOVER_BATCHES, Handover};
use crate::entity::Entity;
use crate::entity::sql::ParamList;
use crate::error::{Error, Result};

/// The stream of [`Find::cursor`]. The statement starts on the first poll.
pub(super) struct Cursor<E: Entity> {
    state: State<E>,
    /// The batch being read.
    buffer: std::vec::IntoIter<E>,
}

enum State<E: Entity> {
    /// Not polled yet: the query, the database and where the stream was made.
    Idle(Box<(Find<E>, crate::db::Db, &'static Location<'static>)>),
    /// Reading: the batches as they come, and the task that fetches them.
    Reading(mpsc::Receiver<Batch<E>>, Producer),
    /// The last batch was read (or the stream failed).
    Done,
}

/// The fetching task; a server backend's task is stopped when the stream is
/// dropped (its connection is recovered as after any call given up). SQLite's
/// runs on a blocking thread and stops at its next hand-over, finding the
/// stream gone.
struct Producer(Option<tokio::task::JoinHandle<()>>);

impl Drop for Producer {
    fn drop(&mut self) {
        if let Some(task) = self.0.take() {
            task.abort();
        }
    }
}

impl<E: Entity> Unpin for Cursor<E> {}

impl<E: Entity> Cursor<E> {
    pub(super) fn new(find: Find<E>, db: &crate::db::Db, at: &'static Location<'static>) -> Self {
        Cursor {
            state: State::Idle(Box::new((find, db.clone(), at))),
            buffer: Vec::new().into_iter(),
        }
    }
}

/// Run `find` on `db` into `sink`: the statement `all` would run, with the
/// same routing (a replica when one is healthy), retries (only before the
/// first batch went to the reader) and deadline (the whole stream's).
async fn run<E: Entity>(
    mut find: Find<E>,
    db: crate::db::Db,
    location: &'static Location<'static>,
    sink: &mut Handover<E>,
) -> Result<()> {
    find.check_as_of()?;
    let dialect = db.dialect();
    let built = find.build_select(dialect, E::INFO.sql(dialect).select_list);
    let stmt = db.inner.statements.get(&built.sql)?;
    let mut opts = db.exec_options(None);
    opts.ctx.attempt = 1;
    db.run_fetch_into::<E, _, _>(&stmt, &ParamList(&built.params), sink, opts, true, location)
        .await
}

/// Start fetching: a task on the runtime for the server backends, a blocking
/// thread for SQLite (whose statement steps on the thread it runs on).
fn start<E: Entity>(
    find: Find<E>,
    db: crate::db::Db,
    location: &'static Location<'static>,
) -> Result<(mpsc::Receiver<Batch<E>>, Producer)> {
    let Ok(handle) = tokio::runtime::Handle::try_current() else {
        return Err(Error::Unsupported(
            "a cursor is read on a tokio runtime: poll it from a task of one".into(),
        ));
    };
    let (to, from) = mpsc::channel(HANDOVER_BATCHES);
    let mut sink = Handover::new(to);
    #[cfg(feature = "sqlite")]
    if db.dialect() == dal_schema::Dialect::Sqlite {
        let span = tracing::Span::current();
        let task = handle.spawn_blocking(move || {
            let _span = span.enter();
            // driven outside the runtime: the hand-over may block this thread
            let outcome = futures_executor::block_on(run(find, db, location, &mut sink));
            sink.finish_blocking(outcome);
        });
        return Ok((from, Producer(Some(task))));
    }
    let task = handle.spawn(tracing::Instrument::in_current_span(async move {
        let outcome = run(find, db, location, &mut sink).await;
        sink.finish(outcome).await;
    }));
    Ok((from, Producer(Some(task))))
}

impl<E: Entity> Stream for Cursor<E> {
    type Item = Result<E>;

    fn poll_next(self: std::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<E>>> {
        let this = self.get_mut();
        loop {
            if let Some(e) = this.buffer.next() {
                return Poll::Ready(Some(Ok(e)));
            }
            match &mut this.state {
                State::Idle(_) => {
                    if let State::Idle(parts) = std::mem::replace(&mut this.state, State::Done) {
                        let (find, db, at) = *parts;
                        match start(find, db, at) {
                            Ok((from, task)) => this.state = State::Reading(from, task),
                            Err(e) => return Poll::Ready(Some(Err(e))),
                        }
                    }
                }
                State::Reading(from, task) => match from.poll_recv(cx) {
                    Poll::Ready(Some(Ok(rows))) => this.buffer = rows.into_iter(),
                    Poll::Ready(Some(Err(e))) => {
                        this.state = State::Done;
                        return Poll::Ready(Some(Err(e)));
                    }
                    // the task let its channel go: it ended, or it failed
                    // (a panic must not pass for the end of the rows)
                    Poll::Ready(None) => {
                        let ended = match task.0.as_mut() {
                            Some(handle) => match std::pin::Pin::new(handle).poll(cx) {
                                Poll::Ready(r) => r,
                                Poll::Pending => return Poll::Pending,
                            },
                            None => Ok(()),
                        };
                        task.0 = None;
                        this.state = State::Done;
                        if let Err(e) = ended {
                            return Poll::Ready(Some(Err(Error::Driver(format!(
                                "the cursor's task failed: {e}"
                            )))));
                        }
                        return Poll::Ready(None);
                    }
                    Poll::Pending => return Poll::Pending,
                },
                State::Done => return Poll::Ready(None),
            }
        }
    }
}

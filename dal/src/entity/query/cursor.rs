//! [`Find::cursor`]'s stream: one statement, its rows decoded as the server
//! sends them and handed over a batch at a time through a bounded channel
//! (a reader that is behind holds the reading of the connection back).
//!
//! On the server backends the fetch is driven by the stream's own polls, on
//! the reader's task, while the driver's connection task reads the socket
//! (a fetch in a task of its own ran at 0.68 of the raw driver against
//! 0.85 inline: each batch cost a wake-up and a move to the other core).
//! SQLite's statement steps on a blocking thread of its own.

use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;
use tokio::sync::mpsc;

use super::Find;
use crate::backend::sink::{Batch, HANDOVER_BATCHES, HANDOVER_ROWS, Handover};
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
    /// Reading: the batches as they come, and what fetches them.
    Reading(mpsc::Receiver<Batch<E>>, Producer),
    /// The last batch was read (or the stream failed).
    Done,
}

/// What fetches a cursor's rows. Dropped with the stream, it stops: the
/// inline fetch is dropped mid-answer (its connection is recovered as after
/// any call given up: the rest of the answer cancelled on the server);
/// SQLite's thread stops at its next hand-over, finding the stream gone.
enum Producer {
    /// The fetch, polled by the stream (server backends); `None` once done.
    Inline(Option<Pin<Box<dyn Future<Output = ()> + Send>>>),
    /// The blocking thread stepping a SQLite statement.
    #[cfg(feature = "sqlite")]
    Thread(Option<tokio::task::JoinHandle<()>>),
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

/// Start fetching: inline for the server backends, a blocking thread for
/// SQLite (whose statement steps on the thread it runs on).
fn start<E: Entity>(
    find: Find<E>,
    db: crate::db::Db,
    location: &'static Location<'static>,
) -> Result<(mpsc::Receiver<Batch<E>>, Producer)> {
    let (to, from) = mpsc::channel(HANDOVER_BATCHES);
    #[cfg(feature = "sqlite")]
    if db.dialect() == dal_schema::Dialect::Sqlite {
        let mut sink = Handover::new(to, crate::backend::sink::HANDOVER_ROWS_THREAD);
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            return Err(Error::Unsupported(
                "a SQLite cursor is read on a tokio runtime: poll it from a task of one".into(),
            ));
        };
        let span = tracing::Span::current();
        let task = handle.spawn_blocking(move || {
            let _span = span.enter();
            // driven outside the runtime: the hand-over may block this thread
            let outcome = futures_executor::block_on(run(find, db, location, &mut sink));
            sink.finish_blocking(outcome);
        });
        return Ok((from, Producer::Thread(Some(task))));
    }
    let mut sink = Handover::new(to, HANDOVER_ROWS);
    let fetch = tracing::Instrument::in_current_span(async move {
        let outcome = run(find, db, location, &mut sink).await;
        sink.finish(outcome).await;
    });
    Ok((from, Producer::Inline(Some(Box::pin(fetch)))))
}

impl<E: Entity> Stream for Cursor<E> {
    type Item = Result<E>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<E>>> {
        let this = self.get_mut();
        // the fetch is driven at most once per poll: the channel may answer
        // `Pending` with a batch waiting (the task's cooperative budget is
        // spent; it is woken again at once), and must not be asked again
        let mut drove = false;
        loop {
            if let Some(e) = this.buffer.next() {
                return Poll::Ready(Some(Ok(e)));
            }
            let (from, producer) = match &mut this.state {
                State::Idle(_) => {
                    if let State::Idle(parts) = std::mem::replace(&mut this.state, State::Done) {
                        let (find, db, at) = *parts;
                        match start(find, db, at) {
                            Ok((from, producer)) => this.state = State::Reading(from, producer),
                            Err(e) => return Poll::Ready(Some(Err(e))),
                        }
                    }
                    continue;
                }
                State::Reading(from, producer) => (from, producer),
                State::Done => return Poll::Ready(None),
            };
            match from.poll_recv(cx) {
                Poll::Ready(Some(Ok(rows))) => {
                    this.buffer = rows.into_iter();
                    continue;
                }
                Poll::Ready(Some(Err(e))) => {
                    this.state = State::Done;
                    return Poll::Ready(Some(Err(e)));
                }
                // the fetch let its channel go: it ended, or it failed (a
                // panic must not pass for the end of the rows)
                Poll::Ready(None) => {
                    let ended: std::result::Result<(), tokio::task::JoinError> = match producer {
                        Producer::Inline(_) => Ok(()),
                        #[cfg(feature = "sqlite")]
                        Producer::Thread(task) => match task.as_mut() {
                            Some(handle) => match Pin::new(handle).poll(cx) {
                                Poll::Ready(r) => {
                                    *task = None;
                                    r
                                }
                                Poll::Pending => return Poll::Pending,
                            },
                            None => Ok(()),
                        },
                    };
                    this.state = State::Done;
                    if let Err(e) = ended {
                        return Poll::Ready(Some(Err(Error::Driver(format!(
                            "the cursor's fetch failed: {e}"
                        )))));
                    }
                    return Poll::Ready(None);
                }
                Poll::Pending => {}
            }
            // nothing to read yet: drive the fetch (inline) until it hands a
            // batch over or waits for the server, then read the channel again
            match producer {
                Producer::Inline(Some(fetch)) if !drove => {
                    drove = true;
                    if fetch.as_mut().poll(cx).is_ready() {
                        // done: its sink (the channel's sender) is dropped
                        *producer = Producer::Inline(None);
                    }
                }
                _ => return Poll::Pending,
            }
        }
    }
}

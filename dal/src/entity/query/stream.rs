//! [`Find::stream`]'s stream: keyset pages, the next one fetched by a task
//! of its own while the caller reads the current one.

use std::marker::PhantomData;

use futures_core::Stream;

use super::{Find, Lock};
use crate::entity::Entity;
use crate::error::{Error, Result};

/// The stream of [`Find::stream`]: one batch read by the caller, the next
/// fetched by a task of its own (so it makes progress, and gives its
/// connection back, whatever the caller does between rows).
pub(super) struct Paged<'a, E: Entity> {
    find: Find<E>,
    db: crate::db::Db,
    /// Rows still to ask for (`None`: no limit).
    to_request: Option<u64>,
    /// The batch being read.
    buffer: std::vec::IntoIter<E>,
    /// The next batch, fetched.
    ready: Option<Result<Vec<E>>>,
    /// The next batch, being fetched, and how many rows it asked for.
    pending: Option<(Fetching<E>, u64)>,
    /// Another batch may follow the last one fetched.
    more: bool,
    _db: PhantomData<&'a crate::db::Db>,
}

/// A batch fetched by its own task, stopped when dropped.
struct Fetching<E>(tokio::task::JoinHandle<Result<Vec<E>>>);

impl<E> Drop for Fetching<E> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

// no field is pinned in place (the task handle and the batches move freely)
impl<E: Entity> Unpin for Paged<'_, E> {}

impl<'a, E: Entity> Paged<'a, E> {
    /// The stream of `find`'s rows from `db`.
    pub(super) fn new(find: Find<E>, db: &'a crate::db::Db) -> Self {
        Paged {
            to_request: find.limit,
            find,
            db: db.clone(),
            buffer: Vec::new().into_iter(),
            ready: None,
            pending: None,
            more: true,
            _db: PhantomData,
        }
    }

    /// Ask for the next batch, after the last row of the one before.
    fn request(&mut self) {
        let batch = self.find.batch as u64;
        let take = self.to_request.map_or(batch, |r| r.min(batch));
        // the next request waits for this one's answer
        self.more = false;
        if take == 0 {
            return;
        }
        let mut page = self.find.clone();
        page.limit = Some(take);
        page.total_order = true;
        page.lock = Lock::None;
        // the offset applies to the first page only; keysets do the rest
        self.find.offset = None;
        // one lazy load for the N+1 detector, however many pages
        self.find.lazy = None;
        if let Some(r) = self.to_request.as_mut() {
            *r -= take;
        }
        let db = self.db.clone();
        // the page's query runs in the span the stream was polled in
        let task = tokio::spawn(tracing::Instrument::in_current_span(async move {
            page.all(&db).await
        }));
        self.pending = Some((Fetching(task), take));
    }

    /// A fetched batch of the `asked` rows: the keyset moves past its last
    /// row, and a full batch means another may follow.
    fn arrived(&mut self, rows: &Result<Vec<E>>, asked: u64) {
        self.more = match rows {
            Ok(rows) => {
                if let Some(last) = rows.last() {
                    self.find.after = Some(self.find.key_of(last));
                }
                rows.len() as u64 >= asked && self.to_request != Some(0)
            }
            Err(_) => false,
        };
    }
}

impl<E: Entity> Stream for Paged<'_, E> {
    type Item = Result<E>;

    fn poll_next(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<E>>> {
        use std::task::Poll;
        let this = self.get_mut();
        loop {
            if let Some((task, asked)) = this.pending.as_mut()
                && let Poll::Ready(joined) = std::pin::Pin::new(&mut task.0).poll(cx)
            {
                let asked = *asked;
                this.pending = None;
                let rows = joined.unwrap_or_else(|e| {
                    Err(Error::Driver(format!(
                        "the stream's batch task failed: {e}"
                    )))
                });
                this.arrived(&rows, asked);
                this.ready = Some(rows);
            }
            if let Some(e) = this.buffer.next() {
                return Poll::Ready(Some(Ok(e)));
            }
            match this.ready.take() {
                Some(Ok(rows)) => {
                    this.buffer = rows.into_iter();
                    // fetch the next batch while this one is read
                    if this.more {
                        this.request();
                    }
                    continue;
                }
                Some(Err(e)) => return Poll::Ready(Some(Err(e))),
                None => {}
            }
            if this.pending.is_some() {
                return Poll::Pending;
            }
            if !this.more {
                return Poll::Ready(None);
            }
            this.request();
        }
    }
}

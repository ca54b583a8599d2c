//! Resilience: everything that decides whether a call waits, fails fast or
//! runs again.
//!
//! - [`deadline`]: the per-call deadline, fixed when a call starts, that the
//!   checkout, every retry and the execution spend from;
//! - [`retry`]: the retry policy applied (which failures are worth another
//!   attempt, the backoff) and the bookkeeping of every retry loop;
//! - [`jitter`]: the random spread of the backoff;
//! - [`breaker`]: the circuit breaker of one database.
//!
//! Telemetry only observes: it implements [`retry::RetryObserver`] and
//! [`breaker::BreakerObserver`] to log and count what happened here. Nothing
//! in this module imports telemetry, the pool, the backends or `Db`; they call
//! in.

pub(crate) mod breaker;
pub(crate) mod deadline;
pub(crate) mod jitter;
pub(crate) mod retry;

use crate::config::DatabaseConfig;
use crate::config::RetryPolicy;
use crate::error::Error;
use breaker::{Breaker, BreakerObserver, Outcome};

/// The resilience state of one database (shared by the clones of its `Db`):
/// its retry policy and its circuit breaker.
pub(crate) struct Resilience {
    /// The retry policy every retry loop of this database follows.
    pub(crate) retry: RetryPolicy,
    /// The circuit breaker.
    pub(crate) breaker: Breaker,
}

impl std::fmt::Debug for Resilience {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resilience")
            .field("retry", &self.retry)
            .field("breaker", &self.breaker.state())
            .finish()
    }
}

impl Resilience {
    /// The policies of `config`.
    pub(crate) fn new(config: &DatabaseConfig) -> Resilience {
        Resilience {
            retry: *config.retry(),
            breaker: Breaker::new(*config.breaker(), config.name()),
        }
    }

    /// Ask the breaker to let a call through; `observer` hears of a state
    /// change or a rejection.
    pub(crate) fn admit(&self, observer: &dyn BreakerObserver) -> Result<(), Error> {
        match self.breaker.admit() {
            Ok(t) => {
                if let Some(t) = t {
                    observer.transitioned(t);
                }
                Ok(())
            }
            Err(e) => {
                observer.rejected();
                Err(e)
            }
        }
    }

    /// Tell the breaker what a call learned about the database.
    pub(crate) fn record(&self, outcome: Outcome, observer: &dyn BreakerObserver) {
        if let Some(t) = self.breaker.record(outcome) {
            observer.transitioned(t);
        }
    }

    /// A checkout failed before any statement was sent: tell the breaker,
    /// when the failure says something about the database.
    pub(crate) fn checkout_failed(&self, e: &Error, observer: &dyn BreakerObserver) {
        if let Some(outcome) = Outcome::of_checkout(e) {
            self.record(outcome, observer);
        }
    }
}

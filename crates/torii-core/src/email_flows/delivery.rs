//! Sending mail off the request path: each message goes to a background task that tries it a few
//! times with a growing pause, then logs the outcome. Callers never learn whether a message was sent,
//! so a failure cannot tell a requester that an account exists.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use super::mailer::{EmailMessage, Mailer};

/// Hands messages to background tasks and counts the ones still in flight.
#[derive(Clone)]
pub(super) struct Delivery {
    mailer: Arc<dyn Mailer>,
    attempts: u32,
    backoff: Duration,
    in_flight: Arc<watch::Sender<usize>>,
}

impl Delivery {
    pub(super) fn new(mailer: Arc<dyn Mailer>, attempts: u32, backoff: Duration) -> Self {
        Self { mailer, attempts: attempts.max(1), backoff, in_flight: Arc::new(watch::Sender::new(0)) }
    }

    /// Queues the message and returns at once. Must be called within a Tokio runtime.
    pub(super) fn enqueue(&self, message: EmailMessage) {
        self.in_flight.send_modify(|n| *n += 1);
        let this = self.clone();
        tokio::spawn(async move {
            this.deliver(&message).await;
            this.in_flight.send_modify(|n| *n = n.saturating_sub(1));
        });
    }

    /// Runs `work` in a background task counted like a message in flight, so [`Delivery::wait_idle`]
    /// also waits for it (and for the messages it queues). Must be called within a Tokio runtime.
    pub(super) fn run<F>(&self, work: F)
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        self.in_flight.send_modify(|n| *n += 1);
        let in_flight = Arc::clone(&self.in_flight);
        tokio::spawn(async move {
            work.await;
            in_flight.send_modify(|n| *n = n.saturating_sub(1));
        });
    }

    async fn deliver(&self, message: &EmailMessage) {
        let mut pause = self.backoff;
        for attempt in 1..=self.attempts {
            match self.mailer.send(message).await {
                Ok(()) => {
                    tracing::info!(kind = message.kind().as_str(), attempt, "email sent");
                    return;
                }
                Err(err) if err.is_transient() && attempt < self.attempts => {
                    tracing::warn!(kind = message.kind().as_str(), attempt, error = %err, "email not sent; retrying");
                    tokio::time::sleep(pause).await;
                    pause = pause.saturating_mul(2);
                }
                Err(err) => {
                    tracing::error!(kind = message.kind().as_str(), attempt, error = %err, "email not sent; giving up");
                    return;
                }
            }
        }
    }

    /// Waits until every queued message was sent or given up.
    pub(super) async fn wait_idle(&self) {
        let mut rx = self.in_flight.subscribe();
        // The sender lives as long as `self`, so this only ends when the count reaches zero.
        let _ = rx.wait_for(|n| *n == 0).await;
    }
}

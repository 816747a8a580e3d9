//! The background task that deletes expired sessions.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::managers::SessionManager;

/// A running cleanup task. [`CleanupTask::stop`] ends it gracefully; dropping the handle aborts it.
#[derive(Debug)]
pub struct CleanupTask {
    stop: Option<oneshot::Sender<()>>,
    handle: Option<JoinHandle<()>>,
}

impl CleanupTask {
    pub(crate) fn start(sessions: Arc<dyn SessionManager>, interval: Duration, batch_size: u32) -> Self {
        let (stop, mut stopped) = oneshot::channel();
        let handle = tokio::spawn(async move {
            let mut ticker = tokio::time::interval(interval.max(Duration::from_millis(10)));
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = &mut stopped => break,
                    _ = ticker.tick() => {
                        if let Err(err) = sessions.cleanup_expired_sessions_in_batches(batch_size).await {
                            // Transient database trouble: try again at the next tick.
                            tracing::warn!(error = %err, "session cleanup failed");
                        }
                    }
                }
            }
        });
        Self { stop: Some(stop), handle: Some(handle) }
    }

    /// Stops the task and waits for a cleanup in progress to finish.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(handle) = self.handle.take() {
            let _ = handle.await;
        }
    }
}

impl Drop for CleanupTask {
    fn drop(&mut self) {
        if let Some(handle) = self.handle.take() {
            handle.abort();
        }
    }
}

//! The retry pacing of a data plane's calls to the control plane (config polls and
//! analytics shipping): exponential backoff with jitter.

use std::time::Duration;

const BACKOFF_MIN: Duration = Duration::from_millis(500);
const BACKOFF_MAX: Duration = Duration::from_secs(30);

/// Exponential backoff with jitter: 0.5 s doubling up to 30 s; each wait is drawn
/// between half and all of the current step.
pub(crate) struct Backoff {
    step: Duration,
}

impl Backoff {
    pub(crate) fn new() -> Self {
        Backoff { step: BACKOFF_MIN }
    }
    pub(crate) fn reset(&mut self) {
        self.step = BACKOFF_MIN;
    }
    pub(crate) fn next(&mut self) -> Duration {
        let step = self.step;
        self.step = (self.step * 2).min(BACKOFF_MAX);
        let half = step / 2;
        half + half.mul_f64(rand::random::<f64>())
    }
}

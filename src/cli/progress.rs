//! A progress bar for long runs, only on a terminal.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

/// Work items per second, to about 3 significant figures.
fn rate(state: &ProgressState, w: &mut dyn std::fmt::Write) {
    let r = state.per_sec();
    let _ = match r {
        r if r >= 100.0 => write!(w, "{r:.0}/s"),
        r if r >= 10.0 => write!(w, "{r:.1}/s"),
        r => write!(w, "{r:.2}/s"),
    };
}

/// A progress bar that appears only on a terminal, and only once a run has lasted a second.
pub(crate) struct Progress {
    bar: ProgressBar,
    start: Instant,
    enabled: bool,
    shown: AtomicBool,
}

impl Progress {
    pub(crate) fn new(total: u64, enabled: bool) -> Self {
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::hidden());
        if let Ok(style) = ProgressStyle::with_template(
            "{bar:40} {pos}/{len} work items, {rate}, {elapsed} (eta {eta})",
        ) {
            bar.set_style(style.with_key("rate", rate));
        }
        Progress {
            bar,
            start: Instant::now(),
            enabled,
            shown: AtomicBool::new(false),
        }
    }

    /// Starts the bar at `done` items (a resumed run): the rate and ETA count only the
    /// items decoded from now on.
    pub(crate) fn resume_at(&self, done: u64) {
        self.bar.set_position(done);
        self.bar.reset_eta();
    }

    pub(crate) fn tick(&self) {
        self.bar.inc(1);
        if self.enabled
            && self.start.elapsed() > Duration::from_secs(1)
            && !self.shown.swap(true, Ordering::Relaxed)
        {
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
        }
    }

    pub(crate) fn finish(&self) {
        if self.shown.load(Ordering::Relaxed) {
            self.bar.finish_and_clear();
        }
    }
}

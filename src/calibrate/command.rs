//! The terminal side of `lopa-sim calibrate`: one line per evaluation, a spinner on a
//! terminal, the fit, and a clear failure when the fit misses its tolerance.

use std::fmt::Write as _;
use std::io::IsTerminal;
use std::time::Duration;

use anyhow::{bail, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::{calibrate_observed, cell, CalibrateOptions, Method, Outcome};

/// `lopa-sim calibrate`: runs the search, prints the fit and where it was written. A fit
/// that misses its tolerance (without `accept_closest`) is an error that states the
/// closest values, what they reach and the gap; nothing is written then.
pub fn command(opts: &CalibrateOptions, quiet: bool) -> Result<()> {
    let bar = if !quiet && std::io::stderr().is_terminal() {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        if let Ok(style) = ProgressStyle::with_template(
            "{spinner} evaluation {msg}: {bar:30} {pos}/{len} work items, {per_sec}, \
                 {elapsed} (eta {eta})",
        ) {
            bar.set_style(style);
        }
        bar.enable_steady_tick(Duration::from_millis(200));
        bar
    } else {
        ProgressBar::hidden()
    };
    if !quiet {
        println!(
            "calibrating {} on {}",
            opts.params.join(", "),
            opts.scenario.display()
        );
    }
    // The bar follows the current evaluation's work items: how many evaluations a search
    // needs is not known in advance, so only an evaluation has a true ETA.
    let evaluations = std::sync::atomic::AtomicU64::new(0);
    let result = calibrate_observed(
        opts,
        &mut |line| {
            if !quiet {
                bar.suspend(|| println!("{line}"));
            }
        },
        &|event| match event {
            Some(items) => {
                let n = evaluations.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                bar.set_message(n.to_string());
                bar.set_length(items);
                bar.set_position(0);
                bar.reset_eta();
            }
            None => bar.inc(1),
        },
    );
    bar.finish_and_clear();
    let outcome = result?;
    if !outcome.within && !outcome.written {
        bail!("{}", miss(&outcome));
    }
    if !quiet {
        print!("{}", describe(&outcome));
        if !outcome.within {
            eprintln!(
                "warning: the fit misses its tolerance; --accept-closest wrote the closest values"
            );
        }
        println!("wrote {}", opts.write.display());
    }
    Ok(())
}

/// The values, each target's fit and the residual.
pub fn describe(o: &Outcome) -> String {
    let mut s = String::new();
    for (i, (k, &x)) in o.knobs.iter().zip(&o.values).enumerate() {
        let _ = write!(s, "{} = {}", k.key, cell(x, k.integer));
        // The one-knob line keeps the form scripts read: KEY = VALUE (STAT X, N evaluations).
        if i == 0 && o.method == Method::Bisection {
            let stat = o.fits[0].name.rsplit(':').next().unwrap_or("tpf");
            let _ = write!(
                s,
                " ({stat} {:.4}, {} evaluations)",
                o.fits[0].reached, o.evaluations
            );
        }
        s.push('\n');
    }
    for f in &o.fits {
        let _ = writeln!(
            s,
            "  {}: reached {:.4}, target {} ({:+.2}%)",
            f.name,
            f.reached,
            f.target,
            100.0 * f.gap()
        );
    }
    let residual = match o.method {
        Method::Table => format!("RMS TPF error {:.4}", o.residual),
        _ => format!("residual (RMS log error) {:.4}", o.residual),
    };
    let tolerance = match o.tolerance {
        Some(t) => format!(
            ", tolerance {}%: {}",
            trim(100.0 * t),
            if o.within { "within" } else { "MISSED" }
        ),
        None => String::new(),
    };
    let _ = writeln!(s, "{residual}, {} evaluations{tolerance}", o.evaluations);
    s
}

/// The error text of a miss: what was closest, how far it is, and what to try.
fn miss(o: &Outcome) -> String {
    let tol = trim(100.0 * o.tolerance.unwrap_or(0.0));
    let mut s = format!("no fit within the {tol}% tolerance. Closest:\n");
    s.push_str(&describe(o));
    if let (Some((lo, hi)), [f]) = (o.seen, o.fits.as_slice()) {
        let range = o
            .knobs
            .first()
            .map(|k| format!("[{}, {}]", cell(k.lo, k.integer), cell(k.hi, k.integer)))
            .unwrap_or_default();
        if f.target < lo || f.target > hi {
            let _ = writeln!(
                s,
                "The target is outside what the range reaches: the statistic ran from {lo:.4} to {hi:.4} for values in {range}."
            );
        } else {
            let _ = writeln!(
                s,
                "The statistic ran from {lo:.4} to {hi:.4} for values in {range}; the target sits in a step between two values the key can give."
            );
        }
    }
    s.push_str(
        "Nothing was written. Widen --range, adjust another key, loosen --tolerance, \
         or write the closest values anyway with --accept-closest.",
    );
    s
}

/// `0.5`, `1`, `2.5`: a percentage without trailing zeros.
fn trim(x: f64) -> String {
    let s = format!("{x:.4}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

//! Figures.
//!
//! [`render_all`] draws every figure of [`FIGURES`] from a [`data::PlotData`] into a folder,
//! as a 1600 x 1000 PNG and an SVG of the same size. Text is drawn with DejaVu Sans,
//! embedded in the binary and registered by [`register_font`], so no system font (and no
//! fontconfig) is needed. The same data always gives byte-identical files.
//!
//! Each figure has its own module, with one drawing function generic over the plotters
//! backend, so that the PNG and the SVG come from the same code:
//! - `tpf_vs_branches` (`tpf.rs`): TPF against k, per series, with 95% bands and speed-ups
//!   over the k = 0 baseline;
//! - `quality_vs_tpf` (`quality.rs`): invalid transitions and greedy match rate against TPF;
//! - `tokens_per_round` (`rounds.rs`): tokens per round over the generation progress;
//! - `tfo_map` (`tfo.rs`): the token filling order of up to two traced sequences;
//! - `compute_vs_tpf` (`compute.rs`): positions processed per token against TPF;
//! - `tfo_frontier` (`frontier.rs`): quality against TPF with the Pareto front, drawn only
//!   when the configurations use several decoders (see [`figures`]).

pub mod data;

mod common;
mod compute;
mod encode;
mod facet;
mod frontier;
mod glyphs;
mod k_axis;
mod marks;
mod quality;
mod raster;
mod render;
mod rounds;
mod tfo;
pub mod throughput;
mod tpf;

#[cfg(test)]
mod tests;

pub use render::{render_all, render_figures, Rendered};

use std::path::PathBuf;
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;

use data::PlotData;

/// Width and height of every figure, in pixels.
const SIZE: (u32, u32) = (1600, 1000);

/// The embedded font (DejaVu Sans; licence in `assets/DejaVuSans-LICENSE.txt`).
static FONT_BYTES: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");

/// Names of the figures [`render_all`] writes, each as `NAME.png` and `NAME.svg`.
pub const FIGURES: [&str; 5] = [
    "tpf_vs_branches",
    "quality_vs_tpf",
    "tokens_per_round",
    "tfo_map",
    "compute_vs_tpf",
];

/// Drawn besides [`FIGURES`] when the configurations use more than one decoder.
pub const FRONTIER: &str = "tfo_frontier";

/// The figures drawn for `data`, in order: [`FIGURES`], then [`FRONTIER`] when it applies,
/// so that scenarios with one decoder keep their set of files.
pub fn figures(data: &PlotData) -> Vec<&'static str> {
    let mut names = FIGURES.to_vec();
    if frontier::applies(data) {
        names.push(FRONTIER);
    }
    names
}

/// One sentence on how to read figure `name`, for the caption in `report.html`.
pub fn caption(name: &str) -> &'static str {
    match name {
        "tpf_vs_branches" => {
            "TPF (all tokens over all forward passes) against the lookahead branches k; the \
             band or bar around each point is the 95% interval of that same TPF over \
             sequences, and each label is the speed-up over its series' k = 0 baseline."
        }
        "quality_vs_tpf" => {
            "Each panel plots one quality measure that a model family defines against TPF, \
             one point per configuration joined along k; its title says whether higher or \
             lower is better, so a line that moves right without moving the bad way buys \
             speed at no cost in quality."
        }
        "tokens_per_round" => {
            "Mean tokens committed per forward pass in each twentieth of the generation, \
             one line per configuration: the higher a line, the more parallel the decode \
             at that stage."
        }
        "tfo_map" => {
            "One traced sequence as a grid with position across and round down, each cell \
             coloured by the round that committed it (dark early, yellow late) and dotted \
             where a winning lookahead branch supplied it; the left panel is k = 0 and the \
             right one the traced LoPA configuration."
        }
        "compute_vs_tpf" => {
            "Positions processed by all branches per generated token against TPF, one point \
             per configuration: the computation each gain in speed costs."
        }
        "tfo_frontier" => {
            "One point per configuration, named by its decoder (hollow without LoPA, filled \
             with it), at its TPF and the world's quality measure (the axis title says which \
             way is better); the dashed line joins the ringed points that no other \
             configuration beats on both speed and quality."
        }
        _ => "",
    }
}

/// Why a figure could not be written.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// The embedded font could not be registered.
    #[error("cannot register the embedded font: {message}")]
    Font {
        /// What went wrong.
        message: String,
    },
    /// Drawing or encoding a figure failed.
    #[error("cannot render figure {figure} to {}: {message}", path.display())]
    Render {
        /// Figure name, one of [`FIGURES`].
        figure: String,
        /// The file that was not written.
        path: PathBuf,
        /// The plotters error.
        message: String,
    },
    /// A file system operation failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or folder concerned.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
}

/// Registers the embedded DejaVu Sans as plotters' "sans-serif" font. Only the first call
/// does the work; later calls return its outcome. Thread-safe.
pub fn register_font() -> Result<(), PlotError> {
    static REGISTERED: OnceLock<Result<(), String>> = OnceLock::new();
    REGISTERED
        .get_or_init(|| {
            plotters::style::register_font("sans-serif", FontStyle::Normal, FONT_BYTES)
                .map_err(|_| "the embedded DejaVuSans.ttf is not a valid font".to_string())
        })
        .clone()
        .map_err(|message| PlotError::Font { message })
}

/// Draws figure `name` on `root`, whatever the backend.
fn draw<DB: DrawingBackend>(
    name: &str,
    root: &DrawingArea<DB, Shift>,
    data: &PlotData,
) -> Result<(), String> {
    match name {
        "tpf_vs_branches" => tpf::draw(root, data),
        "quality_vs_tpf" => quality::draw(root, data),
        "tokens_per_round" => rounds::draw(root, data),
        "tfo_map" => tfo::draw(root, data),
        "compute_vs_tpf" => compute::draw(root, data),
        "tfo_frontier" => frontier::draw(root, data),
        _ => Err(format!("unknown figure {name:?}")),
    }
}

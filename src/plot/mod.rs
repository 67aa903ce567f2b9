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
mod marks;
mod quality;
mod raster;
mod rounds;
mod tfo;
pub mod throughput;
mod tpf;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;
use rayon::prelude::*;

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

/// Renders every figure of [`figures`] into `dir` (created if needed) as `NAME.png` and
/// `NAME.svg`, 1600 x 1000 pixels each, and returns the paths written, in order.
///
/// Each file is written under a temporary name in `dir` and renamed when complete, so a
/// failure never leaves a partial or blank figure behind; the first failure stops the run.
pub fn render_all(data: &PlotData, dir: &Path) -> Result<Vec<PathBuf>, PlotError> {
    Ok(render_figures(data, dir)?
        .into_iter()
        .map(|r| r.path)
        .collect())
}

/// One file written by [`render_figures`].
pub struct Rendered {
    /// Where it was written.
    pub path: PathBuf,
    /// Its content, for an SVG (`report.html` embeds them without reading them back).
    pub svg: Option<String>,
}

/// Like [`render_all`], also returning each SVG's content.
pub fn render_figures(data: &PlotData, dir: &Path) -> Result<Vec<Rendered>, PlotError> {
    register_font()?;
    std::fs::create_dir_all(dir).map_err(|source| PlotError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let jobs: Vec<(&str, &str)> = figures(data)
        .into_iter()
        .flat_map(|name| [(name, "png"), (name, "svg")])
        .collect();
    // Figures are independent: draw them on every thread (rasterising and PNG encoding
    // dominate a small run). Results come back in job order, so the first failure in that
    // order is the one reported, whatever the thread count.
    jobs.par_iter()
        .map(|&(name, ext)| render_one(name, ext, data, dir))
        .collect()
}

thread_local! {
    /// The pixels of the PNG being drawn, kept between figures: a fresh 4.8 MB buffer
    /// per figure cost its page faults and zeroing, about a tenth of a small run.
    static PIXELS: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Draws figure `name` as `ext` into `dir`, through a temporary name.
fn render_one(name: &str, ext: &str, data: &PlotData, dir: &Path) -> Result<Rendered, PlotError> {
    let path = dir.join(format!("{name}.{ext}"));
    // The PNG encoder picks the format from the extension: keep it last.
    let tmp = dir.join(format!(".{name}.partial.{ext}"));
    let mut svg = None;
    let rendered = if ext == "png" {
        PIXELS.with_borrow_mut(|rgb| {
            // Every pixel is overwritten: `draw_figure` fills the whole area first.
            rgb.resize(SIZE.0 as usize * SIZE.1 as usize * 3, 0);
            draw_figure(
                name,
                data,
                raster::Raster(BitMapBackend::with_buffer(rgb, SIZE)),
            )
            .and_then(|()| encode::write_png(&tmp, rgb, SIZE))
        })
    } else {
        let mut text = String::new();
        draw_figure(name, data, SVGBackend::with_string(&mut text, SIZE))
            .and_then(|()| std::fs::write(&tmp, &text).map_err(|e| e.to_string()))
            .map(|()| svg = Some(text))
    };
    if let Err(message) = rendered {
        // The backend writes what it has when dropped: remove it.
        let _ = std::fs::remove_file(&tmp);
        return Err(PlotError::Render {
            figure: name.to_string(),
            path,
            message,
        });
    }
    if let Err(source) = std::fs::rename(&tmp, &path) {
        let _ = std::fs::remove_file(&tmp);
        return Err(PlotError::Io { path, source });
    }
    Ok(Rendered { path, svg })
}

/// Draws figure `name` on `backend` and writes it out.
fn draw_figure<DB: DrawingBackend>(name: &str, data: &PlotData, backend: DB) -> Result<(), String> {
    let root = backend.into_drawing_area();
    root.fill(&WHITE).map_err(common::err)?;
    draw(name, &root, data)?;
    root.present().map_err(common::err)
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

#[cfg(test)]
mod tests {
    use super::data::{ConfigPoint, ProgressBin, Trace, TraceCell, Via};
    use super::*;

    fn config(config: usize, noise: &str, k: usize, tpf: f64) -> ConfigPoint {
        ConfigPoint {
            config,
            case: None,
            swept: vec![
                ("model.noise".to_string(), noise.to_string()),
                ("search.branches".to_string(), k.to_string()),
            ],
            branches: k,
            tpf,
            tpf_lo: tpf * 0.9,
            tpf_hi: tpf * 1.1,
            tpf_world: None,
            invalid_per_1k: Some(2.0 + tpf),
            greedy_match_rate: Some((1.1 - tpf / 8.0).clamp(0.0, 1.0)),
            log_likelihood_mean: Some(-10.0 - tpf),
            plan_consistent_rate: None,
            token_errors_per_1k: None,
            branch_tokens_per_token: 1.0 + k as f64 * 0.6 / tpf,
            decoder: None,
            search: None,
        }
    }

    fn trace(config: usize, k: usize, positions: usize, per_round: usize) -> Trace {
        // Mostly left to right, scrambled within blocks of 8.
        let mut order: Vec<usize> = (0..positions).collect();
        order.sort_by_key(|p| (p / 8, (p * 5) % 8));
        let mut cells = Vec::new();
        for (r, chunk) in order.chunks(per_round).enumerate() {
            for (j, &position) in chunk.iter().enumerate() {
                let via = if k > 0 && j + 1 == per_round {
                    Via::Lookahead
                } else {
                    Via::Anchor
                };
                cells.push(TraceCell {
                    position,
                    round: r as u64 + 1,
                    via,
                });
            }
        }
        if let (Some(last), true) = (cells.last_mut(), k > 0) {
            last.via = Via::Completion;
        }
        let rounds = positions.div_ceil(per_round) as u64;
        Trace {
            config,
            seq: 3,
            branches: k,
            rounds,
            positions,
            cells,
        }
    }

    fn sample() -> PlotData {
        let mut configs = Vec::new();
        let mut bins = Vec::new();
        let mut id = 0;
        for (noise, scale) in [("0.1", 1.0), ("0.3", 0.8)] {
            for (k, tpf) in [(0, 1.4), (2, 2.9), (4, 4.1)] {
                configs.push(config(id, noise, k, tpf * scale));
                for bin in 0..10 {
                    let lo = bin as f64 / 10.0;
                    bins.push(ProgressBin {
                        config: id,
                        bin,
                        lo,
                        hi: lo + 0.1,
                        rounds: if bin == 9 && k == 4 { 0 } else { 40 },
                        tokens: (40.0 * tpf * scale * (0.6 + lo)) as u64,
                    });
                }
                id += 1;
            }
        }
        PlotData {
            name: "unit-sample".to_string(),
            k_axis: Default::default(),
            configs,
            bins,
            traces: vec![trace(0, 0, 48, 1), trace(2, 4, 48, 4)],
        }
    }

    /// Three series with cases and long keys, six values of k, 256-position traces.
    fn large() -> PlotData {
        let mut data = PlotData {
            name: "large-sweep".to_string(),
            ..PlotData::default()
        };
        let mut id = 0;
        for (case, scale) in [("easy", 1.0), ("medium", 0.85), ("hard", 0.7)] {
            for k in [0usize, 1, 2, 4, 8, 16] {
                let mut p = config(id, "0.25", k, scale * (1.3 + (k as f64 + 1.0).ln() * 1.1));
                p.case = Some(case.to_string());
                p.swept
                    .push(("model.temperature".to_string(), "0.7".to_string()));
                data.configs.push(p);
                for bin in 0..20 {
                    let lo = bin as f64 / 20.0;
                    data.bins.push(ProgressBin {
                        config: id,
                        bin,
                        lo,
                        hi: lo + 0.05,
                        rounds: 100,
                        tokens: (100.0 * scale * (1.0 + k as f64 * 0.3) * (0.5 + lo)) as u64,
                    });
                }
                id += 1;
            }
        }
        data.traces = vec![trace(0, 0, 256, 2), trace(5, 16, 256, 7)];
        data
    }

    fn expected_texts(name: &str) -> Vec<&'static str> {
        match name {
            "tpf_vs_branches" => vec![tpf::X_DESC, tpf::Y_DESC, "k = 0 baseline"],
            "quality_vs_tpf" => vec![quality::X_DESC, quality::Y_INVALID, quality::Y_GREEDY],
            "tokens_per_round" => vec![rounds::X_DESC, rounds::Y_DESC],
            "tfo_map" => vec![tfo::X_DESC, tfo::Y_DESC, "anchor fill", "lookahead token"],
            "compute_vs_tpf" => vec![compute::X_DESC, compute::Y_DESC],
            _ => unreachable!(),
        }
    }

    fn check_png(path: &Path) {
        let img = image::open(path).unwrap().to_rgb8();
        assert_eq!(img.dimensions(), SIZE, "{}", path.display());
        let bg = *img.get_pixel(0, 0);
        let differ = img.pixels().filter(|p| **p != bg).count();
        let share = differ as f64 / (SIZE.0 * SIZE.1) as f64;
        assert!(
            share > 0.03,
            "{}: only {share} of pixels drawn",
            path.display()
        );
    }

    #[test]
    fn renders_every_figure_with_text() {
        let dir = tempfile::tempdir().unwrap();
        let data = sample();
        let paths = render_all(&data, dir.path()).unwrap();
        assert_eq!(paths.len(), 2 * FIGURES.len());
        for name in FIGURES {
            check_png(&dir.path().join(format!("{name}.png")));
            let svg = std::fs::read_to_string(dir.path().join(format!("{name}.svg"))).unwrap();
            assert!(svg.contains("unit-sample"), "{name}: no title");
            for text in expected_texts(name) {
                assert!(svg.contains(text), "{name}: missing {text:?}");
            }
        }
        let svg = std::fs::read_to_string(dir.path().join("tpf_vs_branches.svg")).unwrap();
        assert!(svg.contains("1.00x") && svg.contains("model.noise=0.3"));
        let svg = std::fs::read_to_string(dir.path().join("tfo_map.svg")).unwrap();
        assert!(svg.contains("k = 4 (config 2, seq 3, 12 rounds)"), "{svg}");
        // Nothing but the figures is left in the folder.
        let mut names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names.len(), 2 * FIGURES.len(), "{names:?}");
    }

    #[test]
    fn rendering_is_deterministic() {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let data = sample();
        let pa = render_all(&data, a.path()).unwrap();
        let pb = render_all(&data, b.path()).unwrap();
        for (x, y) in pa.iter().zip(&pb) {
            assert_eq!(x.file_name(), y.file_name());
            assert!(
                std::fs::read(x).unwrap() == std::fs::read(y).unwrap(),
                "{}",
                x.display()
            );
        }
    }

    #[test]
    fn degenerate_data_renders() {
        let mut one = config(0, "0.1", 3, 2.0);
        one.swept.clear();
        one.invalid_per_1k = None;
        one.greedy_match_rate = None;
        one.log_likelihood_mean = None;
        let data = PlotData {
            name: String::new(),
            k_axis: Default::default(),
            configs: vec![one.clone()],
            bins: vec![],
            traces: vec![],
        };
        let dir = tempfile::tempdir().unwrap();
        render_all(&data, dir.path()).unwrap();
        for name in FIGURES {
            check_png(&dir.path().join(format!("{name}.png")));
        }
        let svg = std::fs::read_to_string(dir.path().join("quality_vs_tpf.svg")).unwrap();
        assert!(svg.contains("not defined by this model"));
        let svg = std::fs::read_to_string(dir.path().join("tfo_map.svg")).unwrap();
        assert!(svg.contains("no trace recorded"));

        // Non-finite values (never produced, but guarded against).
        let mut nan = config(1, "0.2", 0, f64::NAN);
        nan.tpf_hi = f64::INFINITY;
        nan.invalid_per_1k = Some(f64::NAN);
        nan.branch_tokens_per_token = f64::NAN;
        let data = PlotData {
            name: "nan".into(),
            configs: vec![nan, config(2, "0.2", 2, 2.5)],
            ..PlotData::default()
        };
        render_all(&data, &dir.path().join("nan")).unwrap();

        // Equal values, a single trace with a single round, an empty configuration list.
        let mut two = one.clone();
        two.config = 1;
        let single = Trace {
            config: 0,
            seq: 0,
            branches: 0,
            rounds: 1,
            positions: 1,
            cells: vec![TraceCell {
                position: 0,
                round: 1,
                via: Via::Completion,
            }],
        };
        for data in [
            PlotData {
                name: "flat".into(),
                k_axis: Default::default(),
                configs: vec![one, two],
                bins: vec![],
                traces: vec![single],
            },
            PlotData::default(),
        ] {
            let dir = tempfile::tempdir().unwrap();
            render_all(&data, dir.path()).unwrap();
        }
    }

    #[test]
    fn unusable_folder_is_an_io_error() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("file");
        std::fs::write(&file, b"x").unwrap();
        assert!(matches!(
            render_all(&PlotData::default(), &file),
            Err(PlotError::Io { .. })
        ));
    }

    /// A crowded sweep (18 configurations, long traces) still renders full, inked figures.
    /// Set `LOPA_PLOT_SAMPLE_DIR` to keep them somewhere for looking at.
    #[test]
    fn a_large_sweep_renders_full_figures() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = std::env::var("LOPA_PLOT_SAMPLE_DIR")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|_| tmp.path().to_path_buf());
        let paths = render_all(&large(), &dir.join("large")).unwrap();
        for p in paths
            .iter()
            .filter(|p| p.extension().is_some_and(|e| e == "png"))
        {
            check_png(p);
        }
    }

    /// Twelve cases of a k sweep: line panels of at most eight series.
    #[test]
    fn twelve_series_split_into_panels() {
        let mut data = PlotData {
            name: "twelve".to_string(),
            ..PlotData::default()
        };
        for c in 0..12 {
            for k in [0usize, 1, 2, 4, 8, 16] {
                let id = data.configs.len();
                let mut p = config(
                    id,
                    "0.1",
                    k,
                    (1.5 + c as f64 * 0.1) * (1.0 + k as f64).sqrt(),
                );
                p.case = Some(format!("case-{c}"));
                data.configs.push(p);
            }
        }
        let tmp = tempfile::tempdir().unwrap();
        let dir = std::env::var("LOPA_PLOT_SAMPLE_DIR")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|_| tmp.path().to_path_buf());
        render_all(&data, &dir.join("twelve")).unwrap();
        let svg = std::fs::read_to_string(dir.join("twelve/tpf_vs_branches.svg")).unwrap();
        assert!(svg.contains("series 1/2") && svg.contains("series 2/2"));
        assert!(svg.contains("log2 scale"));
    }

    #[test]
    fn font_registration_is_idempotent() {
        register_font().unwrap();
        register_font().unwrap();
    }
}

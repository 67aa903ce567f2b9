//! Drawing the figures into a folder: every PNG and SVG on the thread pool, each written
//! under a temporary name and renamed when complete.

use std::path::{Path, PathBuf};

use plotters::prelude::*;
use rayon::prelude::*;

use super::data::PlotData;
use super::{common, draw, encode, figures, raster, register_font, PlotError, SIZE};

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
    let names = figures(data);
    // The PNGs (drawn and encoded, several times an SVG's cost) go first and every file is
    // a job of its own, so the cheap SVGs fill in at the end instead of one PNG running
    // alone while the other threads wait.
    let jobs: Vec<(&str, &str)> = ["png", "svg"]
        .iter()
        .flat_map(|&ext| names.iter().map(move |&name| (name, ext)))
        .collect();
    let mut done: Vec<Option<Result<Rendered, PlotError>>> = jobs
        .par_iter()
        .with_max_len(1)
        .map(|&(name, ext)| Some(render_one(name, ext, data, dir)))
        .collect();
    // Back in figure order, each PNG before its SVG; the first failure in that order is the
    // one reported, whatever the thread count.
    let n = names.len();
    (0..n)
        .flat_map(|i| [i, n + i])
        .map(|j| done[j].take().expect("each job taken once"))
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
    let _tracked = crate::partial::track(&tmp);
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

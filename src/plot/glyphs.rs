//! Text for the PNG figures, with each glyph rasterised once per thread.
//!
//! plotters' ab_glyph text outlines and rasterises every glyph each time it is drawn, though
//! it always places the glyph at the origin and moves its coverage by whole pixels: the
//! coverage depends on the character and the size alone. [`draw`] does what plotters does,
//! in the same order and with the same arithmetic, but keeps each coverage for the next
//! time, so the figures get the same pixels (the tick digits and labels repeat a lot).

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::OnceLock;

use ab_glyph::{Font, FontRef, PxScaleFont, ScaleFont};

/// One glyph's coverage at one size: the top of its pixel bounds and its (x, y, coverage)
/// triples, in the order the rasteriser gives them.
struct Coverage {
    min_y: f32,
    pixels: Vec<(u32, u32, f32)>,
}

/// Coverage by character and size (the `f32` bits); None for a glyph without outline.
type Cache = HashMap<(char, u32), Option<Rc<Coverage>>>;

thread_local! {
    static GLYPHS: RefCell<Cache> = RefCell::new(HashMap::new());
}

/// The embedded font, the one registered as "sans-serif".
fn font() -> &'static FontRef<'static> {
    static FONT: OnceLock<FontRef<'static>> = OnceLock::new();
    FONT.get_or_init(|| {
        FontRef::try_from_slice(super::FONT_BYTES)
            .expect("the embedded font is checked at registration")
    })
}

fn coverage(font: &PxScaleFont<&FontRef<'static>>, c: char, size: f32) -> Option<Rc<Coverage>> {
    GLYPHS.with_borrow_mut(|cache| {
        cache
            .entry((c, size.to_bits()))
            .or_insert_with(|| {
                let outlined = font.outline_glyph(font.scaled_glyph(c))?;
                let mut pixels = Vec::new();
                let min_y = outlined.px_bounds().min.y;
                outlined.draw(|x, y, a| pixels.push((x, y, a)));
                Some(Rc::new(Coverage { min_y, pixels }))
            })
            .clone()
    })
}

/// Calls `pixel(x, y, coverage)` for every pixel of `text` at `size` (px), relative to
/// the text's origin, as plotters' ab_glyph font does.
pub(super) fn draw<E>(
    text: &str,
    size: f64,
    mut pixel: impl FnMut(i32, i32, f32) -> Result<(), E>,
) -> Result<(), E> {
    let font = font().as_scaled(size as f32);
    let mut x_shift = 0f32;
    let mut prev = None;
    for c in text.chars() {
        if let Some(pc) = prev {
            x_shift += font.kern(font.glyph_id(pc), font.glyph_id(c));
        }
        prev = Some(c);
        if let Some(glyph) = coverage(&font, c, size as f32) {
            let y_shift = ((size as f32) / 2.0 + glyph.min_y) as i32;
            let x_shift = x_shift as i32;
            for &(x, y, a) in &glyph.pixels {
                pixel(x as i32 + x_shift, y as i32 + y_shift, a)?;
            }
        }
        x_shift += font.h_advance(font.glyph_id(c));
    }
    Ok(())
}

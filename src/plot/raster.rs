//! The bitmap backend of the PNG figures, with one shortcut: an opaque polygon that is an
//! axis-aligned rectangle is filled as a rectangle.
//!
//! plotters draws every line wider than one pixel as a polygon (its four corners), and its
//! polygon filler walks the polygon one scan line at a time, with an allocation and a sort
//! per line. The white mesh lines (2 px) and the axes of every chart are such polygons,
//! which made them a third of a figure's drawing time. Filling the same pixels directly
//! gives the same image: [`rectangle_fill`] reproduces exactly which pixels plotters' filler
//! sets for a rectangle (a test compares the two pixel by pixel), and everything else is
//! handed to plotters' own `BitMapBackend` unchanged.

use plotters::backend::{BitMapBackend, DrawingBackend};
use plotters_backend::text_anchor::{HPos, VPos};
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingErrorKind,
};

/// A [`BitMapBackend`] that fills rectangular polygons directly.
pub(super) struct Raster<'a>(pub(super) BitMapBackend<'a>);

type Error<'a> = DrawingErrorKind<<BitMapBackend<'a> as DrawingBackend>::ErrorType>;

/// The corners plotters gives a line of width `width` > 1 (as `rasterizer::draw_line` does,
/// to the bit), or None for a line too short to draw.
fn wide_line_corners(
    from: BackendCoord,
    to: BackendCoord,
    width: u32,
) -> Option<[BackendCoord; 4]> {
    let v = (i64::from(to.0 - from.0), i64::from(to.1 - from.1));
    let l = ((v.0 * v.0 + v.1 * v.1) as f64).sqrt();
    if l < 1e-5 {
        return None;
    }
    let v = (v.0 as f64 / l, v.1 as f64 / l);
    let r = f64::from(width) / 2.0;
    let mut trans = [(v.1 * r, -v.0 * r), (-v.1 * r, v.0 * r)];
    let mut corners = [(0, 0); 4];
    let mut i = 0;
    for point in [from, to] {
        for t in trans {
            corners[i] = (
                (f64::from(point.0) + t.0) as i32,
                (f64::from(point.1) + t.1) as i32,
            );
            i += 1;
        }
        trans.swap(0, 1);
    }
    Some(corners)
}

/// For a polygon that is an axis-aligned rectangle of positive width and height, the
/// pixels plotters' `rasterizer::fill_polygon` sets, as a half-open box
/// `(x0, y0)..(x1, y1)`; None for any other polygon.
///
/// That filler sweeps along the longer side (along y when the sides are equal). Each sweep
/// line sets the pixels between the two long edges, both included; the last sweep line,
/// where both edges end, is skipped when they are more than one pixel apart. The edge
/// pixels it also blends in get a coverage of zero, which changes nothing.
fn rectangle_fill(v: &[BackendCoord]) -> Option<(BackendCoord, BackendCoord)> {
    let [a, b, c, d] = v else {
        return None;
    };
    let (x0, x1) = (a.0.min(c.0), a.0.max(c.0));
    let (y0, y1) = (a.1.min(c.1), a.1.max(c.1));
    if x0 == x1 || y0 == y1 {
        return None;
    }
    let corner = |p: &BackendCoord| (p.0 == x0 || p.0 == x1) && (p.1 == y0 || p.1 == y1);
    // Opposite corners a, c and b, d; every side axis-aligned.
    let sides_aligned = [(a, b), (b, c), (c, d), (d, a)]
        .iter()
        .all(|(p, q)| (p.0 == q.0) != (p.1 == q.1));
    if !(v.iter().all(corner) && sides_aligned) {
        return None;
    }
    let (w, h) = (x1 - x0, y1 - y0);
    Some(if w > h {
        let end = if h > 1 { x1 } else { x1 + 1 };
        ((x0, y0), (end, y1 + 1))
    } else {
        let end = if w > 1 { y1 } else { y1 + 1 };
        ((x0, y0), (x1 + 1, end))
    })
}

impl<'a> Raster<'a> {
    /// Fills `v` directly if it is an opaque rectangle; false if it is not one.
    fn fill_rectangle(
        &mut self,
        v: &[BackendCoord],
        color: BackendColor,
    ) -> Result<bool, Error<'a>> {
        if color.alpha < 1.0 {
            return Ok(false);
        }
        let Some((from, to)) = rectangle_fill(v) else {
            return Ok(false);
        };
        self.0.draw_rect(from, to, &color, true)?;
        Ok(true)
    }
}

impl<'a> DrawingBackend for Raster<'a> {
    type ErrorType = <BitMapBackend<'a> as DrawingBackend>::ErrorType;

    fn get_size(&self) -> (u32, u32) {
        self.0.get_size()
    }

    fn ensure_prepared(&mut self) -> Result<(), Error<'a>> {
        self.0.ensure_prepared()
    }

    fn present(&mut self) -> Result<(), Error<'a>> {
        self.0.present()
    }

    fn draw_pixel(&mut self, point: BackendCoord, color: BackendColor) -> Result<(), Error<'a>> {
        self.0.draw_pixel(point, color)
    }

    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), Error<'a>> {
        let width = style.stroke_width();
        if width > 1 && (from.0 == to.0 || from.1 == to.1) {
            if let Some(corners) = wide_line_corners(from, to, width) {
                if self.fill_rectangle(&corners, style.color())? {
                    return Ok(());
                }
            }
        }
        self.0.draw_line(from, to, style)
    }

    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), Error<'a>> {
        self.0.draw_rect(upper_left, bottom_right, style, fill)
    }

    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> Result<(), Error<'a>> {
        let v: Vec<_> = vert.into_iter().collect();
        if self.fill_rectangle(&v, style.color())? {
            return Ok(());
        }
        self.0.fill_polygon(v, style)
    }

    /// plotters' own `draw_text`, step for step, with the glyphs of [`super::glyphs`].
    fn draw_text<TStyle: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &TStyle,
        pos: BackendCoord,
    ) -> Result<(), Error<'a>> {
        if style.family().as_str() != super::common::FONT {
            return self.0.draw_text(text, style, pos);
        }
        let color = style.color();
        if color.alpha == 0.0 {
            return Ok(());
        }
        let ((min_x, min_y), (max_x, max_y)) = style
            .layout_box(text)
            .map_err(|e| DrawingErrorKind::FontError(Box::new(e)))?;
        let (width, height) = (max_x - min_x, max_y - min_y);
        let dx = match style.anchor().h_pos {
            HPos::Left => 0,
            HPos::Right => -width,
            HPos::Center => -width / 2,
        };
        let dy = match style.anchor().v_pos {
            VPos::Top => 0,
            VPos::Center => -height / 2,
            VPos::Bottom => -height,
        };
        let trans = style.transform();
        let (w, h) = self.get_size();
        super::glyphs::draw(text, style.size(), |x, y, a| {
            let (x, y) = trans.transform(x + dx - min_x, y + dy - min_y);
            let (x, y) = (pos.0 + x, pos.1 + y);
            if x >= 0 && x < w as i32 && y >= 0 && y < h as i32 {
                self.0.draw_pixel((x, y), color.mix(f64::from(a)))
            } else {
                Ok(())
            }
        })
    }

    fn blit_bitmap(
        &mut self,
        pos: BackendCoord,
        size: (u32, u32),
        src: &[u8],
    ) -> Result<(), Error<'a>> {
        self.0.blit_bitmap(pos, size, src)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const W: u32 = 40;
    const H: u32 = 30;

    /// One drawing call, replayed on either backend.
    enum Call {
        Line(BackendCoord, BackendCoord, u32, BackendColor),
        Polygon(Vec<BackendCoord>, BackendColor),
        Path(Vec<BackendCoord>, u32, BackendColor),
    }

    struct Styled(BackendColor, u32);

    impl BackendStyle for Styled {
        fn color(&self) -> BackendColor {
            self.0
        }
        fn stroke_width(&self) -> u32 {
            self.1
        }
    }

    impl Call {
        fn run<DB: DrawingBackend>(&self, b: &mut DB) {
            match self {
                Call::Line(p, q, w, c) => b.draw_line(*p, *q, &Styled(*c, *w)).unwrap(),
                Call::Polygon(v, c) => b.fill_polygon(v.clone(), c).unwrap(),
                Call::Path(v, w, c) => b.draw_path(v.clone(), &Styled(*c, *w)).unwrap(),
            }
        }
    }

    /// Whether `call` sets the same pixels on a plain bitmap and on a [`Raster`], and
    /// whether it set any.
    fn same(call: &Call) -> (bool, bool) {
        let mut plain = vec![255u8; (W * H * 3) as usize];
        let mut fast = plain.clone();
        call.run(&mut BitMapBackend::with_buffer(&mut plain, (W, H)));
        call.run(&mut Raster(BitMapBackend::with_buffer(&mut fast, (W, H))));
        (plain == fast, plain.iter().any(|&p| p != 255))
    }

    const INK: BackendColor = BackendColor {
        alpha: 1.0,
        rgb: (200, 30, 90),
    };
    const GREY: BackendColor = BackendColor {
        alpha: 1.0,
        rgb: (77, 77, 77),
    };

    #[test]
    fn wide_axis_aligned_lines_set_the_same_pixels() {
        let mut inked = 0;
        for width in 2..=5 {
            for len in 0..=12 {
                for (x, y) in [(10, 10), (0, 0), (-1, 5), (W as i32 - 3, H as i32 - 1)] {
                    for (dx, dy) in [(len, 0), (-len, 0), (0, len), (0, -len)] {
                        for color in [INK, GREY] {
                            let line = Call::Line((x, y), (x + dx, y + dy), width, color);
                            let (equal, ink) = same(&line);
                            assert!(equal, "width {width}, from ({x}, {y}) by ({dx}, {dy})");
                            inked += usize::from(ink);
                        }
                    }
                }
            }
        }
        // All but the zero-length lines and those off the bitmap.
        assert!(inked > 4 * 12 * 4 * 2 * 3, "{inked}");
    }

    #[test]
    fn rectangles_in_any_corner_order_set_the_same_pixels() {
        for (x0, y0, x1, y1) in [
            (3, 4, 20, 6),
            (3, 4, 4, 20),
            (3, 4, 5, 5),
            (3, 4, 6, 7),
            (-5, -5, 50, 3),
            (2, 2, 30, 25),
            (9, 1, 10, 2),
        ] {
            let corners = [(x0, y0), (x1, y0), (x1, y1), (x0, y1)];
            for start in 0..4 {
                for reverse in [false, true] {
                    let mut v: Vec<_> = (0..4).map(|i| corners[(start + i) % 4]).collect();
                    if reverse {
                        v.reverse();
                    }
                    assert!(rectangle_fill(&v).is_some(), "{v:?}");
                    assert_eq!(same(&Call::Polygon(v.clone(), INK)), (true, true), "{v:?}");
                }
            }
        }
    }

    #[test]
    fn other_shapes_are_left_to_plotters() {
        let half = BackendColor {
            alpha: 0.5,
            rgb: (10, 200, 10),
        };
        for call in [
            Call::Line((2, 3), (30, 20), 3, INK),
            Call::Line((2, 3), (30, 3), 2, half),
            Call::Polygon(vec![(2, 2), (20, 2), (25, 20), (2, 20)], INK),
            Call::Polygon(vec![(2, 2), (20, 2), (20, 20)], INK),
            Call::Path(vec![(2, 2), (20, 2), (20, 20), (35, 28)], 3, INK),
            Call::Path(vec![(2, 10), (38, 10)], 2, GREY),
        ] {
            assert_eq!(same(&call), (true, true));
        }
        assert!(rectangle_fill(&[(0, 0), (5, 0), (0, 5), (5, 5)]).is_none());
        assert!(rectangle_fill(&[(0, 0), (5, 0), (5, 0), (0, 0)]).is_none());
        assert!(rectangle_fill(&[(0, 0), (5, 0), (5, 5), (0, 6)]).is_none());
    }

    #[test]
    fn text_sets_the_same_pixels() {
        use plotters::prelude::*;
        use plotters::style::text_anchor::{HPos, Pos, VPos};
        use plotters::style::FontTransform;

        super::super::register_font().unwrap();
        let (w, h) = (260u32, 120u32);
        for (size, transform, anchor, color) in [
            (
                24.0,
                FontTransform::None,
                Pos::new(HPos::Left, VPos::Top),
                BLACK,
            ),
            (
                40.0,
                FontTransform::None,
                Pos::new(HPos::Center, VPos::Center),
                BLUE,
            ),
            (
                22.0,
                FontTransform::Rotate270,
                Pos::new(HPos::Center, VPos::Top),
                RED,
            ),
            (
                18.0,
                FontTransform::None,
                Pos::new(HPos::Right, VPos::Bottom),
                BLACK,
            ),
        ] {
            let color = color.mix(0.8);
            let style = TextStyle::from(("sans-serif", size).into_font().transform(transform))
                .pos(anchor)
                .color(&color);
            let draw = |b: &mut dyn FnMut(&str, (i32, i32))| {
                // Twice, so that the second time comes from the cache.
                for _ in 0..2 {
                    b("TPF 1.97x, k = 14 (AVg)", (130, 60));
                    b("edge", (-8, 115));
                }
            };
            let mut plain = vec![255u8; (w * h * 3) as usize];
            let mut fast = plain.clone();
            {
                let mut b = BitMapBackend::with_buffer(&mut plain, (w, h));
                draw(&mut |t, p| b.draw_text(t, &style, p).unwrap());
            }
            {
                let mut b = Raster(BitMapBackend::with_buffer(&mut fast, (w, h)));
                draw(&mut |t, p| b.draw_text(t, &style, p).unwrap());
            }
            assert!(plain.iter().any(|&p| p != 255), "size {size}: no ink");
            assert!(plain == fast, "size {size}");
        }
    }
}

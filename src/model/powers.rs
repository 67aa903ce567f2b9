//! The matrix powers T^n of a Markov oracle, built on first use and shared by every decode.
//!
//! P^n = P^(n-1) T, so row i of P^n depends on row i of P^(n-1) alone. When a decode asks
//! for a power not built yet, the missing powers up to it, or up to twice the exponent built
//! if that is more, form a batch whose rows are cut into chunks; every thread that asks for a power of the batch takes chunks until none is
//! left, each chunk carried through all the batch's powers without waiting for the others.
//! So the threads of a sweep, whose first decodes all wait for the same powers, share that
//! work instead of one computing it while the others wait. No thread pool is used: a thread
//! only ever waits for chunks other threads are computing, which needs no lock or task of
//! theirs, so it cannot deadlock however the sweep's pool schedules the decodes.
//!
//! Every entry is computed by the same code with its terms in the same order, whichever
//! thread computes its row and however the rows are cut, so the powers are the same bits
//! for any thread count.

use std::sync::{Condvar, Mutex, OnceLock};

use ndarray::Array2;

/// The powers T^1..=T^max of a V x V row-stochastic matrix.
#[derive(Debug)]
pub(crate) struct Powers {
    /// `levels[n]` holds T^n once built; `levels[0]` is unused.
    levels: Vec<OnceLock<Array2<f64>>>,
    building: Mutex<Building>,
    /// Signalled when a batch is complete.
    finished: Condvar,
}

#[derive(Debug)]
struct Building {
    /// Every power up to this one is in `levels`.
    built: usize,
    batch: Option<Batch>,
}

/// Powers `from..=to` under construction.
#[derive(Debug)]
struct Batch {
    from: usize,
    to: usize,
    /// T^from..=T^to, filled chunk by chunk; each chunk writes its own rows through `out`.
    levels: Vec<Array2<f64>>,
    /// The first entry of each of `levels`, taken once when the batch is made.
    out: Vec<Entries>,
    /// Rows per chunk (the last chunk may have fewer).
    rows: usize,
    chunks: usize,
    /// Chunks handed out, and chunks finished.
    taken: usize,
    done: usize,
}

/// Where a power's entries are, for the chunks to write their disjoint rows into.
#[derive(Clone, Copy, Debug)]
struct Entries(*mut f64);

// SAFETY: a batch's chunks write disjoint rows of its powers, each read back only by the
// chunk that wrote them, and the powers are published only after every chunk is done,
// which the batch's lock orders after the writes (see `compute_chunk`).
unsafe impl Send for Entries {}

/// Chunks per batch for `v` rows: enough to balance two or more threads, few enough that a
/// chunk's rows of one power are worth a lock to copy in.
fn chunk_rows(v: usize) -> usize {
    let chunks = (v / 16).clamp(1, 16);
    v.div_ceil(chunks)
}

impl Powers {
    /// The powers of `t` (standard layout), for exponents up to `max` (at least 1).
    pub(crate) fn new(t: Array2<f64>, max: usize) -> Self {
        let levels: Vec<OnceLock<Array2<f64>>> =
            (0..=max.max(1)).map(|_| OnceLock::new()).collect();
        let _ = levels[1].set(t);
        Powers {
            levels,
            building: Mutex::new(Building {
                built: 1,
                batch: None,
            }),
            finished: Condvar::new(),
        }
    }

    /// One more than the largest exponent.
    pub(crate) fn len(&self) -> usize {
        self.levels.len()
    }

    /// T^n, computed as T^(n-1) T with left-to-right inner sums (SPEC 2).
    pub(crate) fn get(&self, n: usize) -> &Array2<f64> {
        if let Some(p) = self.levels[n].get() {
            return p;
        }
        self.build_to(n);
        self.levels[n].get().expect("built")
    }

    /// Builds every power up to `n`, helping any batch under way.
    fn build_to(&self, n: usize) {
        let v = self.t().nrows();
        let mut state = self.building.lock().expect("power chain lock");
        loop {
            if state.built >= n {
                return;
            }
            let built = state.built;
            // Decodes ask for the powers one distance at a time as their masked runs grow,
            // so a batch of the one power asked for would give the threads a tiny batch to
            // share (chunks of a few microseconds, each waited for under the lock). Doubling
            // what is built makes a few large batches instead, at most twice the powers
            // ever asked for.
            let target = n.max(2 * built).min(self.levels.len() - 1);
            let batch = state.batch.get_or_insert_with(|| {
                let rows = chunk_rows(v);
                let mut levels: Vec<Array2<f64>> = (built + 1..=target)
                    .map(|_| Array2::zeros((v, v)))
                    .collect();
                let out = levels.iter_mut().map(|p| Entries(p.as_mut_ptr())).collect();
                Batch {
                    from: built + 1,
                    to: target,
                    levels,
                    out,
                    rows,
                    chunks: v.div_ceil(rows),
                    taken: 0,
                    done: 0,
                }
            });
            if batch.taken == batch.chunks {
                // Every chunk is being computed: wait for the batch to be complete.
                state = self.finished.wait(state).expect("power chain lock");
                continue;
            }
            let chunk = batch.taken;
            batch.taken += 1;
            let (from, rows, out) = (batch.from, batch.rows, batch.out.clone());
            drop(state);
            self.compute_chunk(chunk, from, rows, &out);
            state = self.building.lock().expect("power chain lock");
            let batch = state.batch.as_mut().expect("a batch outlives its chunks");
            batch.done += 1;
            if batch.done == batch.chunks {
                let batch = state.batch.take().expect("just seen");
                for (level, p) in batch.levels.into_iter().enumerate() {
                    let _ = self.levels[batch.from + level].set(p);
                }
                state.built = batch.to;
                self.finished.notify_all();
            }
        }
    }

    /// Rows `chunk * rows..` (at most `rows` of them) of the batch's powers T^from.., each
    /// power's rows from the previous power's same rows, written into the batch's zeroed
    /// matrices at `out`.
    fn compute_chunk(&self, chunk: usize, from: usize, rows: usize, out: &[Entries]) {
        let t = self.t().as_slice().expect("standard layout");
        let v = self.t().nrows();
        let start = chunk * rows * v;
        let len = ((chunk + 1) * rows * v).min(v * v) - start;
        let below = self.levels[from - 1].get().expect("built before the batch");
        let mut prev: &[f64] = &below.as_slice().expect("standard layout")[start..start + len];
        for level in out {
            // SAFETY: `level` points at a V x V matrix of the batch, which neither moves nor
            // is read by anyone else until every chunk is done; this chunk alone writes
            // entries `start..start + len`, and reads them back only as `prev`, after it
            // has written them and no longer writes them.
            let next = unsafe { std::slice::from_raw_parts_mut(level.0.add(start), len) };
            times_t(prev, t, v, next);
            prev = next;
        }
    }

    fn t(&self) -> &Array2<f64> {
        self.levels[1].get().expect("set at construction")
    }
}

/// out += a T for a block of rows `a` of a V x V matrix (`out` zeroed by the caller), in
/// the widest vectors the processor has.
fn times_t(a: &[f64], t: &[f64], v: usize, out: &mut [f64]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512f") {
        // SAFETY: called only when the processor reports AVX-512F.
        unsafe { product_avx512(a, t, v, out) };
        return;
    }
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: called only when the processor reports AVX2.
        unsafe { product_avx2(a, t, v, out) };
        return;
    }
    product(a, t, v, out);
}

/// out = a T for row-major rows `a` of a V x V matrix (`out` zeroed). Entry (i, j)
/// accumulates a[i, k] * T[k, j] for k = 0, 1, ..., V-1 in turn from 0, the left-to-right
/// inner sum of SPEC 2. The work is cut in tiles of `TILE_ROWS` rows by `TILE_COLS`
/// columns whose sums stay in registers over all k, the tile's strip of T staying in the
/// first-level cache across the tiles of a strip (T itself does not fit there when V is
/// 128 or more). Each entry still sees its terms in the same order, and the AVX2 build has
/// no FMA (separate multiplies and adds), so every build, tiling and split of the rows
/// gives the same bits.
#[inline(always)]
fn product(a: &[f64], t: &[f64], v: usize, out: &mut [f64]) {
    let rows = a.len() / v;
    for j in (0..v).step_by(TILE_COLS) {
        let cols = TILE_COLS.min(v - j);
        let mut i = 0;
        while i < rows {
            if cols == TILE_COLS && rows - i >= TILE_ROWS {
                let mut acc = [[0.0f64; TILE_COLS]; TILE_ROWS];
                for k in 0..v {
                    let tk: &[f64; TILE_COLS] = t[k * v + j..][..TILE_COLS]
                        .try_into()
                        .expect("a whole tile");
                    for (r, sums) in acc.iter_mut().enumerate() {
                        let aik = a[(i + r) * v + k];
                        for (s, &tkj) in sums.iter_mut().zip(tk) {
                            *s += aik * tkj;
                        }
                    }
                }
                for (r, sums) in acc.iter().enumerate() {
                    out[(i + r) * v + j..][..TILE_COLS].copy_from_slice(sums);
                }
                i += TILE_ROWS;
            } else {
                // A part tile at the right or bottom edge: the same sums, one row at a time.
                let acc = &mut out[i * v + j..][..cols];
                for k in 0..v {
                    let aik = a[i * v + k];
                    for (s, &tkj) in acc.iter_mut().zip(&t[k * v + j..][..cols]) {
                        *s += aik * tkj;
                    }
                }
                i += 1;
            }
        }
    }
}

/// Rows and columns of a tile of [`product`]: 4 x 8 sums are 8 AVX2 registers.
const TILE_ROWS: usize = 4;
const TILE_COLS: usize = 8;

/// [`product`] compiled for AVX2: four lanes a step instead of two.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn product_avx2(a: &[f64], t: &[f64], v: usize, out: &mut [f64]) {
    product(a, t, v, out);
}

/// [`product`] in 512-bit registers: tiles of 8 rows by 16 columns (16 registers of sums)
/// where they fit, the edges one row at a time. Each entry adds its terms for k = 0, 1, ...
/// in turn from 0.0, multiplies and adds kept apart, so the bits are [`product`]'s.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn product_avx512(a: &[f64], t: &[f64], v: usize, out: &mut [f64]) {
    use std::arch::x86_64::*;
    const ROWS: usize = 8;
    const COLS: usize = 16;
    let rows = a.len() / v;
    assert!(t.len() >= v * v && out.len() >= rows * v);
    let edge = |out: &mut [f64], i: usize, cols: std::ops::Range<usize>| {
        let acc = &mut out[i * v + cols.start..i * v + cols.end];
        for k in 0..v {
            let aik = a[i * v + k];
            for (s, &tkj) in acc.iter_mut().zip(&t[k * v + cols.start..k * v + cols.end]) {
                *s += aik * tkj;
            }
        }
    };
    let strips = v / COLS * COLS;
    for j in (0..strips).step_by(COLS) {
        let mut i = 0;
        while i + ROWS <= rows {
            let mut acc = [[_mm512_setzero_pd(); 2]; ROWS];
            for k in 0..v {
                // SAFETY: j + 16 <= v, so both loads are inside row k of `t`.
                let tk = unsafe {
                    [
                        _mm512_loadu_pd(t[k * v + j..].as_ptr()),
                        _mm512_loadu_pd(t[k * v + j + 8..].as_ptr()),
                    ]
                };
                for (r, sums) in acc.iter_mut().enumerate() {
                    let aik = _mm512_set1_pd(a[(i + r) * v + k]);
                    for (s, &tkj) in sums.iter_mut().zip(&tk) {
                        *s = _mm512_add_pd(*s, _mm512_mul_pd(aik, tkj));
                    }
                }
            }
            for (r, sums) in acc.iter().enumerate() {
                let at = &mut out[(i + r) * v + j..(i + r) * v + j + COLS];
                // SAFETY: `at` holds 16 f64.
                unsafe {
                    _mm512_storeu_pd(at.as_mut_ptr(), sums[0]);
                    _mm512_storeu_pd(at[8..].as_mut_ptr(), sums[1]);
                }
            }
            i += ROWS;
        }
        for i in i..rows {
            edge(out, i, j..j + COLS);
        }
    }
    if strips < v {
        for i in 0..rows {
            edge(out, i, strips..v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A V x V row-stochastic matrix with distinct entries, so that a wrong order of sums
    /// shows in the bits.
    fn matrix(v: usize) -> Array2<f64> {
        let mut t = Array2::from_shape_fn((v, v), |(i, j)| {
            1.0 + ((i * 7 + j * 13) % 17) as f64 / 3.0 + (i as f64 + 1.0).sqrt()
        });
        for mut row in t.rows_mut() {
            let s: f64 = row.sum();
            row.mapv_inplace(|x| x / s);
        }
        t
    }

    /// T^n by whole-matrix products in order, each entry's sum over k from 0 upwards:
    /// the definition.
    fn serial(t: &Array2<f64>, n: usize) -> Vec<Array2<f64>> {
        let v = t.nrows();
        let mut out = vec![Array2::zeros((v, v)), t.clone()];
        for m in 2..=n {
            let prev = &out[m - 1];
            let p = Array2::from_shape_fn((v, v), |(i, j)| {
                (0..v).fold(0.0, |s, k| s + prev[[i, k]] * t[[k, j]])
            });
            out.push(p);
        }
        out
    }

    #[test]
    fn powers_are_the_same_bits_however_threads_ask_for_them() {
        for v in [3, 13, 40, 100] {
            let t = matrix(v);
            let want = serial(&t, 30);
            let powers = Powers::new(t.clone(), 30);
            // Four threads ask in different orders, so batches overlap and get helped.
            std::thread::scope(|s| {
                for order in 0..4usize {
                    let powers = &powers;
                    let want = &want;
                    s.spawn(move || {
                        for i in 0..30 {
                            let n = match order {
                                0 => i + 1,
                                1 => 30 - i,
                                _ => (i * (order + 5)) % 30 + 1,
                            };
                            let got = powers.get(n);
                            assert!(got
                                .iter()
                                .zip(want[n].iter())
                                .all(|(a, b)| a.to_bits() == b.to_bits()));
                        }
                    });
                }
            });
        }
    }

    #[test]
    fn a_batch_at_least_doubles_what_is_built_and_stops_at_the_last_power() {
        let powers = Powers::new(matrix(5), 20);
        let built = |p: &Powers| p.building.lock().expect("lock").built;
        powers.get(3);
        assert_eq!(built(&powers), 3);
        powers.get(4);
        assert_eq!(built(&powers), 6);
        assert!(powers.levels[5].get().is_some() && powers.levels[7].get().is_none());
        powers.get(19);
        assert_eq!(built(&powers), 19);
        powers.get(20);
        assert_eq!(built(&powers), 20);
        assert!(powers.levels.iter().skip(1).all(|l| l.get().is_some()));
    }

    #[test]
    fn a_chunk_cut_covers_every_row() {
        for v in [1, 2, 15, 16, 33, 128, 255, 256, 1000] {
            let rows = chunk_rows(v);
            assert!(rows >= 1 && v.div_ceil(rows) <= 16 && rows * v.div_ceil(rows) >= v);
        }
    }
}

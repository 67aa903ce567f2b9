//! The words behind the field's AR(1) noise. Round r's innovation of position i is the
//! standard normal drawn from stream i of the sequence's noise key starting at word 16 r,
//! the first word of block r (docs/semantics.md 2.5). A position is asked for round after
//! round, so its stream is read forwards, block after block: [`Stream`] keeps four blocks
//! (four rounds) of words and hands each round's words to the normal draw directly, rather
//! than seeking the generator and skipping the unused words of every block.

use std::convert::Infallible;

use rand::{Rng, TryRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

/// Words per ChaCha block, the stride between two rounds' innovations.
const BLOCK_WORDS: usize = 16;
/// Blocks kept at once: the generator makes four per refill anyway.
const BLOCKS: u64 = 4;
const BYTES: usize = 4 * BLOCK_WORDS * BLOCKS as usize;

/// One position's innovation stream.
#[derive(Clone)]
pub(super) struct Stream {
    /// The stream's generator, standing at block `next`.
    rng: ChaCha8Rng,
    next: u64,
    /// Blocks `first..first + 4` of the stream, as little-endian words.
    bytes: [u8; BYTES],
    /// `u64::MAX` before the first refill.
    first: u64,
}

impl Stream {
    /// The stream that `rng` reads from its first word on.
    pub(super) fn new(rng: ChaCha8Rng) -> Self {
        Stream {
            rng,
            next: 0,
            bytes: [0; BYTES],
            first: u64::MAX,
        }
    }

    /// Round `r`'s innovation: the standard normal drawn from word 16 r onwards, exactly
    /// as `StandardNormal` draws it from the generator sought there.
    pub(super) fn innovation(&mut self, r: u64) -> f64 {
        StandardNormal.sample(&mut self.words(r))
    }

    /// The stream's words from the first word of block `r` on.
    fn words(&mut self, r: u64) -> Words<'_> {
        let start = r - r % BLOCKS;
        if start != self.first {
            if start != self.next {
                self.rng
                    .set_word_pos(u128::from(start) * BLOCK_WORDS as u128);
            }
            self.rng.fill_bytes(&mut self.bytes);
            (self.first, self.next) = (start, start + BLOCKS);
        }
        Words {
            stream: self,
            at: (r - start) as usize * BLOCK_WORDS,
            rest: None,
        }
    }
}

/// A reader of a [`Stream`]'s words, word by word as the generator gives them. A draw that
/// needs more than the kept blocks (very rare: a long rejection run) goes on reading from a
/// copy of the generator, which stands at the word after them.
struct Words<'a> {
    stream: &'a Stream,
    /// Index of the next word in the kept blocks.
    at: usize,
    rest: Option<ChaCha8Rng>,
}

impl Words<'_> {
    #[inline]
    fn word(&mut self) -> u32 {
        if let Some(bytes) = self.stream.bytes.get(4 * self.at..4 * self.at + 4) {
            self.at += 1;
            u32::from_le_bytes(bytes.try_into().expect("four bytes"))
        } else {
            let stream = self.stream;
            self.rest
                .get_or_insert_with(|| stream.rng.clone())
                .next_u32()
        }
    }
}

/// The same words in the same order as the generator's own reads: a `u64` is the next word
/// then the one after (low half first), and bytes take whole words, a partial last one too.
impl TryRng for Words<'_> {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        Ok(self.word())
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        let lo = self.word();
        let hi = self.word();
        Ok((u64::from(hi) << 32) | u64::from(lo))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        for chunk in dst.chunks_mut(4) {
            let w = self.word().to_le_bytes();
            chunk.copy_from_slice(&w[..chunk.len()]);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn generator(stream: u64) -> ChaCha8Rng {
        let mut rng = ChaCha8Rng::seed_from_u64(77);
        rng.set_stream(stream);
        rng
    }

    /// The generator sought to block r, the way the innovations are defined.
    fn sought(stream: u64, r: u64) -> ChaCha8Rng {
        let mut rng = generator(stream);
        rng.set_word_pos(u128::from(r) * 16);
        rng
    }

    #[test]
    fn innovations_match_the_sought_generator_in_any_order() {
        let mut s = Stream::new(generator(5));
        // Forwards round by round, a jump ahead, a jump back, and a repeat.
        let rounds = (0..40).chain([97, 98, 3, 3, 200, 201, 202, 203, 204, 0]);
        for r in rounds {
            let want: f64 = StandardNormal.sample(&mut sought(5, r));
            assert_eq!(s.innovation(r).to_bits(), want.to_bits(), "round {r}");
        }
    }

    #[test]
    fn words_run_on_past_the_kept_blocks() {
        let mut s = Stream::new(generator(9));
        for r in [0, 2, 3, 6] {
            let mut want = sought(9, r);
            let mut got = s.words(r);
            // Far past the four kept blocks, in every read size and at odd offsets.
            for n in 0..60 {
                assert_eq!(got.next_u32(), want.next_u32(), "round {r} read {n}");
                assert_eq!(got.next_u64(), want.next_u64(), "round {r} read {n}");
                let (mut a, mut b) = ([0u8; 7], [0u8; 7]);
                got.fill_bytes(&mut a);
                want.fill_bytes(&mut b);
                assert_eq!(a, b, "round {r} read {n}");
            }
        }
    }
}

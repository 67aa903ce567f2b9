//! The hidden Markov oracle (SPEC 2b.1). Being written.

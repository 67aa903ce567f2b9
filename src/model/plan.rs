//! The latent-plan mixture (SPEC 2b.2). Being written.

//! `lopa-sim` simulates parallel decoding of masked diffusion language models, and LoPA's
//! search over token filling orders, with synthetic confidence models in place of a
//! network. See `ARCHITECTURE.md` for the map of the code and `../shared/SPEC.md`-derived
//! rules in the README.

#![warn(missing_docs)]

pub mod budget;
pub mod calibrate;
pub mod cli;
pub mod decoder;
pub mod engine;
pub mod input;
pub mod journal;
pub mod model;
pub mod partial;
pub mod plot;
pub mod record;
pub mod report;
pub mod results;
pub mod scenario;
pub mod search;
pub mod state;
pub mod sweep;
pub mod system;

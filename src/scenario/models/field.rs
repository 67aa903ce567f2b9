//! The phenomenological field's `[model]` keys: its logits, kernel and AR(1) noise.

use super::{counted, ranged, Err, ModelSpec};
use crate::model::field::FieldParams;
use crate::scenario::doc::ModelDoc;
use crate::scenario::ScenarioError;

/// `model.kind = "field"`.
pub(super) fn field_spec(m: &mut ModelDoc, err: Err<'_>) -> Result<ModelSpec, ScenarioError> {
    let vocab = counted(err, "model.vocab_size", &mut m.vocab_size, 1000, 2, 1 << 20)?;
    let scale = ranged(
        err,
        "model.kernel_scale",
        &mut m.kernel_scale,
        4.0,
        0.0,
        1e6,
    )?;
    if scale <= 0.0 {
        return Err(err(
            "model.kernel_scale",
            "must be above 0: a zero-width kernel divides by zero".into(),
        ));
    }
    Ok(ModelSpec::Field(FieldParams {
        vocab_size: vocab,
        base_logit: ranged(err, "model.base_logit", &mut m.base_logit, 0.0, -1e3, 1e3)?,
        difficulty_sd: ranged(
            err,
            "model.difficulty_sd",
            &mut m.difficulty_sd,
            1.0,
            0.0,
            1e3,
        )?,
        left_strength: ranged(
            err,
            "model.left_strength",
            &mut m.left_strength,
            1.0,
            0.0,
            1e3,
        )?,
        right_strength: ranged(
            err,
            "model.right_strength",
            &mut m.right_strength,
            0.5,
            0.0,
            1e3,
        )?,
        kernel_scale: scale,
        noise_sd: ranged(err, "model.noise_sd", &mut m.noise_sd, 0.5, 0.0, 1e3)?,
        persistence: ranged(
            err,
            "model.persistence",
            &mut m.persistence,
            0.5,
            0.0,
            0.999_999,
        )?,
        gamma: {
            let g = ranged(err, "model.gamma", &mut m.gamma, 1.0, 0.0, 1e3)?;
            if g <= 0.0 {
                return Err(err("model.gamma", "must be above 0".into()));
            }
            g
        },
    }))
}

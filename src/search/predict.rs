//! Step 2 of a round for one branch: its prediction positions and its predictions, copied
//! from a reference branch where the model's predictions are local (`reuse.rs`).

use super::reuse::Reference;
use super::workspace::Workspace;
use crate::decoder::AnchorDecoder;
use crate::model::ConfidenceModel;
use crate::state::{ConfidenceKind, Prediction, MASK};

/// Step 2 for live branch `b`: its prediction positions into `ws.positions[b]` and its
/// predictions into `ws.preds[b]`, copied from a reference where `reuse` allows: the base
/// from the previous winner (already in its slot), a lookahead branch from the base (whose
/// index is `base`, predicted before it).
#[allow(clippy::too_many_arguments)]
pub(super) fn predict_branch(
    model: &dyn ConfidenceModel,
    decoder: &dyn AnchorDecoder,
    kind: ConfidenceKind,
    round: u64,
    reuse: bool,
    per_branch: usize,
    (b, base): (usize, usize),
    ws: &mut Workspace,
) {
    if b == base {
        std::mem::swap(&mut ws.ref_positions, &mut ws.positions[b]);
    }
    let branch = &ws.live[b];
    let mut positions = std::mem::take(&mut ws.positions[b]);
    let mut preds = std::mem::take(&mut ws.preds[b]);
    let every_mask = decoder.every_mask_is_predicted();
    if reuse && every_mask && b != base {
        // The base's masked positions, less the fresh ones, plus any block it lacks.
        let lim = ws.live[base].tokens.len().min(branch.tokens.len());
        let masked = |&p: &usize| branch.tokens[p] == MASK;
        positions.clear();
        let known = ws.positions[base].iter().take_while(|&&p| p < lim);
        positions.extend(known.filter(|p| masked(p)).copied());
        positions.extend((lim..branch.tokens.len()).filter(masked));
        #[cfg(debug_assertions)]
        {
            let mut want = Vec::new();
            decoder.prediction_positions(branch, &mut want);
            debug_assert_eq!(positions, want, "branch {b}'s positions");
        }
    } else if let (true, Some(len)) = (every_mask && b == base, ws.base_ref) {
        // The previous winner's window, plus the masked positions of any block appended.
        positions.clear();
        positions.extend_from_slice(&ws.base_window);
        positions.extend((len..branch.tokens.len()).filter(|&p| branch.tokens[p] == MASK));
        #[cfg(debug_assertions)]
        {
            let mut want = Vec::new();
            decoder.prediction_positions(branch, &mut want);
            debug_assert_eq!(positions, want, "the base's positions");
        }
    } else {
        decoder.prediction_positions(branch, &mut positions);
    }
    preds.resize(branch.tokens.len(), Prediction::default());
    let todo = match (reuse, ws.extra[b], ws.base_ref) {
        (true, None, Some(len)) => {
            // The base: the previous winner's predictions are in `preds` already.
            ws.reuse.fresh.clear();
            ws.reuse.fresh.extend_from_slice(&ws.fill);
            let reference = Reference {
                len,
                positions: &ws.ref_positions,
                preds: None,
                every_mask,
            };
            ws.reuse
                .split(&branch.tokens, &positions, &reference, &mut preds);
            &ws.reuse.todo
        }
        (true, Some(r), _) => {
            ws.reuse.fresh.clear();
            let end = (r + per_branch).min(ws.ranked.len());
            ws.reuse.fresh.extend_from_slice(&ws.ranked[r..end]);
            let reference = Reference {
                len: ws.live[base].tokens.len(),
                positions: &ws.positions[base],
                preds: Some(&ws.preds[base]),
                every_mask,
            };
            ws.reuse
                .split(&branch.tokens, &positions, &reference, &mut preds);
            &ws.reuse.todo
        }
        _ => &positions,
    };
    model.predict(branch, todo, kind, round, &mut preds, &mut ws.scratch);
    ws.positions[b] = positions;
    ws.preds[b] = preds;
}

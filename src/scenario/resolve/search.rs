//! The `[search]` table of one configuration: the order search and LoPA's knobs, and the
//! exhaustive oracle's state budget.

use super::decoder::{DecoderSpec, Decoding};
use super::{Keys, MAX_GEN_LENGTH};
use crate::engine::Prompts;
use crate::scenario::doc::{SearchDoc, SearchKind};
use crate::scenario::ScenarioError;
use crate::search::{Knobs, Search};
use crate::state::MAX_BRANCHES;

/// Resolves `[search]`, writing back the defaults the chosen kind uses.
pub(super) fn search(s: &mut SearchDoc, keys: &Keys) -> Result<(Search, Knobs), ScenarioError> {
    let mut knobs = Knobs::default();
    if let Some(limit) = s.max_rounds {
        if limit == 0 {
            return Err(keys.err("search.max_rounds", "must be at least 1".into()));
        }
        knobs.max_rounds = Some(limit);
    }
    let search = match *s.kind.get_or_insert(SearchKind::None) {
        SearchKind::None => Search::None,
        SearchKind::Lopa => lopa(s, &mut knobs, keys)?,
        SearchKind::Oracle => oracle(s, &mut knobs, keys)?,
    };
    Ok((search, knobs))
}

/// `search.branches` within [`MAX_BRANCHES`], for LoPA and the oracle alike.
fn check_branches(branches: u64, keys: &Keys) -> Result<(), ScenarioError> {
    if branches > u64::from(MAX_BRANCHES) {
        return Err(keys.err(
            "search.branches",
            format!("must be at most {MAX_BRANCHES}, got {branches}"),
        ));
    }
    Ok(())
}

/// LoPA: k lookahead branches and the knobs of their spawn and scoring.
fn lopa(s: &mut SearchDoc, knobs: &mut Knobs, keys: &Keys) -> Result<Search, ScenarioError> {
    let branches = *s.branches.get_or_insert(0);
    check_branches(branches, keys)?;
    knobs.spawn_completion = *s.spawn_completion.get_or_insert(knobs.spawn_completion);
    let topp = *s.branch_topp.get_or_insert(1.0);
    if !(topp > 0.0 && topp <= 1.0) {
        return Err(keys.err(
            "search.branch_topp",
            format!("must be a number in (0, 1], got {topp}"),
        ));
    }
    let alpha = *s.alpha.get_or_insert(0.0);
    if !(0.0..=1.0).contains(&alpha) {
        return Err(keys.err(
            "search.alpha",
            format!("must be a number in [0, 1], got {alpha}"),
        ));
    }
    let extra = *s.extra_tokens.get_or_insert(1);
    if extra == 0 || extra > MAX_GEN_LENGTH {
        return Err(keys.err(
            "search.extra_tokens",
            format!("must be in 1..={MAX_GEN_LENGTH}, got {extra}"),
        ));
    }
    knobs.branch_topp = topp;
    knobs.alpha = alpha;
    knobs.extra_tokens = extra as usize;
    knobs.force_base = *s.force_base.get_or_insert(false);
    Ok(Search::Lopa {
        branches: branches as usize,
    })
}

/// The oracle: exhaustive (depth 0) or a beam of `width` states `depth` rounds deep.
fn oracle(s: &mut SearchDoc, knobs: &mut Knobs, keys: &Keys) -> Result<Search, ScenarioError> {
    let depth = *s.depth.get_or_insert(0);
    let width = *s.width.get_or_insert(1);
    let branches = *s.branches.get_or_insert(0);
    let budget = *s.state_budget_mb.get_or_insert(1024);
    if depth > 1 << 10 {
        return Err(keys.err("search.depth", format!("must be at most 1024, got {depth}")));
    }
    if width == 0 || width > 1 << 20 {
        return Err(keys.err(
            "search.width",
            format!("must be in 1..=1048576, got {width}"),
        ));
    }
    check_branches(branches, keys)?;
    knobs.state_budget_mb = budget;
    Ok(Search::Oracle {
        depth: depth as usize,
        width: width as usize,
        branches: branches as usize,
    })
}

/// Refuses an exhaustive oracle whose states could outgrow `search.state_budget_mb`,
/// before any decode starts.
pub(super) fn check_state_budget(
    search: &Search,
    knobs: &Knobs,
    prompts: &Prompts,
    decoding: &Decoding,
    gen_length: u64,
    keys: &Keys,
) -> Result<(), ScenarioError> {
    let Search::Oracle { depth: 0, .. } = search else {
        return Ok(());
    };
    let prompt_len = match prompts {
        Prompts::Explicit(list) => list.iter().map(Vec::len).max().unwrap_or(1),
        Prompts::Sampled(len) => *len,
    };
    let pipelined = matches!(decoding.spec, DecoderSpec::D2f(_));
    let (l, b) = (gen_length as usize, decoding.block);
    let states = crate::search::state_estimate(l, b, pipelined);
    let bytes = u128::from(states) * u128::from(crate::search::state_bytes(prompt_len, l, b));
    if bytes > u128::from(knobs.state_budget_mb) << 20 {
        return Err(keys.err(
            "search.kind",
            format!(
                "the exhaustive oracle (search.depth = 0) may meet up to {} states for gen_length = {l}, block_size = {b} (about {} MiB), over search.state_budget_mb = {}; shrink gen_length, raise the budget, or ask for a beam with search.depth > 0",
                if states == u64::MAX { "2^64".to_string() } else { states.to_string() },
                if bytes >> 20 > u128::from(u64::MAX) { "2^64".to_string() } else { (bytes >> 20).to_string() },
                knobs.state_budget_mb
            ),
        ));
    }
    Ok(())
}

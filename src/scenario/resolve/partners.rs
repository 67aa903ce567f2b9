//! Each LoPA or `none` configuration's oracle partner: the configuration whose fewest
//! rounds it is compared with.

use super::Resolved;
use crate::scenario::doc::FileDoc;
use crate::search::Search;

/// Pairs each `none` or `lopa` configuration with an oracle configuration on the same
/// sequences: the first whose resolved keys equal its own outside `[search]` (the case
/// name aside), preferring the exhaustive oracle (depth 0) over a beam. Oracle
/// configurations themselves get no partner.
pub fn oracle_partners(resolved: &[Resolved]) -> Vec<Option<usize>> {
    let outside_search = |r: &Resolved| FileDoc {
        search: None,
        case: None,
        ..r.doc.clone()
    };
    let oracles: Vec<(usize, FileDoc, bool)> = resolved
        .iter()
        .enumerate()
        .filter_map(|(i, r)| match r.config.search {
            Search::Oracle { depth, .. } => Some((i, outside_search(r), depth == 0)),
            _ => None,
        })
        .collect();
    resolved
        .iter()
        .map(|r| {
            if matches!(r.config.search, Search::Oracle { .. }) {
                return None;
            }
            let me = outside_search(r);
            let same = |o: &&(usize, FileDoc, bool)| o.1 == me;
            let exact = oracles.iter().filter(same).find(|o| o.2);
            exact.or_else(|| oracles.iter().find(same)).map(|o| o.0)
        })
        .collect()
}

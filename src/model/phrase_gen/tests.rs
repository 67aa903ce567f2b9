//! The phrase world's matrix: stochastic rows, exact phrases, closed topics, idioms.

use super::layout::exact_phrases;
use super::*;

fn params() -> PhraseParams {
    PhraseParams {
        vocab_size: 40,
        phrase_length: 4.5,
        short_share: 0.3,
        short_length: 2,
        successors: 3,
        peakedness: 1.0,
        determinism: 1.0,
        eos_token: Some(0),
        eos_hazard: 0.01,
        topics: 1,
        topic_spread: 0.0,
        exact_share: 0.0,
        stages: 1,
        output_length: 0.0,
        fork: false,
    }
}

#[test]
fn rows_are_stochastic_and_eos_absorbs() {
    for det in [1.0, 0.8] {
        let t = generate(
            &PhraseParams {
                determinism: det,
                ..params()
            },
            5,
        );
        for row in t.rows() {
            assert!((row.sum() - 1.0).abs() < 1e-12, "{row}");
            assert!(row.iter().all(|&p| p >= 0.0));
        }
        assert_eq!(t[[0, 0]], 1.0);
    }
}

#[test]
fn exact_phrases_are_one_to_one_inside() {
    let p = params();
    let words: Vec<usize> = (1..40).collect();
    let cut = phrases(&p, &words, &mut phrase_rng(5));
    let mut all: Vec<usize> = cut.iter().flatten().copied().collect();
    all.sort_unstable();
    assert_eq!(all, words, "every non-EOS token in exactly one phrase");
    assert!(cut.iter().any(|ph| ph.len() == 2) && cut.iter().any(|ph| ph.len() >= 4));
    let t = generate(&p, 5);
    for ph in &cut {
        for w in ph.windows(2) {
            // The next token of the phrase takes all the non-EOS mass ...
            assert!((t[[w[0], w[1]]] - 0.99).abs() < 1e-12);
            // ... and nothing else leads into a within-phrase token.
            let into = t.column(w[1]).iter().filter(|&&x| x > 0.0).count();
            assert_eq!(into, 1);
        }
        // A decision point branches to at most 3 phrase starts, plus EOS.
        let last = *ph.last().unwrap();
        let out = t.row(last).iter().filter(|&&x| x > 0.0).count();
        assert!((2..=4).contains(&out), "{out}");
    }
}

#[test]
fn leaky_phrases_leave_early_through_the_decision() {
    let t = generate(
        &PhraseParams {
            determinism: 0.8,
            ..params()
        },
        5,
    );
    let cut = phrases(&params(), &(1..40).collect::<Vec<_>>(), &mut phrase_rng(5));
    let long = cut.iter().find(|ph| ph.len() >= 3).unwrap();
    assert!((t[[long[0], long[1]]] - 0.99 * 0.8).abs() < 1e-12);
    let out = t.row(long[0]).iter().filter(|&&x| x > 0.0).count();
    assert!(
        out >= 3,
        "the leak goes to the decision's phrase starts: {out}"
    );
}

#[test]
fn topics_are_closed_and_their_decisions_spread_in_peakedness() {
    let p = PhraseParams {
        topics: 3,
        topic_spread: 1.0,
        ..params()
    };
    let cut = phrases(&p, &(1..40).collect::<Vec<_>>(), &mut phrase_rng(5));
    let topic_of = |tok: usize| {
        let i = cut.iter().position(|ph| ph.contains(&tok)).unwrap();
        i * 3 / cut.len()
    };
    let t = generate(&p, 5);
    for ph in &cut {
        let last = *ph.last().unwrap();
        for (j, &x) in t.row(last).iter().enumerate() {
            if x > 0.0 && j != 0 {
                assert_eq!(topic_of(j), topic_of(last), "a decision leaves its topic");
            }
        }
    }
    assert!(p.topic_peakedness(0, 3) < p.topic_peakedness(1, 3));
    assert!(
        (p.topic_peakedness(1, 3) - 1.0).abs() < 1e-12,
        "the middle topic"
    );
    assert!((p.topic_peakedness(2, 3) - (2.0_f64 / 3.0).exp()).abs() < 1e-12);
    // One topic is the open world, whatever the spread says.
    let one = PhraseParams {
        topic_spread: 1.0,
        ..params()
    };
    assert_eq!(generate(&one, 5), generate(&params(), 5));
}

#[test]
fn an_exact_share_makes_that_share_of_the_phrases_idioms() {
    let loose = PhraseParams {
        determinism: 0.8,
        ..params()
    };
    let mixed = PhraseParams {
        exact_share: 0.5,
        ..loose.clone()
    };
    let cut = phrases(&loose, &(1..40).collect::<Vec<_>>(), &mut phrase_rng(5));
    let (a, b) = (generate(&loose, 5), generate(&mixed, 5));
    let long: Vec<&Vec<usize>> = cut.iter().filter(|ph| ph.len() >= 2).collect();
    let exact = long
        .iter()
        .filter(|ph| (b[[ph[0], ph[1]]] - 0.99).abs() < 1e-12)
        .count();
    let kept = long
        .iter()
        .filter(|ph| (b[[ph[0], ph[1]]] - 0.99 * 0.8).abs() < 1e-12)
        .count();
    assert_eq!(exact + kept, long.len());
    assert!(exact > 0 && kept > 0, "{exact} exact, {kept} loose");
    let n = (0.5 * cut.len() as f64).round() as usize;
    assert_eq!(
        exact_phrases(&mixed, cut.len(), 5)
            .iter()
            .filter(|&&e| e)
            .count(),
        n
    );
    // Without the knob the loose world is what it was.
    assert_ne!(a, b);
    assert_eq!(generate(&loose, 5), a);
    for row in b.rows() {
        assert!((row.sum() - 1.0).abs() < 1e-12);
    }
}

#[test]
fn the_seed_alone_fixes_the_matrix() {
    assert_eq!(generate(&params(), 7), generate(&params(), 7));
    assert_ne!(generate(&params(), 7), generate(&params(), 8));
}

#[test]
fn a_forking_phrase_is_unsure_of_its_second_token_only() {
    let leak = PhraseParams {
        determinism: 0.9,
        ..params()
    };
    let fork = PhraseParams {
        fork: true,
        ..leak.clone()
    };
    let t = generate(&fork, 5);
    for row in t.rows() {
        assert!((row.sum() - 1.0).abs() < 1e-12, "{row}");
    }
    let cut = phrases(&fork, &(1..40).collect::<Vec<_>>(), &mut phrase_rng(5));
    let long: Vec<&Vec<usize>> = cut.iter().filter(|ph| ph.len() >= 3).collect();
    assert!(!long.is_empty());
    for ph in long {
        // The first token: its own second token, or a variant's second token; no decision.
        let out: Vec<(usize, f64)> = t
            .row(ph[0])
            .iter()
            .enumerate()
            .filter(|&(j, &x)| x > 0.0 && j != 0)
            .map(|(j, &x)| (j, x))
            .collect();
        assert_eq!(out.len(), 2, "{out:?}");
        assert!((t[[ph[0], ph[1]]] - 0.99 * 0.9).abs() < 1e-12);
        let (v, x) = *out.iter().find(|&&(j, _)| j != ph[1]).unwrap();
        assert!((x - 0.99 * 0.1).abs() < 1e-12);
        let host = cut.iter().find(|o| o.contains(&v)).unwrap();
        assert_eq!(host[1], v, "a fork goes to a variant's second token");
        // Past the fork the phrase is exact, so its confidence does not decay: the chain
        // reaches token j from the first with 0.9 x 0.99^j, not 0.9^j x 0.99^j.
        for w in ph[1..].windows(2) {
            assert!((t[[w[0], w[1]]] - 0.99).abs() < 1e-12);
        }
    }
    // The knob changes the world only through its loose phrases.
    assert_ne!(t, generate(&leak, 5));
    let exact = PhraseParams {
        fork: true,
        ..params()
    };
    assert_eq!(generate(&exact, 5), generate(&params(), 5));
}

//! The roofline's limits, each with its numbers worked out by hand for Dream-7B on an H200:
//! weights 7.61e9 x 2 B = 15.22 GB, read in 15.22e9 / 4.8e12 = 3.1708 ms; matmul parameters
//! 7.61e9 - 152,064 x 3,584 = 7.065e9, so 2 x 7.065e9 = 14.13 GFLOP per position, 14.29 us at
//! 989 TFLOP/s; K/V 2 x 28 x 4 x 128 x 2 B = 57,344 B per position; attention
//! 4 x 28 x 28 x 128 = 401,408 FLOP per (position, context) pair. The ridge is
//! 989e12 / 4.8e12 = 206 FLOP/byte, about 216 positions per group.

use super::profile::{hardware, model};
use super::*;

fn h200(tp: usize, bp: usize, protocol: KvProtocol, overhead: f64) -> SystemModel {
    let mut hw = hardware("h200").unwrap();
    hw.overhead = overhead;
    SystemModel::new(hw, model("dream-7b").unwrap(), tp, bp, protocol).unwrap()
}

fn loads(branches: usize, window: u32, cached: u32) -> Vec<BranchLoad> {
    vec![
        BranchLoad {
            processed: window,
            context: cached + window,
        };
        branches
    ]
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * b.abs()
}

#[test]
fn one_branch_with_a_small_window_is_memory_bound() {
    // 32 positions over 100 cached: FLOPs 32 x 14.13e9 + 401,408 x 32 x 132 = 453.86e9,
    // 0.4589 ms; bytes 15.22e9 + 57,344 x 132 = 15.2276e9, 3.1724 ms. Memory wins.
    let s = h200(1, 1, KvProtocol::TwoPhase, 1e-3);
    let c = s.round(&loads(1, 32, 100), 0);
    assert_eq!(c.compute, 0.0);
    assert!(close(c.memory, 3.1724e-3, 1e-4), "{}", c.memory);
    assert!(close(c.flops, 453.86e9, 1e-4), "{}", c.flops);
    assert_eq!(c.comm, 0.0, "one device talks to no one");
    assert!(close(c.total(), 4.1724e-3, 1e-4), "{}", c.total());
}

#[test]
fn more_branches_on_one_group_are_free_until_compute_binds() {
    // 32 positions per branch: compute 0.457 ms per branch against 3.17 ms of weights, so up
    // to 6 branches the weights read sets the time; 16 branches need 16 x 0.4589 = 7.34 ms.
    let s = h200(1, 1, KvProtocol::TwoPhase, 0.0);
    let t = |k: usize| s.round(&loads(k + 1, 32, 100), 0).total();
    assert!(close(t(0), 3.1724e-3, 1e-4));
    assert!(t(5) / t(0) < 1.01, "k = 5: {} vs {}", t(5), t(0));
    let k15 = s.round(&loads(16, 32, 100), 0);
    assert!(k15.compute > 0.0 && k15.memory == 0.0);
    assert!(
        close(k15.total(), 16.0 * 0.45891e-3, 1e-3),
        "{}",
        k15.total()
    );
    // Monotone in k throughout.
    assert!((0..20).all(|k| t(k + 1) >= t(k)));
}

#[test]
fn branch_groups_add_only_the_gather() {
    // BP8, 8 branches x 64 positions: each group one branch, memory-bound as alone; the
    // logits gather brings 7 x 64 x 152,064 x 2 B = 136.25 MB at 450 GB/s = 0.30277 ms, token
    // ids 3.6 KB (8 ns), plus 8 collectives x 15 us = 0.12 ms.
    let s = h200(1, 8, KvProtocol::OnePhase, 0.0);
    let alone = h200(1, 1, KvProtocol::OnePhase, 0.0).round(&loads(1, 64, 500), 0);
    let c = s.round(&loads(8, 64, 500), 0);
    assert_eq!(c.memory, alone.memory);
    assert!(close(c.comm, 0.42278e-3, 1e-4), "{}", c.comm);
    // Three branches on eight ranks: the idle five still take part in every collective (the
    // code pads its payloads with no-op tasks), so the gather is the same 7 shares.
    let few = s.round(&loads(3, 64, 500), 0);
    assert!(close(few.comm, 0.42278e-3, 1e-4), "{}", few.comm);
    // A single branch runs on rank 0 alone: no collectives.
    assert_eq!(s.round(&loads(1, 64, 500), 0).comm, 0.0);
}

#[test]
fn the_two_phase_commit_costs_two_broadcasts_per_layer() {
    // 32 committed positions: 56 broadcasts x 15 us = 0.84 ms, plus 32 x 57,344 B at
    // 450 GB/s = 4.08 us.
    let two = h200(1, 8, KvProtocol::TwoPhase, 0.0);
    let one = h200(1, 8, KvProtocol::OnePhase, 0.0);
    let l = loads(8, 64, 500);
    let extra = two.round(&l, 32).total() - one.round(&l, 32).total();
    assert!(close(extra, 0.84408e-3, 1e-4), "{extra}");
}

#[test]
fn one_phase_is_never_slower_than_two_phase() {
    for (tp, bp) in [(1, 1), (1, 4), (1, 8), (2, 4), (4, 2)] {
        let two = h200(tp, bp, KvProtocol::TwoPhase, 1e-3);
        let one = h200(tp, bp, KvProtocol::OnePhase, 1e-3);
        for branches in [1, 2, 5, 8, 15] {
            for window in [1, 32, 96, 300] {
                for committed in [0, 32, 64] {
                    let l = loads(branches, window, 700);
                    let (t1, t2) = (one.round(&l, committed), two.round(&l, committed));
                    assert!(t1.total() <= t2.total(), "{tp} {bp} {branches} {window}");
                }
            }
        }
    }
}

#[test]
fn tensor_parallelism_splits_the_weights_and_adds_all_reduces() {
    // TP4: a quarter of the weights per device (0.7927 ms) plus 56 all-reduces of
    // 32 x 3584 x 2 B = 229 KB: 56 x (15 us + 1.5 x 229,376 / 450e9) = 0.88282 ms.
    let s = h200(4, 1, KvProtocol::OnePhase, 0.0);
    let c = s.round(&loads(1, 32, 100), 0);
    let kv = 57_344.0 / 4.0 * 132.0;
    assert!(close(c.memory, (15.22e9 / 4.0 + kv) / 4.8e12, 1e-9));
    assert!(close(c.comm, 0.88282e-3, 1e-4), "{}", c.comm);
}

#[test]
fn the_meter_skips_the_prefill_and_charges_commits() {
    let s = h200(1, 8, KvProtocol::TwoPhase, 1e-3);
    let mut m = LatencyMeter::default();
    m.round(&s, &loads(1, 32, 10)); // prefill, not timed
    m.round(&s, &loads(8, 64, 10)); // nothing cached yet
    m.round(&s, &loads(8, 32, 42)); // one block of 32 was cached: charged here
    let l = m.latency();
    assert_eq!(l.timed_rounds, 2);
    let expect = s.round(&loads(8, 64, 10), 0).total() + s.round(&loads(8, 32, 42), 32).total();
    assert!(close(l.total_s(), expect, 1e-12));
    assert!(close(l.overhead_s, 2e-3, 1e-12));
    m.reset();
    assert_eq!(m.latency(), Default::default());
}

#[test]
fn bad_layouts_and_figures_name_their_key() {
    let hw = || hardware("h200").unwrap();
    let dream = || model("dream-7b").unwrap();
    let key = |hw, m, tp, bp| SystemModel::new(hw, m, tp, bp, KvProtocol::TwoPhase).unwrap_err();
    let e = key(hw(), dream(), 1, 0);
    assert_eq!(e.key, "system.bp");
    let e = key(hw(), dream(), 3, 1);
    assert_eq!(e.key, "system.tp");
    assert!(e.message.contains("1, 2, 4, 7, 14, 28"), "{}", e.message);
    let e = key(hw(), dream(), 4, 4);
    assert!(
        e.key == "system.bp" && e.message.contains("16 devices"),
        "{e:?}"
    );
    for bw in [0.0, -1.0, f64::NAN] {
        let e = key(
            Hardware {
                mem_bandwidth: bw,
                ..hw()
            },
            dream(),
            1,
            1,
        );
        assert_eq!(e.key, "system.mem_bandwidth_gbs");
    }
    let e = key(
        Hardware {
            link_bandwidth: -5.0,
            ..hw()
        },
        dream(),
        1,
        1,
    );
    assert_eq!(e.key, "system.link_bandwidth_gbs");
}

#[test]
fn describe_round_names_the_bound() {
    let s = h200(1, 8, KvProtocol::TwoPhase, 1e-3);
    let text = describe_round(&s, 32, 7, 600);
    assert!(text.contains("h200 TP1 BP8 two_phase"), "{text}");
    assert!(text.contains("bound          memory"), "{text}");
    let wide = describe_round(&h200(1, 1, KvProtocol::TwoPhase, 1e-3), 256, 15, 600);
    assert!(wide.contains("bound          compute"), "{wide}");
}

use super::profile::Hardware;

//! The hot loop: one sequence decoded by the Markov oracle under d2f, without and with
//! LoPA lookahead branches, and one verification pass over a full window.

use std::hint::black_box;
use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion};
use lopa_sim::cli::prepare;
use lopa_sim::engine::Workspace;

fn decode(c: &mut Criterion) {
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/paper-gsm8k.toml");
    for k in [0usize, 4, 14] {
        let sets = [format!("search.branches={k}"), "sweep={}".to_string()];
        let (s, resolved) = prepare(&scenario, &sets).expect("scenario loads");
        let setup = s.setups(&resolved).expect("setup builds").remove(0);
        let mut ws = Workspace::default();
        // Warm the shared matrix-power cache outside the measurement.
        let _ = setup.decode(0, &mut ws);
        c.bench_function(&format!("decode_gsm8k_L512_k{k}"), |b| {
            let mut seq = 0;
            b.iter(|| {
                seq = (seq + 1) % 16;
                black_box(setup.decode(seq, &mut ws).expect("decodes"))
            })
        });
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).warm_up_time(std::time::Duration::from_millis(500)).measurement_time(std::time::Duration::from_secs(2));
    targets = decode
}
criterion_main!(benches);

//! The journal's line format, torn lines and resumption.

use super::*;

fn record() -> DecodeRecord {
    DecodeRecord {
        rounds: 7,
        tokens: 32,
        content_tokens: 30,
        branch_evals: 21,
        branch_tokens: 400,
        lookahead_wins: 3,
        distinct2: Some(0.1 + 0.2),
        quality: Quality {
            invalid_transitions: Some(1),
            log_likelihood: Some(-12.345_678_901_234_567),
            matches_greedy: Some(false),
            plan_consistent: None,
            token_errors: None,
        },
        latency: Some(Latency {
            timed_rounds: 6,
            compute_s: 1e-300,
            memory_s: f64::MIN_POSITIVE,
            comm_s: 0.0,
            overhead_s: 3.5,
        }),
    }
}

#[test]
fn a_line_reads_back_exactly_and_damage_is_caught() {
    let mut bins = ProgressBins::default();
    bins.rounds[3] = 5;
    bins.tokens[19] = 11;
    let line = encode(42, &record(), &bins);
    assert!(line.ends_with('\n'));
    let (task, r, b) = decode(line.trim_end()).unwrap();
    assert_eq!((task, &r, &b), (42, &record(), &bins));
    let bare = DecodeRecord::default();
    let line2 = encode(0, &bare, &ProgressBins::default());
    assert_eq!(decode(line2.trim_end()).unwrap().1, bare);
    let damaged = line.replacen("7", "8", 1);
    assert!(decode(damaged.trim_end()).is_none());
    assert!(decode(&line[..line.len() / 2]).is_none());
}

#[test]
fn a_torn_last_line_is_dropped_and_cut_on_resume() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(FILE);
    let id = Identity {
        version: "v".into(),
        scenario: "s".into(),
        hash: "h".into(),
        seed: 1,
        shard: (1, 1),
        tasks: 3,
    };
    let j = Appender::create(&path, &id).unwrap();
    j.append(0, &record(), &ProgressBins::default());
    j.append(2, &record(), &ProgressBins::default());
    j.finish().unwrap();
    let whole = std::fs::read(&path).unwrap();
    // The process died in the middle of the third line.
    let torn = encode(1, &record(), &ProgressBins::default());
    let mut bytes = whole.clone();
    bytes.extend_from_slice(&torn.as_bytes()[..20]);
    std::fs::write(&path, &bytes).unwrap();
    let mut tasks = Vec::new();
    let c = read(&path, &mut |t, _, _| {
        tasks.push(t);
        Ok(())
    })
    .unwrap();
    assert_eq!((tasks, c.torn, c.identity), (vec![0, 2], true, id));
    assert_eq!(c.valid_len, whole.len() as u64);
    let j = Appender::resume(&path, c.valid_len).unwrap();
    j.append(1, &record(), &ProgressBins::default());
    j.finish().unwrap();
    let mut tasks = Vec::new();
    let c = read(&path, &mut |t, _, _| {
        tasks.push(t);
        Ok(())
    })
    .unwrap();
    assert_eq!((tasks, c.torn), (vec![0, 2, 1], false));
    // Damage before the last line is an error that names the line.
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replacen(" 7 ", " 9 ", 1)).unwrap();
    let e = read(&path, &mut |_, _, _| Ok(())).err().unwrap();
    assert!(format!("{e:#}").contains(":2: damaged"), "{e:#}");
}

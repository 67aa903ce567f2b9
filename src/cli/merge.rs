//! `lopa-sim merge`: the shard folders of one sweep into one results folder, with the same
//! bytes an unsharded run writes (the files are rebuilt from the journals by the code that
//! `run` uses).

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};

use crate::journal;
use crate::report;

use super::finish::{self, Collector, ShardFile, SHARD_FILE};
use super::progress::Progress;

/// Options of `lopa-sim merge`.
#[derive(Clone, Debug, Default)]
pub struct MergeOptions {
    /// The shard folders.
    pub dirs: Vec<PathBuf>,
    /// The results folder.
    pub out: PathBuf,
    /// Write into a folder that holds another scenario's results.
    pub force: bool,
    /// Print nothing but errors and warnings (a warning flags results that mislead).
    pub quiet: bool,
    /// `-v` count.
    pub verbose: u8,
}

/// Reads `dir/shard.json`.
fn description(dir: &std::path::Path) -> Result<ShardFile> {
    let path = dir.join(SHARD_FILE);
    if path.exists() {
        crate::input::check(&path, crate::input::RESULTS)
            .with_context(|| format!("cannot read {}", path.display()))?;
    }
    let bytes = std::fs::read(&path).with_context(|| {
        format!(
            "{} is not a finished shard: no {SHARD_FILE} (run `lopa-sim run SCENARIO --shard \
             I/N --out {}`, with --resume if it was interrupted)",
            dir.display(),
            dir.display()
        )
    })?;
    serde_json::from_slice(&bytes).with_context(|| format!("{} is damaged", path.display()))
}

/// `lopa-sim merge DIR... --out DIR`.
pub fn merge(opts: &MergeOptions) -> Result<()> {
    let shards: Vec<ShardFile> = opts
        .dirs
        .iter()
        .map(|d| description(d))
        .collect::<Result<_>>()?;
    let first = &shards[0];
    let (_, count) = first.identity.shard;
    if count == 0 || count > crate::sweep::MAX_SHARDS {
        bail!(
            "{} is shard {}/{count}: a shard count must be 1 to {}; the folder's shard.json is damaged",
            opts.dirs[0].display(),
            first.identity.shard.0,
            crate::sweep::MAX_SHARDS
        );
    }
    let mut by_index: Vec<Option<usize>> = vec![None; count];
    for (i, s) in shards.iter().enumerate() {
        let dir = opts.dirs[i].display();
        let want = journal::Identity {
            shard: s.identity.shard,
            ..first.identity.clone()
        };
        if let Some(diff) = s.identity.differs(&want) {
            bail!(
                "{dir} holds a shard of {diff} (the shard in {}); merge only the shards of one \
                 run",
                opts.dirs[0].display()
            );
        }
        // The header's hash was made from the description beside it; they disagree only
        // when the file was edited, and the merge reads the first shard's description.
        let described = s.meta.hash();
        if described != s.identity.hash {
            bail!(
                "{dir}/{SHARD_FILE} is damaged: its run description hashes to {described}, but \
                 its header records {}; run the shard again with `lopa-sim run ... --shard \
                 I/N --out {dir}`",
                s.identity.hash
            );
        }
        let (index, n) = s.identity.shard;
        if index == 0 || index > n {
            bail!("{dir} is shard {index}/{n}: its shard.json is damaged (I must be 1 to N)");
        }
        if n != count {
            bail!(
                "{dir} is shard {index}/{n}, but {} is shard {}/{count}: the shards of one \
                 sweep share their N",
                opts.dirs[0].display(),
                first.identity.shard.0
            );
        }
        if let Some(j) = by_index[index - 1].replace(i) {
            bail!(
                "{} and {dir} are both shard {index}/{count}; give each shard once",
                opts.dirs[j].display()
            );
        }
    }
    let missing: Vec<String> = (1..=count)
        .filter(|i| by_index[i - 1].is_none())
        .map(|i| format!("{i}/{count}"))
        .collect();
    if !missing.is_empty() {
        // The first few name the gap; a list of thousands would bury the message.
        let listed = match missing.len() {
            n if n <= 10 => missing.join(", "),
            n => format!("{} and {} more", missing[..10].join(", "), n - 10),
        };
        bail!(
            "shard {} of {} missing: merge needs all {count} shard folders (given {})",
            listed,
            first.meta.name,
            shards.len()
        );
    }

    // The merged files would land among a shard's own: the folder would then look like a
    // finished whole run while its shard.json says otherwise.
    if let Ok(out) = opts.out.canonicalize() {
        if let Some(dir) = opts
            .dirs
            .iter()
            .find(|d| d.canonicalize().is_ok_and(|d| d == out))
        {
            bail!(
                "--out {} is the shard folder {}; write the merged run to a folder of its own",
                opts.out.display(),
                dir.display()
            );
        }
    }
    let meta = &first.meta;
    super::outputs::claim(
        &opts.out,
        &meta.name,
        std::path::Path::new(&meta.file),
        opts.force,
    )?;
    super::interrupt::watch(&opts.out);
    let bar = Progress::new(
        meta.tasks() as u64,
        !opts.quiet && std::io::stderr().is_terminal(),
    );
    let mut collector = Collector::new(meta);
    for (s, dir) in shards.iter().zip(&opts.dirs) {
        let shard = crate::sweep::Shard {
            index: s.identity.shard.0,
            count,
        };
        let path = dir.join(journal::FILE);
        let before = collector.count;
        let contents = journal::read(&path, &mut |t, r, b| {
            if !shard.owns(t) {
                bail!("work item {t} is not shard {shard}'s");
            }
            bar.tick();
            collector.add(t, r, &b)
        })
        .with_context(|| format!("{}", path.display()))?;
        if contents.identity != s.identity {
            bail!(
                "{}: the journal is not the one {SHARD_FILE} describes",
                path.display()
            );
        }
        let got = collector.count - before;
        if got != shard.share(meta.tasks()) {
            bail!(
                "{} holds {got} of shard {shard}'s {} work items; finish it with `lopa-sim \
                 run ... --shard {shard} --resume --out {}`",
                path.display(),
                shard.share(meta.tasks()),
                dir.display()
            );
        }
    }
    bar.finish();
    let runs = collector.finish()?;
    let (summaries, written) =
        finish::write_results(&opts.out, meta, &runs, first.trace_csv.as_bytes())?;
    if opts.verbose > 0 {
        for path in &written {
            eprintln!("wrote {}", path.display());
        }
    }
    // A warning, so it is printed even with --quiet.
    if let Some(w) = report::repetitive_text(&runs, &summaries) {
        eprint!("{w}");
    }
    if !opts.quiet {
        super::stdout(&report::table(&runs, &summaries))?;
        super::stdout(&format!("results in {}\n", opts.out.display()))?;
    }
    Ok(())
}

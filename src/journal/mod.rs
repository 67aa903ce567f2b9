//! The journal of a run: one line per finished work item, appended as the sweep goes, so
//! that a run stopped by Ctrl-C, a crash or SIGKILL resumes where it stopped, and so that
//! the shards of a sweep can be merged. The final result files are always rebuilt from
//! journals, so a resumed run and a merge of shards give the bytes of one uninterrupted run.
//!
//! Format (`journal.txt`, text): a header line `lopa-sim-journal 1 {identity JSON}`, then
//! one line per work item: the task number, the record's fields (floats as the hex of their
//! bits, so they read back exactly; `-` for an absent value), the 40 progress-bin counts
//! and an FNV-1a checksum of the line. A last line without its newline or with a wrong
//! checksum is torn (the process died while writing it) and is discarded.

use std::fmt::Write as _;
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::record::{DecodeRecord, Latency, ProgressBins, Quality, PROGRESS_BINS};

mod identity;
pub use identity::Identity;

/// The journal's file name in a results folder.
pub const FILE: &str = "journal.txt";

const MAGIC: &str = "lopa-sim-journal 1 ";

/// The longest journal line read: a work item's line is a few hundred bytes, the header a
/// few hundred more.
const MAX_LINE: u64 = 1 << 20;

/// FNV-1a, 64 bits: a checksum for torn lines and a stable content hash (no dependency,
/// and the same on every platform and Rust version, unlike `DefaultHasher`).
pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn opt_u64(s: &mut String, v: Option<u64>) {
    match v {
        Some(x) => write!(s, " {x}"),
        None => write!(s, " -"),
    }
    .expect("writing to a String");
}

fn opt_f64(s: &mut String, v: Option<f64>) {
    opt_u64(s, v.map(f64::to_bits));
}

fn opt_bool(s: &mut String, v: Option<bool>) {
    opt_u64(s, v.map(u64::from));
}

/// One work item as a journal line, newline included.
pub fn encode(task: usize, r: &DecodeRecord, bins: &ProgressBins) -> String {
    let mut s = format!(
        "{task} {} {} {} {} {} {}",
        r.rounds, r.tokens, r.content_tokens, r.branch_evals, r.branch_tokens, r.lookahead_wins
    );
    opt_f64(&mut s, r.distinct2);
    let q = &r.quality;
    opt_u64(&mut s, q.invalid_transitions);
    opt_f64(&mut s, q.log_likelihood);
    opt_bool(&mut s, q.matches_greedy);
    opt_bool(&mut s, q.plan_consistent);
    opt_u64(&mut s, q.token_errors);
    match &r.latency {
        None => s.push_str(" -"),
        Some(l) => {
            let _ = write!(
                s,
                " {} {:x} {:x} {:x} {:x}",
                l.timed_rounds,
                l.compute_s.to_bits(),
                l.memory_s.to_bits(),
                l.comm_s.to_bits(),
                l.overhead_s.to_bits()
            );
        }
    }
    for x in bins.rounds.iter().chain(&bins.tokens) {
        let _ = write!(s, " {x}");
    }
    let sum = fnv1a(s.as_bytes());
    let _ = writeln!(s, " {sum:016x}");
    s
}

/// A line back into its work item; None when it is damaged.
pub fn decode(line: &str) -> Option<(usize, DecodeRecord, ProgressBins)> {
    let (body, sum) = line.rsplit_once(' ')?;
    if u64::from_str_radix(sum, 16).ok()? != fnv1a(body.as_bytes()) {
        return None;
    }
    let mut it = body.split(' ');
    let mut next = || it.next();
    let u = |s: Option<&str>| s?.parse::<u64>().ok();
    let opt = |s: Option<&str>| match s? {
        "-" => Some(None),
        x => x.parse::<u64>().ok().map(Some),
    };
    let f = |v: Option<u64>| v.map(f64::from_bits);
    let b = |v: Option<u64>| v.map(|x| x != 0);
    let task = usize::try_from(u(next())?).ok()?;
    let mut r = DecodeRecord {
        rounds: u(next())?,
        tokens: u(next())?,
        content_tokens: u(next())?,
        branch_evals: u(next())?,
        branch_tokens: u(next())?,
        lookahead_wins: u(next())?,
        distinct2: f(opt(next())?),
        quality: Quality {
            invalid_transitions: opt(next())?,
            log_likelihood: f(opt(next())?),
            matches_greedy: b(opt(next())?),
            plan_consistent: b(opt(next())?),
            token_errors: opt(next())?,
        },
        latency: None,
    };
    let first = next()?;
    if first != "-" {
        let hex = |s: Option<&str>| u64::from_str_radix(s?, 16).ok().map(f64::from_bits);
        r.latency = Some(Latency {
            timed_rounds: first.parse().ok()?,
            compute_s: hex(next())?,
            memory_s: hex(next())?,
            comm_s: hex(next())?,
            overhead_s: hex(next())?,
        });
    }
    let mut bins = ProgressBins::default();
    for x in bins.rounds.iter_mut() {
        *x = u(next())?;
    }
    for x in bins.tokens.iter_mut() {
        *x = u(next())?;
    }
    if next().is_some() {
        return None;
    }
    debug_assert_eq!(bins.rounds.len(), PROGRESS_BINS);
    Some((task, r, bins))
}

/// A journal read back.
pub struct Contents {
    /// Its header.
    pub identity: Identity,
    /// Bytes up to the end of the last whole line: a resumed run appends from here.
    pub valid_len: u64,
    /// Whether a torn last line was discarded.
    pub torn: bool,
}

/// Reads the journal at `path`, passing each whole work item to `item`. A damaged line
/// that is not the last is an error (the file was edited or the disk failed), naming the
/// line.
pub fn read(
    path: &Path,
    item: &mut dyn FnMut(usize, DecodeRecord, ProgressBins) -> Result<()>,
) -> Result<Contents> {
    // The type first: a FIFO would block the open, and a device would never end. A journal
    // has no size limit (it grows with the sweep), but each of its lines is short.
    crate::input::check(path, u64::MAX).with_context(|| {
        format!(
            "cannot read the journal {} (remove it, or write elsewhere with --out DIR)",
            path.display()
        )
    })?;
    let file = File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut reader = BufReader::new(file);
    let mut line = Vec::new();
    let mut valid_len = 0u64;
    let mut number = 0u64;
    let mut identity = None;
    let mut bad_line: Option<u64> = None;
    loop {
        line.clear();
        let n = (&mut reader)
            .take(MAX_LINE + 1)
            .read_until(b'\n', &mut line)
            .with_context(|| format!("cannot read {}", path.display()))?;
        if n == 0 {
            break;
        }
        number += 1;
        if n as u64 > MAX_LINE {
            bail!(
                "{}:{number}: a line longer than {MAX_LINE} bytes, which no journal holds; \
                 the file is damaged or not a journal, so remove it to start the run over",
                path.display()
            );
        }
        if let Some(at) = bad_line {
            bail!(
                "{}:{at}: damaged journal line (not the last one); remove the journal to start \
                 the run over",
                path.display()
            );
        }
        let whole = line.last() == Some(&b'\n');
        // A journal copied through an editor or a Windows share may end its lines in CRLF.
        let text = std::str::from_utf8(&line).ok().map(|t| {
            let t = t.strip_suffix('\n').unwrap_or(t);
            t.strip_suffix('\r').unwrap_or(t)
        });
        if identity.is_none() {
            let header = text
                .filter(|_| whole)
                .and_then(|t| t.strip_prefix(MAGIC))
                .and_then(|j| serde_json::from_str::<Identity>(j).ok());
            match header {
                Some(h) => identity = Some(h),
                None => bail!("{}:1: not a lopa-sim journal", path.display()),
            }
        } else {
            match text.filter(|_| whole).and_then(decode) {
                Some((task, record, bins)) => item(task, record, bins)?,
                None => {
                    bad_line = Some(number);
                    continue;
                }
            }
        }
        valid_len += n as u64;
    }
    Ok(Contents {
        identity: identity.with_context(|| format!("{} is empty", path.display()))?,
        valid_len,
        torn: bad_line.is_some(),
    })
}

/// Appends work items to a journal from many threads. Lines are buffered and written by
/// whole lines at most every [`FLUSH_EVERY`], so a kill loses at most that much work and
/// never leaves half a line behind, except when the operating system itself fails.
pub struct Appender {
    inner: Mutex<Inner>,
    path: PathBuf,
}

/// How much work a kill can lose.
pub const FLUSH_EVERY: Duration = Duration::from_millis(100);

struct Inner {
    file: File,
    buf: Vec<u8>,
    last: Instant,
    error: Option<io::Error>,
    written: usize,
    /// Test hook `LOPA_SIM_CRASH_AFTER=N`: abort the process, as a crash would, once N
    /// items have been journalled by this process.
    crash_after: Option<usize>,
}

impl Inner {
    fn flush(&mut self) {
        if self.error.is_none() && !self.buf.is_empty() {
            // One write of whole lines: a killed process leaves no partial line.
            if let Err(e) = self.file.write_all(&self.buf) {
                self.error = Some(e);
            }
        }
        self.buf.clear();
        self.last = Instant::now();
    }
}

impl Appender {
    /// Starts a new journal at `path` (replacing any old one) with `identity` as header.
    pub fn create(path: &Path, identity: &Identity) -> Result<Self> {
        // Creating over a FIFO would block until some reader opened it.
        if path.exists() {
            crate::input::check(path, u64::MAX).with_context(|| {
                format!("cannot create the journal {} (remove it)", path.display())
            })?;
        }
        let mut file = File::create(path)
            .with_context(|| format!("cannot create the journal {}", path.display()))?;
        let header = format!("{MAGIC}{}\n", serde_json::to_string(identity)?);
        file.write_all(header.as_bytes())
            .and_then(|()| file.sync_data())
            .with_context(|| format!("cannot write {}", path.display()))?;
        Ok(Self::wrap(file, path))
    }

    /// Continues the journal at `path`, cutting a torn last line (`valid_len` from [`read`]).
    pub fn resume(path: &Path, valid_len: u64) -> Result<Self> {
        let file = OpenOptions::new()
            .write(true)
            .open(path)
            .with_context(|| format!("cannot open {}", path.display()))?;
        file.set_len(valid_len)
            .with_context(|| format!("cannot repair {}", path.display()))?;
        drop(file);
        let file = OpenOptions::new()
            .append(true)
            .open(path)
            .with_context(|| format!("cannot open {}", path.display()))?;
        Ok(Self::wrap(file, path))
    }

    fn wrap(file: File, path: &Path) -> Self {
        Appender {
            inner: Mutex::new(Inner {
                file,
                buf: Vec::with_capacity(1 << 16),
                last: Instant::now(),
                error: None,
                written: 0,
                crash_after: std::env::var("LOPA_SIM_CRASH_AFTER")
                    .ok()
                    .and_then(|v| v.parse().ok()),
            }),
            path: path.to_path_buf(),
        }
    }

    /// Records one finished work item.
    pub fn append(&self, task: usize, record: &DecodeRecord, bins: &ProgressBins) {
        let line = encode(task, record, bins);
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.buf.extend_from_slice(line.as_bytes());
        inner.written += 1;
        if inner.crash_after.is_some_and(|n| inner.written >= n) {
            inner.flush();
            std::process::abort();
        }
        if inner.buf.len() >= 1 << 16 || inner.last.elapsed() >= FLUSH_EVERY {
            inner.flush();
        }
    }

    /// Writes what is buffered and syncs the file; reports the first write error.
    pub fn finish(&self) -> Result<()> {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.flush();
        if let Some(e) = inner.error.take() {
            return Err(e).with_context(|| format!("cannot write {}", self.path.display()));
        }
        inner
            .file
            .sync_data()
            .with_context(|| format!("cannot write {}", self.path.display()))
    }
}

#[cfg(test)]
mod tests;

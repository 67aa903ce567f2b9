//! Opening input files without blocking or reading forever: the file type is checked before
//! the file is opened (opening a FIFO waits for a writer that may never come, and a device
//! such as `/dev/zero` never ends), and the size before it is read.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

/// The most a scenario file, a manifest or a journal line may hold: far more than any
/// written by hand or by a run.
pub const SMALL: u64 = 256 << 20;

/// The most a results folder's file or a `shard.json` may hold; they grow with the
/// configurations (100 000 at most, a few KiB each in `summary.json`).
pub const RESULTS: u64 = 1 << 30;

/// The most a model CSV may hold: a dense 8192 x 8192 matrix at full precision, whose
/// model would already take half a GiB.
pub const MATRIX: u64 = 2 << 30;

/// Checks, without opening it, that `path` is a regular file (symlinks followed) of at most
/// `cap` bytes. The error says what the path is instead and what is expected; callers
/// name the path.
pub fn check(path: &Path, cap: u64) -> io::Result<()> {
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("it is {}, not a regular file", file_kind(&meta.file_type())),
        ));
    }
    if meta.len() > cap {
        return Err(too_large(meta.len(), cap));
    }
    Ok(())
}

/// Checks that `path`, when it exists, is a folder (symlinks followed): a results folder
/// given as a file would otherwise fail with the system's "File exists" or "Not a
/// directory", which do not say what is wrong.
pub fn check_folder(path: &Path) -> io::Result<()> {
    match std::fs::metadata(path) {
        Ok(meta) if !meta.is_dir() => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "{} is {}, not a folder",
                path.display(),
                if meta.is_file() {
                    "a file"
                } else {
                    file_kind(&meta.file_type())
                }
            ),
        )),
        _ => Ok(()),
    }
}

/// The bytes of `path`, after [`check`]. Reads at most `cap` bytes even when the file grows
/// meanwhile (or its size was not known, as for some virtual files).
pub fn read(path: &Path, cap: u64) -> io::Result<Vec<u8>> {
    check(path, cap)?;
    let mut bytes = Vec::new();
    File::open(path)?.take(cap + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > cap {
        return Err(too_large(bytes.len() as u64, cap));
    }
    Ok(bytes)
}

/// Like [`read`], as UTF-8 text.
pub fn read_to_string(path: &Path, cap: u64) -> io::Result<String> {
    String::from_utf8(read(path, cap)?)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("not UTF-8 text: {e}")))
}

fn too_large(len: u64, cap: u64) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!(
            "it holds {}, more than the {} a file of this kind may hold; is it the right file?",
            mib(len),
            mib(cap)
        ),
    )
}

fn mib(bytes: u64) -> String {
    format!("{} MiB", bytes.div_ceil(1 << 20))
}

/// What a file that is not a regular file is, in words.
pub fn file_kind(t: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if t.is_char_device() || t.is_block_device() {
            return "a device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    if t.is_dir() {
        "a folder"
    } else if t.is_symlink() {
        "a symbolic link"
    } else {
        "not a regular file"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_or_device_is_no_folder() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        std::fs::write(&file, b"x").unwrap();
        let e = check_folder(&file).unwrap_err().to_string();
        assert!(e.ends_with("f is a file, not a folder"), "{e}");
        let e = check_folder(Path::new("/dev/null"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("a device, not a folder"), "{e}");
        check_folder(dir.path()).unwrap();
        check_folder(&dir.path().join("missing")).unwrap();
    }

    #[test]
    fn folders_devices_and_large_files_are_refused_before_reading() {
        let dir = tempfile::tempdir().unwrap();
        let e = read(dir.path(), SMALL).unwrap_err().to_string();
        assert!(e.contains("it is a folder"), "{e}");
        let big = dir.path().join("big");
        File::create(&big).unwrap().set_len(SMALL + 1).unwrap();
        let e = read(&big, SMALL).unwrap_err().to_string();
        assert!(e.contains("257 MiB, more than the 256 MiB"), "{e}");
        let small = dir.path().join("small");
        std::fs::write(&small, "x = 1\n").unwrap();
        assert_eq!(read_to_string(&small, SMALL).unwrap(), "x = 1\n");
        #[cfg(unix)]
        {
            let e = read(Path::new("/dev/zero"), SMALL).unwrap_err().to_string();
            assert!(e.contains("it is a device"), "{e}");
        }
    }
}

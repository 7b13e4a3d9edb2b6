//! `--in-place`: rewrite files atomically, all or nothing.
//!
//! Every file's new text is first written to a temporary file in the same
//! directory (so the final rename stays on one filesystem), flushed to disk
//! and given the original's permissions. Only when every temporary file is
//! written are they renamed over the originals, so a failure (or a kill)
//! while writing leaves every file as it was; a kill during the renames
//! leaves each file either old or new, never partial.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// A file to replace and its new text.
pub struct Rewrite<'a> {
    pub path: &'a Path,
    pub text: &'a str,
}

/// Replace every file, or none. (Callers leave out files whose text did not
/// change, so those keep their inode and mtime.)
pub fn rewrite_all(rewrites: &[Rewrite]) -> io::Result<usize> {
    let mut staged: Vec<(PathBuf, &Path)> = Vec::new();
    let result = (|| {
        for r in rewrites {
            staged.push((stage(r.path, r.text)?, r.path));
        }
        Ok(())
    })();
    if let Err(e) = result {
        for (tmp, _) in &staged {
            let _ = fs::remove_file(tmp);
        }
        return Err(e);
    }
    for (i, (tmp, path)) in staged.iter().enumerate() {
        if let Err(e) = fs::rename(tmp, path) {
            for (tmp, _) in &staged[i..] {
                let _ = fs::remove_file(tmp);
            }
            return Err(io::Error::new(e.kind(), format!("{}: {e}", path.display())));
        }
    }
    // Make the renames themselves durable.
    for (_, path) in &staged {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            let _ = File::open(dir).and_then(|d| d.sync_all());
        }
    }
    Ok(staged.len())
}

/// Write `text` next to `path` under a temporary name, durable, with the
/// original's permissions. Returns the temporary path.
fn stage(path: &Path, text: &str) -> io::Result<PathBuf> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let perms = fs::metadata(path)?.permissions();
    for attempt in 0..100u32 {
        let tmp = dir.join(format!(".{name}.harden-{}-{attempt}.tmp", std::process::id()));
        let mut file = match OpenOptions::new().write(true).create_new(true).open(&tmp) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(io::Error::new(e.kind(), format!("{}: {e}", tmp.display()))),
        };
        let written = file
            .write_all(text.as_bytes())
            .and_then(|_| file.sync_all())
            .and_then(|_| fs::set_permissions(&tmp, perms.clone()));
        if let Err(e) = written {
            let _ = fs::remove_file(&tmp);
            return Err(io::Error::new(e.kind(), format!("{}: {e}", tmp.display())));
        }
        return Ok(tmp);
    }
    Err(io::Error::new(io::ErrorKind::AlreadyExists, format!("{}: no free temporary name", dir.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrites_every_file_and_keeps_modes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = dir.path().join("a.yaml");
        let b = dir.path().join("b.yaml");
        fs::write(&a, "old a").expect("write");
        fs::write(&b, "old b").expect("write");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&a, fs::Permissions::from_mode(0o640)).expect("chmod");
        }
        let n = rewrite_all(&[Rewrite { path: &a, text: "new a" }, Rewrite { path: &b, text: "new b" }]).expect("ok");
        assert_eq!(n, 2);
        assert_eq!(fs::read_to_string(&a).expect("read"), "new a");
        assert_eq!(fs::read_to_string(&b).expect("read"), "new b");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(fs::metadata(&a).expect("meta").permissions().mode() & 0o777, 0o640);
        }
        assert_eq!(fs::read_dir(dir.path()).expect("ls").count(), 2, "no temporary file left behind");
    }

    #[test]
    fn a_failure_before_the_renames_changes_nothing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = dir.path().join("a.yaml");
        fs::write(&a, "old a").expect("write");
        let missing = dir.path().join("gone/b.yaml");
        let err = rewrite_all(&[Rewrite { path: &a, text: "new a" }, Rewrite { path: &missing, text: "x" }]);
        assert!(err.is_err());
        assert_eq!(fs::read_to_string(&a).expect("read"), "old a");
        assert_eq!(fs::read_dir(dir.path()).expect("ls").count(), 1, "the staged copy of a.yaml was removed");
    }
}

//! Manifests and config blobs on disk, keyed by digest
//! (`DIR/sha256/<hex>`). Content-addressed, so an entry never goes stale: it
//! is read back only when its bytes still hash to its name (a torn or edited
//! file is ignored, then refetched and replaced), and written whole through a
//! temporary file renamed into place.

use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};

pub struct Cache {
    dir: PathBuf,
}

impl Cache {
    pub fn new(dir: &Path) -> Self {
        Self { dir: dir.to_path_buf() }
    }

    /// The bytes filed under `digest`, if they still hash to it.
    pub fn get(&self, digest: &str) -> Option<Vec<u8>> {
        let bytes = std::fs::read(self.path(digest)?).ok()?;
        (sha256_digest(&bytes) == digest).then_some(bytes)
    }

    /// Files `bytes` under their own digest. The cache only saves time, so a
    /// directory that cannot be written is no error: the next run refetches.
    pub fn put(&self, bytes: &[u8]) {
        let Some(path) = self.path(&sha256_digest(bytes)) else { return };
        let Some(dir) = path.parent() else { return };
        let written = std::fs::create_dir_all(dir).and_then(|()| {
            let mut file = tempfile::NamedTempFile::new_in(dir)?;
            file.write_all(bytes)?;
            file.persist(&path).map_err(|e| e.error)?;
            Ok(())
        });
        drop(written);
    }

    fn path(&self, digest: &str) -> Option<PathBuf> {
        let hex = digest.strip_prefix("sha256:")?;
        // Digests from a registry are checked before they name a file.
        let plain = hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit());
        plain.then(|| self.dir.join("sha256").join(hex))
    }
}

/// `sha256:<hex>` of `bytes`.
pub fn sha256_digest(bytes: &[u8]) -> String {
    let hash = Sha256::digest(bytes);
    let mut text = String::with_capacity(7 + 64);
    text.push_str("sha256:");
    for byte in hash {
        text.push_str(&format!("{byte:02x}"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_are_sha256_of_the_bytes() {
        assert_eq!(sha256_digest(b""), "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    }

    #[test]
    fn an_entry_comes_back_by_its_digest() {
        let dir = tempfile::tempdir().expect("temp dir");
        let cache = Cache::new(dir.path());
        let digest = sha256_digest(b"{\"config\": {}}");
        assert_eq!(cache.get(&digest), None);
        cache.put(b"{\"config\": {}}");
        assert_eq!(cache.get(&digest).as_deref(), Some(&b"{\"config\": {}}"[..]));
        let files: Vec<_> = std::fs::read_dir(dir.path().join("sha256")).expect("dir").collect();
        assert_eq!(files.len(), 1, "no temporary file is left behind");
    }

    #[test]
    fn a_corrupt_entry_is_ignored_and_replaced() {
        let dir = tempfile::tempdir().expect("temp dir");
        let cache = Cache::new(dir.path());
        cache.put(b"original");
        let digest = sha256_digest(b"original");
        let file = dir.path().join("sha256").join(&digest["sha256:".len()..]);
        std::fs::write(&file, b"origin").expect("truncate");
        assert_eq!(cache.get(&digest), None);
        cache.put(b"original");
        assert_eq!(cache.get(&digest).as_deref(), Some(&b"original"[..]));
    }

    #[test]
    fn digests_that_are_not_plain_sha256_name_no_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let cache = Cache::new(dir.path());
        assert_eq!(cache.get("sha256:../../etc/passwd"), None);
        assert_eq!(cache.get("sha512:00"), None);
    }
}

//! `harden install-to DIR`: copy the running binary into DIR. The container
//! image has no shell and no `cp`; an init container runs this to hand
//! harden to another container through a shared volume (examples/argocd).

use std::fs::{self, File, Permissions};
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Copy this executable to `DIR/harden` (DIR made if missing), mode 0755.
/// It is written under a temporary name and renamed: whoever runs
/// `DIR/harden` meanwhile finds the old binary or the new, never part of one.
pub fn install_to(dir: &Path) -> io::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    fs::create_dir_all(dir)?;
    let target = dir.join("harden");
    let mut tmp = tempfile::Builder::new().prefix(".harden-").tempfile_in(dir)?;
    io::copy(&mut File::open(&exe)?, tmp.as_file_mut())?;
    tmp.as_file().set_permissions(Permissions::from_mode(0o755))?;
    tmp.as_file().sync_all()?;
    tmp.persist(&target).map_err(|e| e.error)?;
    Ok(target)
}

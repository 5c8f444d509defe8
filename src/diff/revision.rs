//! The old tree of `diff --against REF`: a directory, or the proto root as
//! it was at a git revision.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::diag::{Diagnostic, Failure, Result};

/// The old proto root, ready to load. A tree read from git lives in a
/// temporary directory that is removed when this is dropped.
pub struct OldTree {
    pub root: PathBuf,
    /// How places in the old tree are printed: the directory, or
    /// `REV:path/of/the/root`.
    pub label: String,
    _scratch: Option<tempfile::TempDir>,
}

impl OldTree {
    /// Loads, builds and validates the old tree; its diagnostics name the
    /// revision, not the temporary directory.
    pub fn model(&self) -> Result<crate::model::Model> {
        crate::pipeline::model(&self.root).map_err(|f| match f {
            Failure::Input(ds) if self._scratch.is_some() => {
                let root = self.root.display().to_string();
                let relabel =
                    |d: Diagnostic| Diagnostic { place: d.place.map(|p| p.replacen(&root, &self.label, 1)), ..d };
                Failure::Input(ds.into_iter().map(relabel).collect())
            }
            other => other,
        })
    }
}

/// Finds the old tree: `against` names a directory, or else a git revision
/// of the repository that holds `proto` (the new proto root), in which case
/// the `.proto` files under the same path are read with `git show`.
pub fn resolve(against: &str, proto: &Path) -> Result<OldTree> {
    let dir = Path::new(against);
    if dir.is_dir() {
        return Ok(OldTree { root: dir.to_path_buf(), label: against.to_string(), _scratch: None });
    }
    let bad = |message: String| Failure::one(Diagnostic::new(message).element(format!("--against {against}")));
    if !proto.is_dir() {
        return Err(Failure::one(Diagnostic::new("the proto root is not a directory").at(proto.display().to_string())));
    }
    let prefix = git(proto, &["rev-parse", "--show-prefix"]).map_err(|e| {
        bad(format!("neither a directory nor a git revision: {} is not in a git repository ({e})", proto.display()))
    })?;
    let commit = git(proto, &["rev-parse", "--verify", "--quiet", &format!("{against}^{{commit}}")])
        .map_err(|_| bad("neither a directory nor a git revision of this repository".into()))?;
    let prefix = prefix.trim_end_matches('/');
    let tree = if prefix.is_empty() { commit.clone() } else { format!("{commit}:{prefix}") };
    let listing = git(proto, &["ls-tree", "-r", "-z", "--full-tree", "--name-only", &tree])
        .map_err(|_| bad(format!("the revision has no directory `{prefix}`")))?;
    let scratch = tempfile::Builder::new().prefix("mm-bindgen-diff-").tempdir().map_err(anyhow::Error::from)?;
    let mut count = 0;
    for name in listing.split('\0').filter(|n| n.ends_with(".proto")) {
        let bytes = git_bytes(
            proto,
            &["show", &format!("{commit}:{prefix}{}{name}", if prefix.is_empty() { "" } else { "/" })],
        )
        .map_err(|e| bad(format!("reading {name}: {e}")))?;
        let path = scratch.path().join(name);
        std::fs::create_dir_all(path.parent().expect("a file has a parent")).map_err(anyhow::Error::from)?;
        std::fs::write(&path, bytes).map_err(anyhow::Error::from)?;
        count += 1;
    }
    if count == 0 {
        return Err(bad(format!("the revision has no .proto files under `{prefix}`")));
    }
    let label = if prefix.is_empty() { format!("{against}:") } else { format!("{against}:{prefix}") };
    Ok(OldTree { root: scratch.path().to_path_buf(), label, _scratch: Some(scratch) })
}

fn git(dir: &Path, args: &[&str]) -> std::result::Result<String, String> {
    let bytes = git_bytes(dir, args)?;
    Ok(String::from_utf8_lossy(&bytes).trim_end_matches('\n').to_string())
}

fn git_bytes(dir: &Path, args: &[&str]) -> std::result::Result<Vec<u8>, String> {
    let out = Command::new("git").args(args).current_dir(dir).output().map_err(|e| format!("cannot run git: {e}"))?;
    if out.status.success() { Ok(out.stdout) } else { Err(String::from_utf8_lossy(&out.stderr).trim().to_string()) }
}

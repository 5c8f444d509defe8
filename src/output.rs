//! Stage 6, write or check: the rendered tree against the output directory.
//!
//! mm-bindgen owns exactly the files in the output directory whose first
//! lines carry the generated-code marker. `generate` writes the files whose
//! bytes differ and deletes owned files it no longer produces; `check` only
//! reports. Files without the marker are never touched.

use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::Context as _;

use crate::lower::GENERATED_MARKER;

/// How far into a file the marker is looked for.
const MARKER_WINDOW: usize = 1024;

/// One difference between the rendered tree and the output directory.
#[derive(Debug, PartialEq, Eq)]
pub enum Change {
    /// Produced, absent on disk.
    Missing { path: String },
    /// Produced, on disk with other bytes.
    Changed { path: String, old: Vec<u8> },
    /// Owned on disk, no longer produced.
    Stale { path: String, old: Vec<u8> },
}

impl Change {
    pub fn path(&self) -> &str {
        match self {
            Change::Missing { path } | Change::Changed { path, .. } | Change::Stale { path, .. } => path,
        }
    }
}

/// Compares the rendered files with `out`.
pub fn plan(out: &Path, rendered: &BTreeMap<String, String>) -> anyhow::Result<Vec<Change>> {
    let mut changes = Vec::new();
    for (path, text) in rendered {
        match fs::read(out.join(path)) {
            Ok(old) if old == text.as_bytes() => {}
            Ok(old) => changes.push(Change::Changed { path: path.clone(), old }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => changes.push(Change::Missing { path: path.clone() }),
            Err(e) => return Err(e).with_context(|| format!("reading {}", out.join(path).display())),
        }
    }
    for path in owned_files(out)? {
        if !rendered.contains_key(&path) {
            let old = fs::read(out.join(&path)).with_context(|| format!("reading {path}"))?;
            changes.push(Change::Stale { path, old });
        }
    }
    changes.sort_by(|a, b| a.path().cmp(b.path()));
    Ok(changes)
}

/// Applies the plan: writes missing and changed files (through a temporary
/// file and a rename, so a file is never half-written), deletes stale ones.
pub fn apply(out: &Path, rendered: &BTreeMap<String, String>, changes: &[Change]) -> anyhow::Result<()> {
    for change in changes {
        let target = out.join(change.path());
        match change {
            Change::Missing { path } | Change::Changed { path, .. } => {
                let dir = target.parent().expect("output files live in a directory");
                fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
                let tmp = temp_path(&target);
                fs::write(&tmp, &rendered[path]).with_context(|| format!("writing {}", tmp.display()))?;
                fs::rename(&tmp, &target).with_context(|| format!("replacing {}", target.display()))?;
            }
            Change::Stale { .. } => {
                fs::remove_file(&target).with_context(|| format!("deleting {}", target.display()))?;
                remove_empty_parents(out, &target);
            }
        }
    }
    Ok(())
}

fn temp_path(target: &Path) -> PathBuf {
    let mut name = target.file_name().expect("a file").to_os_string();
    name.push(".mm-bindgen-tmp");
    target.with_file_name(name)
}

/// Removes directories left empty by deleting a stale file, up to `out`.
fn remove_empty_parents(out: &Path, file: &Path) {
    let mut dir = file.parent();
    while let Some(d) = dir {
        if d == out || fs::remove_dir(d).is_err() {
            break;
        }
        dir = d.parent();
    }
}

/// The files under `out` that carry the marker, as `/`-separated relative paths.
pub fn owned_files(out: &Path) -> anyhow::Result<Vec<String>> {
    let mut owned = Vec::new();
    if !out.exists() {
        return Ok(owned);
    }
    for entry in walkdir::WalkDir::new(out).sort_by_file_name() {
        let entry = entry.with_context(|| format!("reading {}", out.display()))?;
        if !entry.file_type().is_file() {
            continue;
        }
        let mut head = Vec::with_capacity(MARKER_WINDOW);
        fs::File::open(entry.path())
            .and_then(|f| f.take(MARKER_WINDOW as u64).read_to_end(&mut head))
            .with_context(|| format!("reading {}", entry.path().display()))?;
        if contains(&head, GENERATED_MARKER.as_bytes()) {
            let rel = entry.path().strip_prefix(out).expect("under out");
            owned.push(rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/"));
        }
    }
    Ok(owned)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// A unified diff of one change, `a/` being the directory and `b/` the
/// rendered output.
pub fn diff(change: &Change, rendered: &BTreeMap<String, String>) -> String {
    let path = change.path();
    let (old, new) = match change {
        Change::Missing { .. } => (String::new(), rendered[path].clone()),
        Change::Changed { old, .. } => (String::from_utf8_lossy(old).into_owned(), rendered[path].clone()),
        Change::Stale { old, .. } => (String::from_utf8_lossy(old).into_owned(), String::new()),
    };
    similar::TextDiff::from_lines(&old, &new)
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{path}"), &format!("b/{path}"))
        .to_string()
}

/// The one-line summary of a change.
pub fn summary(change: &Change) -> String {
    match change {
        Change::Missing { path } => format!("missing: {path} (would be created)"),
        Change::Changed { path, .. } => format!("changed: {path}"),
        Change::Stale { path, .. } => format!("stale:   {path} (owned, no longer produced; would be deleted)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[(&str, &str)]) -> BTreeMap<String, String> {
        files.iter().map(|(p, t)| (p.to_string(), t.to_string())).collect()
    }

    #[test]
    fn plan_apply_and_ownership() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path();
        let marked = |body: &str| format!("// {GENERATED_MARKER}\n{body}\n");
        let first = tree(&[("a/one.txt", &marked("1")), ("two.txt", &marked("2"))]);
        let changes = plan(out, &first).unwrap();
        assert_eq!(changes.len(), 2);
        apply(out, &first, &changes).unwrap();
        assert!(plan(out, &first).unwrap().is_empty());

        fs::write(out.join("mine.txt"), "hand-written\n").unwrap();
        let second = tree(&[("two.txt", &marked("2 changed"))]);
        let changes = plan(out, &second).unwrap();
        let kinds: Vec<String> = changes.iter().map(summary).collect();
        assert_eq!(kinds, ["stale:   a/one.txt (owned, no longer produced; would be deleted)", "changed: two.txt"]);
        assert!(diff(&changes[1], &second).contains("+2 changed"));
        apply(out, &second, &changes).unwrap();
        assert!(!out.join("a").exists(), "emptied directories are removed");
        assert_eq!(fs::read_to_string(out.join("mine.txt")).unwrap(), "hand-written\n");
        assert_eq!(owned_files(out).unwrap(), ["two.txt"]);
    }
}

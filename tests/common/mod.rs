//! Helpers the integration tests share. Each test crate uses some of them.
#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};

/// Copies every file under `from` into `to`, creating directories.
pub fn copy_tree(from: &Path, to: &Path) {
    copy_files(from, to, |_| true);
}

/// Copies the `.proto` files of `from` into `to`; returns their copies, in
/// file-name order.
pub fn copy_protos(from: &Path, to: &Path) -> Vec<PathBuf> {
    copy_files(from, to, |p| p.extension().is_some_and(|x| x == "proto"))
}

fn copy_files(from: &Path, to: &Path, keep: impl Fn(&Path) -> bool) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in walkdir::WalkDir::new(from).sort_by_file_name() {
        let entry = entry.unwrap();
        let target = to.join(entry.path().strip_prefix(from).unwrap());
        if entry.file_type().is_dir() {
            fs::create_dir_all(&target).unwrap();
        } else if keep(entry.path()) {
            fs::copy(entry.path(), &target).unwrap();
            files.push(target);
        }
    }
    files
}

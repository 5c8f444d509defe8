//! Source info lookups: where an element is declared and its comments.

use std::collections::HashMap;

use prost_reflect::FileDescriptor;

use crate::model::{Comments, Location};

/// The source info of one file, indexed by descriptor path.
pub struct SourceInfo {
    file: String,
    by_path: HashMap<Vec<i32>, (Location, Comments)>,
}

impl SourceInfo {
    pub fn new(file: &FileDescriptor) -> Self {
        let name = file.name().to_string();
        let mut by_path = HashMap::new();
        if let Some(info) = &file.file_descriptor_proto().source_code_info {
            for loc in &info.location {
                // Several locations can share a path (e.g. repeated options);
                // the first is the declaration itself.
                by_path.entry(loc.path.clone()).or_insert_with(|| {
                    let location = Location {
                        file: name.clone(),
                        line: loc.span.first().map_or(0, |l| *l as u32 + 1),
                        column: loc.span.get(1).map_or(0, |c| *c as u32 + 1),
                    };
                    let comments = Comments {
                        leading: clean(loc.leading_comments.as_deref()),
                        trailing: clean(loc.trailing_comments.as_deref()),
                    };
                    (location, comments)
                });
            }
        }
        SourceInfo { file: name, by_path }
    }

    /// The location and comments of the element at `path`.
    pub fn get(&self, path: &[i32]) -> (Location, Comments) {
        match self.by_path.get(path) {
            Some((l, c)) => (l.clone(), c.clone()),
            None => (Location { file: self.file.clone(), line: 0, column: 0 }, Comments::default()),
        }
    }
}

/// Removes the single space that follows `//` on each line, normalises line
/// ends to LF and drops the final line end.
fn clean(raw: Option<&str>) -> String {
    let Some(raw) = raw else { return String::new() };
    let text = raw.replace("\r\n", "\n").replace('\r', "\n");
    let lines: Vec<&str> =
        text.strip_suffix('\n').unwrap_or(&text).split('\n').map(|l| l.strip_prefix(' ').unwrap_or(l)).collect();
    lines.join("\n").trim_end().to_string()
}

#[cfg(test)]
mod tests {
    use super::clean;

    #[test]
    fn comments_are_normalised() {
        assert_eq!(clean(Some(" one\r\n two\r\n")), "one\ntwo");
        assert_eq!(clean(Some("  indented\n")), " indented");
        assert_eq!(clean(Some(" trailing  \n\n")), "trailing");
        assert_eq!(clean(None), "");
    }
}

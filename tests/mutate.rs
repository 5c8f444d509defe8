//! A bounded fuzz test: real protos (the Plugin API tree and the golden
//! inputs) are mutated at the level of bytes and of tokens, a fixed number
//! of cases from a fixed seed, and the whole pipeline must either succeed or
//! report diagnostics that name a place or an element. A panic or an
//! internal error fails the test and prints the case number and the edit,
//! which replays with the same seed.

use std::fs;
use std::ops::Range;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use mm_bindgen::config::GoHome;
use mm_bindgen::diag::Failure;
use mm_bindgen::pipeline;
use mm_bindgen::render::Templates;

mod common;
use common::copy_protos;

const SEED: u64 = 0x6d6d_2d62_696e_6467;
const CASES: usize = 1000;

/// xorshift64*: small, deterministic, good enough to pick edits.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// The tokens of a proto source, roughly: words (identifiers, numbers,
/// dotted names), strings, comments, and single punctuation bytes;
/// whitespace is not a token.
fn tokens(src: &[u8]) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < src.len() {
        let start = i;
        let c = src[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        } else if c.is_ascii_alphanumeric() || c == b'_' || c == b'.' {
            while i < src.len() && (src[i].is_ascii_alphanumeric() || src[i] == b'_' || src[i] == b'.') {
                i += 1;
            }
        } else if c == b'"' || c == b'\'' {
            i += 1;
            while i < src.len() && src[i] != c && src[i] != b'\n' {
                i += if src[i] == b'\\' { 2 } else { 1 };
            }
            i = (i + 1).min(src.len());
        } else if src[i..].starts_with(b"//") {
            while i < src.len() && src[i] != b'\n' {
                i += 1;
            }
        } else {
            i += 1;
        }
        out.push(start..i);
    }
    out
}

/// Bytes worth inserting: the proto syntax, line ends, and bytes that are
/// not UTF-8 or not printable.
const INTERESTING: &[u8] = b"{}[]()<>;=,.\"'/*-\n\r\t\0\x7f\xff\xef\xbb\xbf0123456789";

/// Applies one random edit; returns its description.
fn mutate(src: &mut Vec<u8>, rng: &mut Rng) -> String {
    let toks = tokens(src);
    match rng.below(8) {
        0 if !src.is_empty() => {
            let at = rng.below(src.len());
            let b = rng.next() as u8;
            src[at] = b;
            format!("byte {at} set to {b:#04x}")
        }
        1 if !src.is_empty() => {
            let at = rng.below(src.len());
            let len = 1 + rng.below(8).min(src.len() - at - 1);
            src.drain(at..at + len);
            format!("bytes {at}..{} deleted", at + len)
        }
        2 => {
            let at = rng.below(src.len() + 1);
            let b = INTERESTING[rng.below(INTERESTING.len())];
            src.insert(at, b);
            format!("byte {b:#04x} inserted at {at}")
        }
        3 if !toks.is_empty() => {
            let t = toks[rng.below(toks.len())].clone();
            let desc = format!("token {:?} at {} deleted", String::from_utf8_lossy(&src[t.clone()]), t.start);
            src.drain(t);
            desc
        }
        4 if !toks.is_empty() => {
            let t = toks[rng.below(toks.len())].clone();
            let copy = src[t.clone()].to_vec();
            let desc = format!("token {:?} at {} doubled", String::from_utf8_lossy(&copy), t.start);
            src.splice(t.end..t.end, [b" ".as_slice(), &copy].concat());
            desc
        }
        5 if toks.len() > 1 => {
            let k = rng.below(toks.len() - 1);
            let (a, b) = (toks[k].clone(), toks[k + 1].clone());
            let swapped = [&src[b.clone()], &src[a.end..b.start], &src[a.clone()]].concat();
            let desc = format!(
                "tokens {:?} and {:?} at {} swapped",
                String::from_utf8_lossy(&src[a.clone()]),
                String::from_utf8_lossy(&src[b.clone()]),
                a.start
            );
            src.splice(a.start..b.end, swapped);
            desc
        }
        6 if toks.len() > 1 => {
            let t = toks[rng.below(toks.len())].clone();
            let other = src[toks[rng.below(toks.len())].clone()].to_vec();
            let desc = format!(
                "token {:?} at {} replaced by {:?}",
                String::from_utf8_lossy(&src[t.clone()]),
                t.start,
                String::from_utf8_lossy(&other)
            );
            src.splice(t, other);
            desc
        }
        _ => {
            // Truncate: an editor or a download cut the file short.
            let at = rng.below(src.len() + 1);
            src.truncate(at);
            format!("truncated at {at}")
        }
    }
}

/// Whether the pipeline rendered the tree (`Ok(true)`) or refused it with
/// diagnostics that each name a place or an element (`Ok(false)`); what is
/// wrong otherwise.
fn outcome(root: &Path) -> Result<bool, String> {
    let result = catch_unwind(AssertUnwindSafe(|| {
        pipeline::generate(root, Templates::Embedded, &[], Path::new("."), &GoHome::default())
    }));
    match result {
        Ok(Ok(_)) => Ok(true),
        Ok(Err(Failure::Input(ds))) => match ds.iter().find(|d| d.place.is_none() && d.element.is_none()) {
            Some(d) => Err(format!("a diagnostic names no place and no element: {d}")),
            None => Ok(false),
        },
        Ok(Err(other)) => Err(other.to_string()),
        Err(payload) => Err(format!(
            "panic: {}",
            payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default()
        )),
    }
}

#[test]
fn mutated_real_protos_never_panic() {
    let mut roots = vec![PathBuf::from("proto")];
    let mut golden: Vec<PathBuf> =
        fs::read_dir("tests/golden").unwrap().map(|e| e.unwrap().path().join("input")).filter(|p| p.is_dir()).collect();
    golden.sort();
    roots.extend(golden);
    let trees: Vec<(tempfile::TempDir, Vec<PathBuf>)> = roots
        .iter()
        .map(|r| {
            let dir = tempfile::tempdir().unwrap();
            let files = copy_protos(r, dir.path());
            (dir, files)
        })
        .collect();
    let mut rng = Rng(SEED);
    let mut failures = Vec::new();
    let (mut rendered, mut refused) = (0, 0);
    for case in 0..CASES {
        let (dir, files) = &trees[rng.below(trees.len())];
        let file = &files[rng.below(files.len())];
        let original = fs::read(file).unwrap();
        let mut text = original.clone();
        let edits: Vec<String> = (0..1 + rng.below(3)).map(|_| mutate(&mut text, &mut rng)).collect();
        fs::write(file, &text).unwrap();
        match outcome(dir.path()) {
            Ok(true) => rendered += 1,
            Ok(false) => refused += 1,
            Err(why) => failures.push(format!("case {case}: {}: {}: {why}", file.display(), edits.join("; "))),
        }
        fs::write(file, &original).unwrap();
    }
    assert!(failures.is_empty(), "{} of {CASES} cases misbehaved:\n{}", failures.len(), failures.join("\n"));
    // Both outcomes occur, so the edits reach past the parser.
    println!("{rendered} mutated trees rendered, {refused} refused with diagnostics");
    assert!(rendered > CASES / 20 && refused > CASES / 2, "{rendered} rendered, {refused} refused");
}

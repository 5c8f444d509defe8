//! Where the proto root, templates and output directory are: command-line
//! flags first, then an optional `mm-bindgen.toml` in the working directory,
//! then the defaults `proto/`, the embedded templates and `generated/`. The
//! file may also list protoc plugins to run (`[[plugins]]`, see
//! [`crate::plugins::Plugin`]).

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::diag::{Diagnostic, Failure, Result};
use crate::plugins::Plugin;

pub const CONFIG_FILE: &str = "mm-bindgen.toml";

/// The settings `mm-bindgen.toml` may hold; paths are relative to the file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub proto: Option<PathBuf>,
    pub templates: Option<PathBuf>,
    pub out: Option<PathBuf>,
    #[serde(default)]
    pub plugins: Vec<Plugin>,
}

/// The resolved settings.
#[derive(Debug)]
pub struct Config {
    pub proto: PathBuf,
    /// `None` means the templates embedded in the binary.
    pub templates: Option<PathBuf>,
    pub out: PathBuf,
    /// The protoc plugins to run, and the directory their commands run in.
    pub plugins: Vec<Plugin>,
    pub dir: PathBuf,
}

impl Config {
    /// Resolves the settings from the flags and the config file in `dir`.
    pub fn resolve(
        dir: &Path,
        proto: Option<PathBuf>,
        templates: Option<PathBuf>,
        out: Option<PathBuf>,
    ) -> Result<Config> {
        let file = read(dir)?;
        let rel = |p: PathBuf| if dir == Path::new(".") || p.is_absolute() { p } else { dir.join(p) };
        Ok(Config {
            proto: proto.or(file.proto.map(rel)).unwrap_or_else(|| PathBuf::from("proto")),
            templates: templates.or(file.templates.map(rel)),
            out: out.or(file.out.map(rel)).unwrap_or_else(|| PathBuf::from("generated")),
            plugins: file.plugins,
            dir: dir.to_path_buf(),
        })
    }
}

fn read(dir: &Path) -> Result<FileConfig> {
    let path = dir.join(CONFIG_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(FileConfig::default()),
        Err(e) => {
            return Err(Failure::one(Diagnostic::new(format!("cannot read: {e}")).at(path.display().to_string())));
        }
    };
    toml::from_str(&text).map_err(|e| {
        let mut d = Diagnostic::new(e.message().to_string());
        d = match e.span() {
            Some(span) => {
                let line = text[..span.start].matches('\n').count() + 1;
                let col = span.start - text[..span.start].rfind('\n').map_or(0, |i| i + 1) + 1;
                d.at(format!("{}:{line}:{col}", path.display()))
            }
            None => d.at(path.display().to_string()),
        };
        Failure::one(d)
    })
}

//! Where the proto root, templates and output directory are: command-line
//! flags first, then an optional `mm-bindgen.toml` in the working directory,
//! then the defaults `proto/`, the embedded templates and `generated/`. The
//! file may also list protoc plugins to run (`[[plugins]]`, see
//! [`crate::plugins::Plugin`]) and say where the Go code lives (`[go]`, see
//! [`GoHome`]).

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
    #[serde(default)]
    pub go: GoFile,
}

/// The `[go]` table as written; what is missing takes the default.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GoFile {
    pub module: Option<String>,
    pub messages: Option<String>,
    pub package: Option<String>,
}

/// Where the Go code lives: the module, the import path of the message
/// package (the `go_package` of the bridged protos, written by
/// protoc-gen-go) and the name of the bridge package, whose files go to
/// `go/<package>/` under the output directory beside `go/go.mod`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoHome {
    pub module: String,
    pub messages: String,
    pub package: String,
}

/// The module of the generated Go code when `[go]` does not name one.
pub const DEFAULT_GO_MODULE: &str = "mmbindgen.dev/generated/go";

impl Default for GoHome {
    fn default() -> Self {
        GoFile::default().resolve()
    }
}

impl GoFile {
    /// Fills in the defaults: the module `mmbindgen.dev/generated/go`, the
    /// messages in its `pluginpb` package, the bridge package `bridge`.
    pub fn resolve(self) -> GoHome {
        let module = self.module.unwrap_or_else(|| DEFAULT_GO_MODULE.to_string());
        GoHome {
            messages: self.messages.unwrap_or_else(|| format!("{module}/pluginpb")),
            package: self.package.unwrap_or_else(|| "bridge".to_string()),
            module,
        }
    }
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
    pub go: GoHome,
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
            go: file.go.resolve(),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_home_defaults_and_overrides() {
        assert_eq!(
            GoHome::default(),
            GoHome {
                module: "mmbindgen.dev/generated/go".into(),
                messages: "mmbindgen.dev/generated/go/pluginpb".into(),
                package: "bridge".into(),
            }
        );
        let file: FileConfig =
            toml::from_str("[go]\nmodule = \"example.com/server\"\npackage = \"pybridge\"\n").unwrap();
        let home = file.go.resolve();
        assert_eq!(home.messages, "example.com/server/pluginpb");
        assert_eq!(home.package, "pybridge");
        assert!(toml::from_str::<FileConfig>("[go]\nmodul = \"x\"\n").is_err());
    }
}

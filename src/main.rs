//! The `mm-bindgen` command line.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use mm_bindgen::config::Config;
use mm_bindgen::diag::{EXIT_DIFFERENCES, EXIT_OK, EXIT_TROUBLE, Failure, Result};
use mm_bindgen::model::Model;
use mm_bindgen::render::Templates;
use mm_bindgen::{output, pipeline};

/// Generates the Mattermost plugin gRPC bridge from the Plugin API protos.
///
/// Settings come from the flags, then from `mm-bindgen.toml` in the working
/// directory (keys `proto`, `templates`, `out`, paths relative to the file),
/// then from the defaults: `proto/`, the templates built into the binary, and
/// `generated/`.
///
/// Exit codes: 0 success (for `check`: the output is up to date); 1 `check`
/// found differences; 2 bad input (proto, options, templates, configuration)
/// or an internal error. Nothing is written unless every stage succeeded.
#[derive(Parser)]
#[command(name = "mm-bindgen", version, about, long_about)]
struct Cli {
    /// The proto root: every `.proto` file under it is an input [default: proto]
    #[arg(long, global = true, value_name = "DIR")]
    proto: Option<PathBuf>,
    /// Use the templates in DIR instead of the built-in ones
    #[arg(long, global = true, value_name = "DIR")]
    templates: Option<PathBuf>,
    /// The output directory [default: generated]
    #[arg(long, global = true, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Do not run the protoc plugins of mm-bindgen.toml; their files are then
    /// neither written nor checked, and left alone
    #[arg(long, global = true)]
    skip_plugins: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Render every output and update the output directory.
    ///
    /// Writes only the files whose bytes changed and deletes the files it owns
    /// (those whose header carries mm-bindgen's generated-code marker)
    /// that are no longer produced. Other files are never touched.
    Generate,
    /// Compare the output directory with what `generate` would write.
    ///
    /// Writes nothing. Prints a unified diff and a one-line summary per
    /// changed, missing or stale file; exits 1 if there is any difference.
    Check,
    /// Print the model: services, RPCs, hooks, messages and their options.
    List {
        /// Print the whole model as JSON (the format is described in the README).
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let code = match run(cli) {
        Ok(code) => code,
        Err(failure) => {
            eprintln!("{failure}");
            EXIT_TROUBLE
        }
    };
    ExitCode::from(code)
}

fn run(cli: Cli) -> Result<u8> {
    let mut config = Config::resolve(Path::new("."), cli.proto, cli.templates, cli.out)?;
    if cli.skip_plugins {
        config.plugins.clear();
    }
    let templates = || match &config.templates {
        Some(dir) => Templates::Dir(dir),
        None => Templates::Embedded,
    };
    let markers: Vec<String> = config.plugins.iter().map(|p| p.marker()).collect();
    let generate = || pipeline::generate(&config.proto, templates(), &config.plugins, &config.dir, &config.go);
    match cli.command {
        Command::Generate => {
            let rendered = generate()?;
            let changes = output::plan(&config.out, &rendered, &markers)?;
            output::apply(&config.out, &rendered, &changes)?;
            for change in &changes {
                eprintln!("{}", output::summary(change).replace("would be ", ""));
            }
            eprintln!("{} files rendered, {} updated in {}", rendered.len(), changes.len(), config.out.display());
            Ok(EXIT_OK)
        }
        Command::Check => {
            let rendered = generate()?;
            let changes = output::plan(&config.out, &rendered, &markers)?;
            let mut stdout = std::io::stdout().lock();
            for change in &changes {
                write!(stdout, "{}", output::diff(change, &rendered)).map_err(anyhow::Error::from)?;
            }
            for change in &changes {
                writeln!(stdout, "{}", output::summary(change)).map_err(anyhow::Error::from)?;
            }
            if changes.is_empty() {
                eprintln!("{}: {} files up to date", config.out.display(), rendered.len());
                Ok(EXIT_OK)
            } else {
                eprintln!(
                    "{}: {} of {} files differ; run `mm-bindgen generate`",
                    config.out.display(),
                    changes.len(),
                    rendered.len()
                );
                Ok(EXIT_DIFFERENCES)
            }
        }
        Command::List { json } => {
            let model = pipeline::model(&config.proto)?;
            let text = if json { to_json(&model)? } else { table(&model) };
            std::io::stdout().lock().write_all(text.as_bytes()).map_err(anyhow::Error::from)?;
            Ok(EXIT_OK)
        }
    }
}

fn to_json(model: &Model) -> Result<String> {
    let mut text = serde_json::to_string_pretty(model).map_err(|e| Failure::Internal(e.into()))?;
    text.push('\n');
    Ok(text)
}

/// The readable listing: one line per RPC, then counts.
fn table(model: &Model) -> String {
    let mut rows = vec![["SERVICE".to_string(), "RPC".into(), "STREAMING".into(), "MIN".into(), "TAGS".into()]];
    for s in &model.services {
        for m in &s.methods {
            rows.push([
                s.name.clone(),
                m.name.clone(),
                m.streaming.as_str().into(),
                m.min_server_version.clone(),
                m.tags.join(","),
            ]);
        }
    }
    let widths: Vec<usize> = (0..5).map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0)).collect();
    let mut out = String::new();
    for r in &rows {
        let line: Vec<String> = r.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    let rpcs: usize = model.services.iter().map(|s| s.methods.len()).sum();
    out.push_str(&format!(
        "\n{} services, {rpcs} RPCs, {} messages, {} enums in {} files\n",
        model.services.len(),
        model.messages.len(),
        model.enums.len(),
        model.files.len()
    ));
    out
}

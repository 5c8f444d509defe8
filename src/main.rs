//! The `mm-bindgen` command line.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

// Generation allocates many small strings and maps; mimalloc serves them
// faster than the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::{Parser, Subcommand};

use mm_bindgen::config::Config;
use mm_bindgen::diag::{EXIT_DIFFERENCES, EXIT_OK, EXIT_TROUBLE, ErrorFormat, Failure, Place, Result};
use mm_bindgen::model::Model;
use mm_bindgen::render::Templates;
use mm_bindgen::{diag, diff, output, pipeline, scaffold};

/// Generates the Mattermost plugin gRPC bridge from the Plugin API protos.
///
/// Settings come from the flags, then from `mm-bindgen.toml` in the working
/// directory (keys `proto`, `templates`, `out`, paths relative to the file),
/// then from the defaults: `proto/`, the templates built into the binary, and
/// `generated/`.
///
/// Exit codes: 0 success (for `check`: the output is up to date); 1 `check`
/// found differences; 2 bad input (proto, options, templates, configuration,
/// the directories of --proto and --out) or an internal error. Nothing is
/// written unless every stage succeeded, and a write that fails midway is
/// undone.
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
    /// How errors (and `check`'s stale files, `diff`'s breaking changes) are
    /// reported: `human`, `github` (workflow annotations at file:line:col)
    /// or `json` (one object per line)
    #[arg(long, global = true, value_enum, default_value_t = ErrorFormat::Human, value_name = "FORMAT")]
    error_format: ErrorFormat,
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
    /// Report the API change between another proto tree and this one.
    ///
    /// REF is a directory holding the old proto root, or a git revision of
    /// the repository that holds the proto root (the root's path is the same
    /// in both). Lists added, removed and changed services, RPCs, hooks,
    /// messages, fields, enums and options, each classified as breaking or
    /// compatible on the wire and in the generated source. Exits 1 when a
    /// change is breaking, unless `--allow-breaking`.
    Diff {
        /// The old tree: a directory or a git revision
        #[arg(long, value_name = "REF")]
        against: String,
        /// `markdown` (a pull-request comment) or `json` (schema in the README)
        #[arg(long, value_enum, default_value_t = DiffFormat::Markdown)]
        format: DiffFormat,
        /// Exit 0 even when a change is breaking
        #[arg(long)]
        allow_breaking: bool,
    },
    /// Draft the proto of the Go methods the proto lacks.
    ///
    /// Reads `plugin/api.go` and `plugin/hooks.go` (given as files, or the
    /// module version in the Go module cache) and appends to the services
    /// that mirror plugin.API and plugin.Hooks a draft RPC, with its request
    /// and response messages, for every method without one. Never changes an
    /// existing declaration; reports changed signatures, methods Go no
    /// longer has, and model structs that gained or lost fields (from
    /// `../model` next to `plugin/`). Exits 1 when something is reported for
    /// a person to decide, 0 otherwise.
    Scaffold {
        /// The newer `plugin/api.go`
        #[arg(long, value_name = "FILE", requires = "hooks", conflicts_with = "module")]
        api: Option<PathBuf>,
        /// The newer `plugin/hooks.go`
        #[arg(long, value_name = "FILE", requires = "api")]
        hooks: Option<PathBuf>,
        /// A version of github.com/mattermost/mattermost/server/public in the
        /// Go module cache, e.g. v0.4.4
        #[arg(long, value_name = "VERSION", required_unless_present = "api")]
        module: Option<String>,
        /// Print what would be drafted; write nothing
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum DiffFormat {
    Markdown,
    Json,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let format = cli.error_format;
    let code = match run(cli) {
        Ok(code) => code,
        Err(failure) => {
            eprintln!("{}", failure.render(format));
            EXIT_TROUBLE
        }
    };
    ExitCode::from(code)
}

fn run(cli: Cli) -> Result<u8> {
    let fix = fix_command(&cli);
    let format = cli.error_format;
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
            let (written, deleted) = (changes.len() - output::stale(&changes), output::stale(&changes));
            eprintln!(
                "{}: {} files rendered, {written} written, {deleted} deleted",
                config.out.display(),
                rendered.len()
            );
            Ok(EXIT_OK)
        }
        Command::Check => {
            let rendered = generate()?;
            let changes = output::plan(&config.out, &rendered, &markers)?;
            let mut stdout = std::io::stdout().lock();
            let mut text = String::new();
            if format == ErrorFormat::Github && !changes.is_empty() {
                text.push_str("::group::unified diff of the generated files\n");
            }
            if format != ErrorFormat::Json {
                for change in &changes {
                    text.push_str(&output::diff(change, &rendered));
                }
            }
            if format == ErrorFormat::Github && !changes.is_empty() {
                text.push_str("::endgroup::\n");
            }
            for change in &changes {
                text.push_str(&stale_file(format, &config.out, change, &fix));
                text.push('\n');
            }
            stdout.write_all(text.as_bytes()).or_else(closed_pipe)?;
            if changes.is_empty() {
                eprintln!("{}: {} files up to date", config.out.display(), rendered.len());
                Ok(EXIT_OK)
            } else {
                let stale = output::stale(&changes);
                eprintln!(
                    "{}: {} of {} rendered files differ, {stale} stale files; run `{fix}`",
                    config.out.display(),
                    changes.len() - stale,
                    rendered.len()
                );
                Ok(EXIT_DIFFERENCES)
            }
        }
        Command::List { json } => {
            let model = pipeline::model(&config.proto)?;
            let text = if json { to_json(&model)? } else { table(&model) };
            std::io::stdout().lock().write_all(text.as_bytes()).or_else(closed_pipe)?;
            Ok(EXIT_OK)
        }
        Command::Diff { against, format: diff_format, allow_breaking } => {
            let old_tree = diff::resolve(&against, &config.proto)?;
            let old = old_tree.model()?;
            let new = pipeline::model(&config.proto)?;
            let report = diff::compare(&old, &new, &against);
            let text = match diff_format {
                DiffFormat::Markdown => diff::markdown(&report),
                DiffFormat::Json => diff::json(&report),
            };
            std::io::stdout().lock().write_all(text.as_bytes()).or_else(closed_pipe)?;
            if format != ErrorFormat::Human {
                for c in report.changes.iter().filter(|c| c.breaking()) {
                    eprintln!("{}", breaking_change(format, &config.proto, c));
                }
            }
            let breaking = report.breaking();
            eprintln!("{} changes against {against}, {breaking} breaking", report.changes.len());
            Ok(if breaking > 0 && !allow_breaking { EXIT_DIFFERENCES } else { EXIT_OK })
        }
        Command::Scaffold { api, hooks, module, dry_run } => {
            let (api, hooks) = match (api, hooks, module) {
                (Some(api), Some(hooks), _) => (api, hooks),
                (_, _, Some(version)) => scaffold::module_files(&version)?,
                _ => unreachable!("clap requires --api and --hooks, or --module"),
            };
            let model = pipeline::model(&config.proto)?;
            let outcome = scaffold::plan(&model, &api, &hooks)?;
            if !dry_run {
                scaffold::apply(&config.proto, &outcome)?;
            }
            let mut text = String::new();
            let verb = if dry_run { "would draft" } else { "drafted" };
            for (element, file) in &outcome.drafted {
                text.push_str(&format!("{verb} {element} in {}\n", config.proto.join(file).display()));
            }
            for line in &outcome.review {
                text.push_str(&format!("review {line}\n"));
            }
            for line in &outcome.attention {
                text.push_str(&format!("check {line}\n"));
            }
            std::io::stdout().lock().write_all(text.as_bytes()).or_else(closed_pipe)?;
            eprintln!(
                "{} methods drafted, {} things to check; then run `mm-bindgen generate`",
                outcome.drafted.len(),
                outcome.attention.len()
            );
            Ok(if outcome.attention.is_empty() { EXIT_OK } else { EXIT_DIFFERENCES })
        }
    }
}

/// The command that brings the output directory up to date, with the flags
/// this run was given.
fn fix_command(cli: &Cli) -> String {
    let mut words = vec!["mm-bindgen".to_string()];
    let quote = |p: &Path| {
        let s = p.display().to_string();
        if s.chars().all(|c| c.is_ascii_alphanumeric() || "/._-".contains(c)) { s } else { format!("'{s}'") }
    };
    for (flag, value) in [("--proto", &cli.proto), ("--templates", &cli.templates), ("--out", &cli.out)] {
        if let Some(v) = value {
            words.push(format!("{flag} {}", quote(v)));
        }
    }
    if cli.skip_plugins {
        words.push("--skip-plugins".into());
    }
    words.push("generate".into());
    words.join(" ")
}

/// One line of `check`'s report about a file that differs.
fn stale_file(format: ErrorFormat, out: &Path, change: &output::Change, fix: &str) -> String {
    let path = match change {
        output::Change::Missing { path }
        | output::Change::Changed { path, .. }
        | output::Change::Stale { path, .. } => path,
    };
    let place = Place { file: out.join(path).display().to_string(), line: 0, column: 0 };
    let message = format!("{}; run `{fix}`", output::summary(change));
    match format {
        ErrorFormat::Human => message,
        ErrorFormat::Github => diag::github_command("error", &place, "generated file out of date", &message),
        ErrorFormat::Json => diag::json_line("error", &place, "", &output::summary(change), &[format!("run `{fix}`")]),
    }
}

/// An annotation for a breaking change, at its place in the new tree when
/// it still exists.
fn breaking_change(format: ErrorFormat, proto: &Path, c: &diff::Change) -> String {
    let place = match c.at.rsplit_once(':') {
        Some((file, _)) => Place { file: proto.join(file).display().to_string(), line: c.line, column: 0 },
        None => Place::default(),
    };
    let what =
        if c.aspect.is_empty() { c.kind.as_str().to_string() } else { format!("{} {}", c.kind.as_str(), c.aspect) };
    let mut message = format!("{} `{}` {what}", c.element.as_str(), c.name);
    if !c.old.is_empty() || !c.new.is_empty() {
        message.push_str(&format!(": `{}` -> `{}`", c.old, c.new));
    }
    let title = format!("breaking change (wire: {}, source: {})", c.wire.as_str(), c.source.as_str());
    match format {
        ErrorFormat::Github => diag::github_command("error", &place, &title, &message),
        _ => diag::json_line("error", &place, &title, &message, &[]),
    }
}

/// A reader that stops early (`mm-bindgen list | head`) is not an error.
fn closed_pipe(e: std::io::Error) -> Result<()> {
    if e.kind() == std::io::ErrorKind::BrokenPipe { Ok(()) } else { Err(anyhow::Error::from(e).into()) }
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

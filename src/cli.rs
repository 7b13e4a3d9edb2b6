//! What the user typed: the clap definition, nothing resolved yet (see
//! `settings` for that).

use clap::{Args, Parser, Subcommand};
use harden::config::ResolveImages;
use harden::profile::Strategy;
use harden::registry::Platform;
use std::path::PathBuf;
use std::time::Duration;

const EXAMPLES: &str = "\
Examples:
  kubectl kustomize overlays/prod | harden | kubectl apply -f -
  harden deploy/ other.yaml - < extra.yaml       files, directories, stdin
  harden --profile dotnet app.yaml               .NET images: UID 1654
  harden --partial system.yaml                   fix what can be fixed even in pods with blockers
  harden --resolve-images app.yaml               read USER, VOLUMEs and ports from the registry
  harden check --level restricted deploy/        report what Pod Security would reject
  harden --diff deploy/ > hardened.yaml          review the changes on stderr, YAML on stdout
  harden --check --diff deploy/                  CI gate: show what would change, exit 1 if anything would
  harden --check -o report --format sarif deploy/ > harden.sarif    gate and report for code scanning

Exit status:
  0  success (check, --check: nothing would change and no violation remains)
  1  check: some pod violates the level; --check: harden would change something or a violation remains
  2  bad input or usage (nothing is written to stdout)
  3  internal error (please report)";

/// The examples, the exit status, and the rules by id (what
/// `harden.dev/skip-rules` and config exceptions name), a few a line.
fn after_help() -> String {
    let ids: Vec<&str> = harden::rules::ids().collect();
    let lines: Vec<String> = ids.chunks(5).map(|ids| format!("  {}", ids.join(", "))).collect();
    format!(
        "{EXAMPLES}\n\nRules:\n  (the ids the harden.dev/skip-rules annotation and config exceptions name)\n{}",
        lines.join(",\n")
    )
}

/// Harden Kubernetes manifests to Pod Security "restricted" without breaking them.
///
/// Reads manifests (files, directories, or standard input), makes every
/// workload's pod spec pass Pod Security, and writes the stream back with
/// only the changed bytes changed: comments, order, quoting and layout stay.
#[derive(Debug, Parser)]
#[command(name = "harden", version, after_help = after_help(), args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub harden: HardenArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Evaluate every pod spec with the Pod Security checks; change nothing.
    Check(CheckArgs),
    /// Print the completion script for a shell: bash, zsh, fish, powershell or elvish.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff): `harden man > harden.1`, `harden man check > harden-check.1`.
    Man {
        /// A subcommand's page instead of harden's.
        subcommand: Option<String>,
    },
    /// Copy this harden binary to DIR/harden (for an init container: the image has no shell or cp).
    InstallTo {
        /// The directory (made if missing).
        dir: PathBuf,
    },
}

#[derive(Debug, Args)]
pub struct HardenArgs {
    /// Files or directories (*.yaml, *.yml, *.json, recursively; build files, hidden and ignored files, and files without Kubernetes objects left out); `-` or nothing for stdin.
    pub paths: Vec<PathBuf>,
    /// Leave out of directories what this gitignore-style glob matches (relative to each directory; repeatable).
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// A built-in profile (restricted, baseline, dotnet) or a profile file.
    #[arg(short, long, value_name = "NAME|FILE")]
    pub profile: Option<String>,
    /// A HardenConfig file: profile, PSS version, exceptions, image rows.
    #[arg(short, long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// An image table of your own (`images:` rows, as in data/images.yaml), tried before the built-in rows.
    #[arg(long, value_name = "FILE")]
    pub images: Option<PathBuf>,
    /// Rewrite the files in place instead of writing the stream to stdout: atomically, all or none.
    #[arg(short = 'i', long)]
    pub in_place: bool,
    /// Apply the other fixes to pods that have blockers (blockers stay).
    #[arg(long)]
    pub partial: bool,
    /// Privileged ports (80/443) of non-root pods: move them with every reference, allow the bind with a sysctl, keep them, or auto (move where the app can be told).
    #[arg(long, value_enum, value_name = "STRATEGY")]
    pub ports: Option<PortsArg>,
    #[command(flatten)]
    pub registry: RegistryArgs,
    #[command(flatten)]
    pub review: ReviewArgs,
    #[command(flatten)]
    pub common: CommonArgs,
}

/// Reading each image's own config (USER, VOLUMEs, ports, env) from its registry.
#[derive(Debug, Args)]
pub struct RegistryArgs {
    /// Read each image's config (USER, VOLUMEs, exposed ports, env) from its registry before hardening (credentials from Docker's config.json); an image that cannot be read is a warning, and harden uses its table; `=required`: exit 2 instead, writing nothing.
    #[arg(long, value_enum, value_name = "required", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub resolve_images: Option<ResolveArg>,
    /// With --resolve-images: the entry of an image index to read (default linux/amd64).
    #[arg(long, value_name = "OS/ARCH[/VARIANT]")]
    pub platform: Option<Platform>,
    /// With --resolve-images: seconds for each image (default 10); reading all of them gets three times as long (default 30).
    #[arg(long, value_name = "SECS", value_parser = seconds)]
    pub registry_timeout: Option<Duration>,
    /// With --resolve-images: where manifests and configs are kept by digest (default $XDG_CACHE_HOME/harden/images, else ~/.cache/harden/images).
    #[arg(long, value_name = "DIR")]
    pub image_cache: Option<PathBuf>,
}

/// `--resolve-images`: on (the flag alone), off, or required.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ResolveArg {
    True,
    False,
    Required,
}

impl From<ResolveArg> for ResolveImages {
    fn from(arg: ResolveArg) -> ResolveImages {
        match arg {
            ResolveArg::True => ResolveImages::On,
            ResolveArg::False => ResolveImages::Off,
            ResolveArg::Required => ResolveImages::Required,
        }
    }
}

/// A positive number of seconds (`10`, `0.5`).
fn seconds(text: &str) -> Result<Duration, String> {
    match text.parse::<f64>() {
        Ok(s) if s > 0.0 && s.is_finite() => Ok(Duration::from_secs_f64(s)),
        _ => Err(format!("{text:?} is not a positive number of seconds")),
    }
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Files or directories (*.yaml, *.yml, *.json, recursively; build files, hidden and ignored files, and files without Kubernetes objects left out); `-` or nothing for stdin.
    pub paths: Vec<PathBuf>,
    /// Leave out of directories what this gitignore-style glob matches (relative to each directory; repeatable).
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// The Pod Security level to check against.
    #[arg(long, value_enum, default_value = "restricted")]
    pub level: LevelArg,
    /// A HardenConfig file: its exceptions, PSS version and profile's workload kinds apply as when hardening.
    #[arg(short, long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Output format: text (a `file:line: resource: …` entry per violation), json or sarif (SARIF 2.1.0, for code scanning), as `-o report` writes them.
    #[arg(long, value_enum, value_name = "FORMAT", default_value = "text")]
    pub format: ReportFormat,
    /// The directory, from the repository root, that origin paths in the stream are relative to, for locations.
    #[arg(long, value_name = "DIR")]
    pub origin_root: Option<PathBuf>,
    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, Args)]
pub struct CommonArgs {
    /// Pod Security version whose rules apply: latest, v1.N, 1.N.P (default: $KUBE_VERSION, else latest).
    #[arg(long, value_name = "VERSION", env = "KUBE_VERSION")]
    pub pss_version: Option<String>,
    /// No summary line and no warnings on stderr (blockers and errors stay).
    #[arg(short, long)]
    pub quiet: bool,
    /// Deepest nesting of YAML collections accepted.
    #[arg(long, value_name = "N", default_value_t = 128)]
    pub max_depth: usize,
    /// Largest single document accepted, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 64 << 20)]
    pub max_document_bytes: usize,
    /// Largest single scalar accepted, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 16 << 20)]
    pub max_scalar_bytes: usize,
    /// Most nodes that alias expansion may produce in one document.
    #[arg(long, value_name = "N", default_value_t = 100_000)]
    pub max_alias_nodes: usize,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum LevelArg {
    Baseline,
    Restricted,
}

/// `--ports`: the profile's port strategy, as the command line offers it.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum PortsArg {
    /// Move where the app can be told the new port, else allow the bind.
    Auto,
    /// Move every privileged port.
    Move,
    /// Keep ports; allow non-root binds with the pod sysctl.
    Sysctl,
    /// Leave ports alone; only report.
    Keep,
}

impl From<PortsArg> for Strategy {
    fn from(arg: PortsArg) -> Strategy {
        match arg {
            PortsArg::Auto => Strategy::Auto,
            PortsArg::Move => Strategy::Move,
            PortsArg::Sysctl => Strategy::Sysctl,
            PortsArg::Keep => Strategy::Keep,
        }
    }
}

/// Review and CI: what to write instead of (or besides) the YAML, and the gate.
#[derive(Debug, Args)]
pub struct ReviewArgs {
    /// Write no YAML; exit 1 if harden would change anything or a violation remains, 0 if not (combines with --diff and -o).
    #[arg(long)]
    pub check: bool,
    /// Also write a unified diff of every change to stderr; stdout stays pure YAML.
    #[arg(long)]
    pub diff: bool,
    /// What stdout gets: yaml (default), diff, patch (RFC 6902 JSON Patch per resource) or report.
    #[arg(short, long, value_enum, value_name = "KIND")]
    pub output: Option<OutputKind>,
    /// Report format (implies -o report): text (default), json or sarif (SARIF 2.1.0, for code scanning).
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<ReportFormat>,
    /// Colour the diff: auto (on a terminal, unless NO_COLOR is set), always or never.
    #[arg(long, value_enum, value_name = "WHEN", default_value = "auto")]
    pub color: ColorWhen,
    /// The directory, from the repository root, that origin paths in the stream are relative to (kustomize origin annotations, kpt paths, Helm `# Source:`), for report locations.
    #[arg(long, value_name = "DIR")]
    pub origin_root: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputKind {
    Yaml,
    Diff,
    Patch,
    Report,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    Text,
    Json,
    Sarif,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorWhen {
    Auto,
    Always,
    Never,
}

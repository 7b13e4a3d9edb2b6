//! The `harden` command: `main` → `run` → exit code. Exit codes:
//! 0 success, 1 `check` found violations or `--check` found something to
//! change or a violation, 2 bad input or usage (nothing on stdout), 3
//! internal error. A closed stdout (`| head`) exits 0.

/// The stages allocate many small values (YAML nodes, JSON trees) from two
/// threads; mimalloc is several times faster at that than glibc's or musl's
/// allocator (see BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod cli;
mod docs;
mod install;
mod output;
mod progress;
mod settings;

use clap::Parser;
use cli::{Cli, Command};
use harden::in_place;
use harden::pipeline::{self, Options};
use harden::pipeline::{DocOutcome, Expect, Found, Input, Streamed};
use harden::plan::{Counts, PlanOptions};
use harden::read::{Named, Source, StdinText, list_arguments, read_named};
use harden::rules::unknown_image::{self, Unknown};
use harden::write::count;
use output::Output;
use std::process::ExitCode;

/// A failure, by the exit code it maps to.
enum Failure {
    /// Bad input or usage: exit 2.
    Input(String),
    /// A harden bug: exit 3.
    Internal(String),
    /// stdout closed by the reader: exit 0.
    BrokenPipe,
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Self {
        if e.kind() == std::io::ErrorKind::BrokenPipe { Failure::BrokenPipe } else { Failure::Input(e.to_string()) }
    }
}

fn main() -> ExitCode {
    std::panic::set_hook(Box::new(|info| {
        output::error(&format!("internal error, please report: {info}\n(run with RUST_BACKTRACE=1 for a backtrace)"));
    }));
    let cli = Cli::parse();
    match std::panic::catch_unwind(|| run(cli)) {
        Ok(Ok(code)) => code,
        Ok(Err(Failure::BrokenPipe)) => ExitCode::SUCCESS,
        Ok(Err(Failure::Input(msg))) => {
            output::error(&msg);
            ExitCode::from(2)
        }
        Ok(Err(Failure::Internal(msg))) => {
            output::error(&msg);
            ExitCode::from(3)
        }
        Err(_) => ExitCode::from(3),
    }
}

fn run(cli: Cli) -> Result<ExitCode, Failure> {
    match cli.command {
        Some(Command::Check(args)) => check(args),
        Some(Command::Completions { shell }) => Ok(docs::completions(shell).map(|()| ExitCode::SUCCESS)?),
        Some(Command::Man { subcommand }) => Ok(docs::man(subcommand.as_deref()).map(|()| ExitCode::SUCCESS)?),
        Some(Command::InstallTo { dir }) => match install::install_to(&dir) {
            Ok(path) => {
                output::note(&format!("installed {}", path.display()));
                Ok(ExitCode::SUCCESS)
            }
            Err(e) => Err(Failure::Input(format!("install-to {}: {e}", dir.display()))),
        },
        None => harden(cli.harden),
    }
}

fn harden(args: cli::HardenArgs) -> Result<ExitCode, Failure> {
    let s = settings::hardening(&args).map_err(Failure::Input)?;
    if args.in_place {
        if args.paths.is_empty() || args.paths.iter().any(|p| p.as_os_str() == "-") {
            return Err(Failure::Input(
                "--in-place rewrites files: name files or directories, not standard input".into(),
            ));
        }
        if args.review.check || args.review.output == Some(cli::OutputKind::Yaml) {
            return Err(Failure::Input(
                "--in-place writes the YAML to the files; it cannot be combined with --check or -o yaml".into(),
            ));
        }
    }
    let review = output::Review::new(&args.review).map_err(Failure::Input)?;
    note_clamped(&s.common);
    let opts = options(&s);
    // Plain YAML (or `--check`) is written a chunk at a time; `-i` and the
    // review outputs need every outcome at once.
    let streams = review.streams() && !args.in_place;
    let (named, expect) = inputs(&args.paths, &args.exclude)?;
    output::hint_if_waiting_on_a_terminal(&args.paths, args.common.quiet);
    let mut stdin = std::io::stdin().lock();
    // A KRM function call (kpt, kustomize): one ResourceList on stdin (and
    // no path, not even a directory without files).
    if let ([Named::Stdin], []) = (named.as_slice(), expect.as_slice()) {
        let text = StdinText::read(&mut stdin).map_err(|e| Failure::Input(e.to_string()))?;
        // More than one chunk is more than one document: not a ResourceList.
        if text.len() > 1 && streams {
            return stream(&args, &s, &review, &opts, &[Input::Stdin(text)], &[]);
        }
        let src = text.into_source();
        if let Some(run) = harden::krm::run(&src, &opts, &s.resolve).map_err(|e| {
            if e.is_internal() { Failure::Internal(e.to_string()) } else { Failure::Input(e.to_string()) }
        })? {
            if args.review.check || args.review.diff || args.review.output.is_some() || args.review.format.is_some() {
                return Err(Failure::Input(
                    "a ResourceList on stdin is a KRM function call, which always answers with a ResourceList: \
                     --check, --diff, -o and --format do not apply (read its results, or set failOnBlockers)"
                        .to_string(),
                ));
            }
            let mut out = Output::new(args.common.quiet);
            out.stream(&run.outcome)?;
            out.flush()?;
            out.summary(&run.summary);
            return Ok(ExitCode::from(run.exit_code));
        }
        if streams {
            return stream(&args, &s, &review, &opts, &[Input::Text(src)], &[]);
        }
        return finish(&args, &s, &review, &opts, vec![src], &[]);
    }
    if streams {
        // The plain YAML stream: files are read a chunk at a time and the
        // output written as it is ready, so memory stays flat.
        let mut inputs = Vec::with_capacity(named.len());
        for n in &named {
            inputs.push(match n {
                Named::Stdin => Input::Stdin(StdinText::read(&mut stdin).map_err(|e| Failure::Input(e.to_string()))?),
                Named::File(path) => Input::File { name: path.display().to_string(), path: path.clone() },
            });
        }
        return stream(&args, &s, &review, &opts, &inputs, &expect);
    }
    let sources = read_all(&named, &mut stdin)?;
    finish(&args, &s, &review, &opts, sources, &expect)
}

/// Every input, read whole.
fn read_all(named: &[Named], stdin: &mut dyn std::io::Read) -> Result<Vec<Source>, Failure> {
    named.iter().map(|n| read_named(n, stdin)).collect::<Result<_, _>>().map_err(|e| Failure::Input(e.to_string()))
}

/// The inputs the path arguments name, in order, and what each path must
/// hold (a gate that read nothing must not pass); the build files that
/// directories held, and files named more than once, are named on stderr.
fn inputs(paths: &[std::path::PathBuf], excludes: &[String]) -> Result<(Vec<Named>, Vec<Expect>), Failure> {
    let listed = list_arguments(paths, excludes).map_err(|e| Failure::Input(e.to_string()))?;
    let mut expect = Vec::new();
    for a in listed.arguments {
        for skipped in &a.skipped {
            output::note(&skipped.to_string());
        }
        if a.is_path() {
            expect.push(Expect { name: a.path.display().to_string(), inputs: a.inputs, directory: a.directory });
        }
    }
    for (again, first) in &listed.repeats {
        let what = if again == first {
            "named more than once".to_string()
        } else {
            format!("the same file as {}", first.display())
        };
        output::note(&format!("{}: {what}; read once", again.display()));
    }
    Ok((listed.inputs, expect))
}

/// One note per directory argument for its files that were left out
/// because they hold no Kubernetes object (`found`, by input; `name`
/// names an input).
fn note_left_out(expect: &[Expect], found: &[Found], name: impl Fn(usize) -> String) {
    let mut noted = vec![false; found.len()];
    for e in expect.iter().filter(|e| e.directory) {
        let files: Vec<String> = e
            .inputs
            .iter()
            .filter(|&&i| found[i].left_out && !std::mem::replace(&mut noted[i], true))
            .map(|&i| name(i))
            .collect();
        if !files.is_empty() {
            output::note(&format!(
                "{}: left out, holding no Kubernetes object (no document with apiVersion and kind): {}",
                e.name,
                files.join(", ")
            ));
        }
    }
}

/// A source that ends without a line break where one would change what it
/// means cannot be followed by another in one stream.
fn unjoinable(name: &str, line: usize) -> Failure {
    Failure::Input(format!(
        "{name}:{line}: the file ends without a line break, inside a block scalar whose value would take the line \
         break that must separate it from the next file; end the file with a line break (or write `|-`)"
    ))
}

/// The sources and their outcomes but for those left out, which are named
/// on stderr.
fn without_left_out(
    expect: &[Expect],
    sources: Vec<Source>,
    outcomes: Vec<pipeline::SourceOutcome>,
) -> (Vec<Source>, Vec<pipeline::SourceOutcome>) {
    let found: Vec<Found> = outcomes.iter().map(|o| o.found).collect();
    note_left_out(expect, &found, |i| sources[i].name.clone());
    sources.into_iter().zip(outcomes).filter(|(_, o)| !o.found.left_out).unzip()
}

/// The pipeline's options, from the resolved settings.
fn options(s: &settings::Hardening) -> Options<'_> {
    Options {
        plan: PlanOptions {
            profile: &s.profile,
            kinds: &s.kinds,
            version: s.common.version,
            partial: s.partial,
            exceptions: &s.exceptions,
            images: &s.images,
        },
        ports: s.ports,
        limits: s.common.limits.clone(),
    }
}

/// `--resolve-images`: the options with the table that holds the rows read
/// from the registries, after a warning for each image that could not be
/// read; as they were when the flag is off.
fn with_images<'o>(opts: &Options<'o>, resolved: Option<&'o pipeline::images::Resolved>, out: &Output) -> Options<'o> {
    let images = match resolved {
        Some(resolved) => {
            resolved.warnings().for_each(|w| out.warning(&w));
            &resolved.images
        }
        None => opts.plan.images,
    };
    Options { plan: PlanOptions { images, ..opts.plan }, ports: opts.ports, limits: opts.limits.clone() }
}

/// What a run found, for the summary line.
#[derive(Default)]
struct Tally {
    docs: usize,
    counts: Counts,
    /// Containers whose image the image table does not know, and the first few images.
    unknown: Guessed,
    /// Containers whose row does not say what the image writes (base images).
    writes_unknown: Guessed,
}

/// Containers harden had to guess about, and the first few of their images.
#[derive(Default)]
struct Guessed {
    containers: usize,
    images: Vec<String>,
}

impl Guessed {
    fn add(&mut self, image: &str) {
        self.containers += 1;
        if self.images.len() < 3 && !self.images.iter().any(|i| i == image) {
            self.images.push(image.to_string());
        }
    }

    /// `2 containers run images … (a, b, …)`: the start of the stderr line.
    fn line(&self, what: &str) -> Option<String> {
        if self.containers == 0 {
            return None;
        }
        let more = if self.containers > self.images.len() { ", …" } else { "" };
        let verb = if self.containers == 1 { "runs an image" } else { "run images" };
        Some(format!("{} {verb} {what} ({}{more})", count(self.containers, "container"), self.images.join(", ")))
    }
}

impl Tally {
    /// Count one document and print its warnings.
    fn document(&mut self, out: &Output, name: &str, d: &DocOutcome, partial: bool) {
        self.docs += 1;
        if let Some(why) = &d.refused {
            output::warn(&format!("{name}:{}: left unchanged, its edits cannot be written safely: {why}", d.line));
        }
        for r in &d.plan.resources {
            out.resource_warnings(r, partial);
            for (unknown, image) in r
                .notes
                .iter()
                .filter(|n| n.rule == unknown_image::ID)
                .filter_map(|n| unknown_image::unknown_of(&n.message))
            {
                match unknown {
                    Unknown::Image => self.unknown.add(image),
                    Unknown::Writes => self.writes_unknown.add(image),
                }
            }
        }
        self.counts.add(&d.plan);
    }

    /// A line for the containers whose image harden had to guess about,
    /// and one for those whose image's writes it had to guess.
    fn unknown_images(&self, out: &Output) {
        if let Some(start) = self.unknown.line("harden's table does not know") {
            let (it, s) = if self.unknown.containers == 1 { ("it", "s") } else { ("they", "") };
            out.summary_note(&format!(
                "{start}: assumed {it} write{s} only /tmp and run{s} as any UID; check {it} start{s}, or add rows \
                 (--images); -o report lists them"
            ));
        }
        if let Some(start) = self.writes_unknown.line("harden's table knows only in part") {
            let (its, s, es, it, s2) = if self.writes_unknown.containers == 1 {
                ("its", "", "es", "it", "s")
            } else {
                ("their", "s", "", "they", "")
            };
            out.summary_note(&format!(
                "{start}: {its} row{s} do{es} not say what {it} write{s2}; assumed only /tmp; check {it} start{s2}, \
                 or add rows of your own (--images); -o report lists them"
            ));
        }
    }

    fn summary(&self) -> String {
        let mut line = format!(
            "{}, {} hardened, {}, {}",
            count(self.docs, "document"),
            count(self.counts.workloads_hardened, "workload"),
            count(self.counts.changes, "change"),
            count(self.counts.blockers, "blocker")
        );
        if self.counts.opted_out > 0 {
            line.push_str(&format!("; {}, still violating", opted_out(self.counts.opted_out)));
        }
        line
    }
}

/// `1 resource skipped (opted out)`, `2 resources …`.
fn opted_out(n: usize) -> String {
    format!("{} skipped (opted out)", count(n, "resource"))
}

fn pipeline_failure(e: pipeline::Error) -> Failure {
    match e {
        pipeline::Error::Parse { .. }
        | pipeline::Error::Read(_)
        | pipeline::Error::NoManifests { .. }
        | pipeline::Error::InDirectory(_)
        | pipeline::Error::Unresolved(_) => Failure::Input(e.to_string()),
        pipeline::Error::Verify(_) => Failure::Internal(e.to_string()),
    }
}

impl From<pipeline::Error> for Failure {
    fn from(e: pipeline::Error) -> Self {
        pipeline_failure(e)
    }
}

/// The plain YAML stream, or `--check`, chunk by chunk.
fn stream(
    args: &cli::HardenArgs,
    s: &settings::Hardening,
    review: &output::Review,
    opts: &Options,
    inputs: &[Input],
    expect: &[Expect],
) -> Result<ExitCode, Failure> {
    let resolved = pipeline::images::resolve_inputs(inputs, opts, expect, &s.resolve)?;
    let mut out = Output::new(args.common.quiet);
    let opts = &with_images(opts, resolved.as_ref(), &out);
    let mut tally = Tally::default();
    let mut attention = false;
    let mut current = usize::MAX;
    let progress = progress::Line::for_inputs(inputs, args.common.quiet, review.yaml());
    pipeline::stream_telling(inputs, opts, expect, &progress, |streamed| -> Result<(), Failure> {
        let (i, chunk) = match streamed {
            Streamed::Surveyed(found) => {
                note_left_out(expect, found, |i| inputs[i].name().to_string());
                if review.yaml() {
                    out.join(found).map_err(|(i, line)| unjoinable(inputs[i].name(), line))?;
                }
                return Ok(());
            }
            Streamed::Chunk(i, chunk) => (i, chunk),
        };
        for d in &chunk.docs {
            tally.document(&out, inputs[i].name(), d, s.partial);
            attention |= harden::write::needs_attention(d);
        }
        if !review.yaml() {
            return Ok(());
        }
        if i != current {
            if current != usize::MAX {
                out.end_source();
            }
            out.begin_source();
            current = i;
        }
        out.chunk(&chunk.output, !chunk.docs.is_empty(), chunk.json)?;
        Ok(())
    })?;
    progress.finish();
    if current != usize::MAX {
        out.end_source();
    }
    out.flush()?;
    out.warnings_left_out();
    tally.unknown_images(&out);
    out.summary(&tally.summary());
    Ok(review.exit_code_for(attention))
}

/// Every other output (diff, patch, report, in-place): the whole
/// stream's outcomes are needed at once.
fn finish(
    args: &cli::HardenArgs,
    s: &settings::Hardening,
    review: &output::Review,
    opts: &Options,
    sources: Vec<Source>,
    expect: &[Expect],
) -> Result<ExitCode, Failure> {
    let resolved = pipeline::images::resolve_sources(&sources, opts, expect, &s.resolve)?;
    let mut out = Output::new(args.common.quiet);
    let opts = &with_images(opts, resolved.as_ref(), &out);
    // Harden everything before writing anything: bad input anywhere means
    // nothing on stdout.
    let progress = progress::Line::for_sources(&sources, args.common.quiet);
    let outcomes = pipeline::harden_stream_telling(&sources, opts, expect, review.values(), &progress)?;
    progress.finish();
    let (sources, outcomes) = without_left_out(expect, sources, outcomes);
    let mut tally = Tally::default();
    if review.yaml() && !args.in_place {
        let found: Vec<Found> = outcomes.iter().map(|o| o.found).collect();
        out.join(&found).map_err(|(i, line)| unjoinable(&sources[i].name, line))?;
    }
    for (src, outcome) in sources.iter().zip(&outcomes) {
        for d in &outcome.docs {
            tally.document(&out, &src.name, d, s.partial);
        }
        if review.yaml() && !args.in_place {
            out.stream(outcome)?;
        }
    }
    let run = harden::write::Run {
        sources: &sources,
        outcomes: &outcomes,
        level: s.profile.level,
        version: s.common.version,
        partial: s.partial,
        checking: false,
        limits: s.common.limits.clone(),
        origin_root: args.review.origin_root.clone(),
    };
    review.write(&mut out, &run)?;
    out.flush()?;
    out.warnings_left_out();
    tally.unknown_images(&out);
    let mut summary = tally.summary();
    if args.in_place {
        let rewrites: Vec<in_place::Rewrite> = sources
            .iter()
            .zip(&outcomes)
            .filter(|(src, outcome)| src.text != outcome.output)
            .filter_map(|(src, outcome)| {
                src.path.as_deref().map(|path| in_place::Rewrite { path, text: &outcome.output })
            })
            .collect();
        let n = in_place::rewrite_all(&rewrites)
            .map_err(|e| Failure::Input(format!("--in-place: {e}; no file was changed")))?;
        summary.push_str(&format!(", {} rewritten", count(n, "file")));
    }
    out.summary(&summary);
    let code = review.exit_code(&outcomes);
    // Everything is written: freeing a big stream's outcomes one by one
    // would only delay the exit (the process hands its memory back whole).
    std::mem::forget(outcomes);
    std::mem::forget(sources);
    Ok(code)
}

/// `harden check`: the hardening pipeline with a profile that fixes
/// nothing (`Profile::checking`), so that opt-outs, config exceptions and
/// workload kinds count exactly as when hardening; what Pod Security
/// rejects is reported by the report's writers.
fn check(args: cli::CheckArgs) -> Result<ExitCode, Failure> {
    let level = match args.level {
        cli::LevelArg::Baseline => harden::pss::Level::Baseline,
        cli::LevelArg::Restricted => harden::pss::Level::Restricted,
    };
    let s = settings::checking(&args, level).map_err(Failure::Input)?;
    note_clamped(&s.common);
    let opts = options(&s);
    output::hint_if_waiting_on_a_terminal(&args.paths, args.common.quiet);
    let (named, expect) = inputs(&args.paths, &args.exclude)?;
    let sources = read_all(&named, &mut std::io::stdin().lock())?;
    let outcomes =
        pipeline::harden_stream_keeping(&sources, &opts, &expect, pipeline::Values::Reduce(harden::write::FOR_REPORT))?;
    let (sources, outcomes) = without_left_out(&expect, sources, outcomes);
    let run = harden::write::Run {
        sources: &sources,
        outcomes: &outcomes,
        level,
        version: s.common.version,
        partial: s.partial,
        checking: true,
        limits: s.common.limits.clone(),
        origin_root: args.origin_root.clone(),
    };
    let mut out = Output::new(args.common.quiet);
    output::report(&mut out, &run, args.format)?;
    out.flush()?;
    let resources = || outcomes.iter().flat_map(|o| &o.docs).flat_map(|d| &d.plan.resources);
    let violating = resources().filter(|r| !r.blockers.is_empty()).count();
    let opted = resources().filter(|r| !r.opted_out.is_empty()).count();
    let violate = if violating == 1 { "violates" } else { "violate" };
    let mut summary = format!("{} {violate} {level} at {}", count(violating, "resource"), s.common.version);
    if opted > 0 {
        summary.push_str(&format!("; {}, still violating", opted_out(opted)));
    }
    out.summary(&summary);
    Ok(if violating == 0 { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn note_clamped(common: &settings::Common) {
    if let Some(asked) = &common.clamped_from {
        output::warn(&common.version.clamped_note(asked));
    }
}

//! `harden completions SHELL` and `harden man`: made from the clap
//! definition (`cli.rs`), so they list exactly the flags harden takes.

use crate::cli::Cli;
use clap::CommandFactory;
use std::io::{self, Write};

/// The completion script for `shell`, on stdout.
pub fn completions(shell: clap_complete::Shell) -> io::Result<()> {
    // Made in memory: clap_complete panics on a failed write, and a closed
    // stdout (`| head`) is not a harden bug.
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "harden", &mut script);
    to_stdout(&script)
}

/// The man page of harden, or of one of its subcommands (`harden-check`,
/// which harden's page lists), on stdout.
pub fn man(subcommand: Option<&str>) -> io::Result<()> {
    let mut cli = Cli::command();
    cli.build();
    let cmd = match subcommand {
        None => cli,
        Some(name) => cli.find_subcommand(name).cloned().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("man: no subcommand {name:?} (harden --help lists them)"),
            )
        })?,
    };
    let man = clap_mangen::Man::new(cmd.clone());
    let mut page = Vec::new();
    man.render_title(&mut page)?;
    man.render_name_section(&mut page)?;
    man.render_synopsis_section(&mut page)?;
    man.render_description_section(&mut page)?;
    if cmd.get_arguments().next().is_some() {
        man.render_options_section(&mut page)?;
    }
    if cmd.has_subcommands() {
        man.render_subcommands_section(&mut page)?;
    }
    if let Some(after) = cmd.get_after_help() {
        verbatim_sections(&after.to_string(), &mut page)?;
    }
    if cmd.get_version().is_some() {
        man.render_version_section(&mut page)?;
    }
    to_stdout(&page)
}

/// The after-help text, paragraphs headed `Examples:`, `Exit status:`, as
/// sections whose lines stay as written (clap_mangen would refill the
/// aligned columns into one paragraph).
fn verbatim_sections(text: &str, out: &mut dyn Write) -> io::Result<()> {
    let mut roff = roff::Roff::new();
    for block in text.split("\n\n") {
        let (heading, body) = block.split_once('\n').unwrap_or((block, ""));
        roff.control("SH", [heading.trim_end_matches(':').to_uppercase().as_str()]);
        roff.control("nf", []);
        for line in body.lines() {
            roff.text([roff::roman(line)]);
        }
        roff.control("fi", []);
    }
    roff.to_writer(out)
}

fn to_stdout(bytes: &[u8]) -> io::Result<()> {
    let mut out = io::stdout().lock();
    out.write_all(bytes)?;
    out.flush()
}

//! A progress line on stderr while a long run works: which pass, bytes of
//! the input done and in all, speed, documents. Shown only for inputs of
//! at least [`MIN_BYTES`], only when stderr is a terminal (and stdout, if
//! the YAML streams to it meanwhile, is not), never with `-q`; cleared when
//! the work is done, before any report or diff is written. Messages
//! printed meanwhile go through [`around`], which moves the line out of
//! their way.

use harden::pipeline::{Input, Progress};
use harden::read::Source;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Inputs smaller than this are done before a progress line would help.
pub const MIN_BYTES: u64 = 50 << 20;

/// The line being shown, which stderr messages must step around.
static SHOWN: Mutex<Option<ProgressBar>> = Mutex::new(None);

/// Print a message to stderr with the progress line, if any, out of the way.
pub fn around(print: impl FnOnce()) {
    match SHOWN.lock().ok().as_deref().and_then(Option::as_ref) {
        Some(bar) => bar.suspend(print),
        None => print(),
    }
}

/// The progress of one run (hidden unless it is worth showing).
pub struct Line {
    bar: Option<ProgressBar>,
    docs: AtomicUsize,
    hardening: AtomicBool,
}

impl Line {
    /// For the streamed run over `inputs`; `stdout_streams` says whether
    /// the YAML goes to stdout while the line is shown.
    pub fn for_inputs(inputs: &[Input], quiet: bool, stdout_streams: bool) -> Line {
        let total = inputs
            .iter()
            .map(|input| match input {
                Input::Text(src) => src.text.len() as u64,
                Input::Stdin(text) => text.chunks().map(|c| c.text.len() as u64).sum(),
                Input::File { path, .. } => std::fs::metadata(path).map_or(0, |m| m.len()),
            })
            .sum();
        Line::new(total, quiet, stdout_streams)
    }

    /// For a run over sources held in memory, written only once it is done.
    pub fn for_sources(sources: &[Source], quiet: bool) -> Line {
        Line::new(sources.iter().map(|s| s.text.len() as u64).sum(), quiet, false)
    }

    fn new(total: u64, quiet: bool, stdout_streams: bool) -> Line {
        let shown = !quiet
            && total >= MIN_BYTES
            && std::io::stderr().is_terminal()
            && !(stdout_streams && std::io::stdout().is_terminal());
        let bar = shown.then(|| {
            // The bar takes what the terminal width leaves (a line that
            // wraps cannot be redrawn in place).
            let style = ProgressStyle::with_template(
                "harden: {prefix} {binary_bytes}/{binary_total_bytes}, {msg}, {binary_bytes_per_sec} [{wide_bar}]",
            )
            .expect("a valid template")
            .progress_chars("=> ");
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr())
                .with_style(style)
                .with_prefix("reading")
                .with_message("0 documents");
            bar.tick();
            if let Ok(mut shown) = SHOWN.lock() {
                *shown = Some(bar.clone());
            }
            bar
        });
        Line { bar, docs: AtomicUsize::new(0), hardening: AtomicBool::new(false) }
    }

    /// The work is done: the line goes away.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            if let Ok(mut shown) = SHOWN.lock() {
                *shown = None;
            }
            bar.finish_and_clear();
        }
    }

    fn advance(&self, bar: &ProgressBar, bytes: usize, docs: usize) {
        let docs = self.docs.fetch_add(docs, Ordering::Relaxed) + docs;
        bar.set_message(format!("{docs} documents"));
        bar.inc(bytes as u64);
    }
}

impl Progress for Line {
    fn indexed(&self, bytes: usize, docs: usize) {
        if let Some(bar) = &self.bar {
            self.advance(bar, bytes, docs);
        }
    }

    fn hardened(&self, bytes: usize, docs: usize) {
        if let Some(bar) = &self.bar {
            // Pass 2 starts over: its own bytes, documents and speed.
            if !self.hardening.swap(true, Ordering::Relaxed) {
                self.docs.store(0, Ordering::Relaxed);
                bar.reset();
                bar.set_prefix("hardening");
            }
            self.advance(bar, bytes, docs);
        }
    }
}

impl Drop for Line {
    fn drop(&mut self) {
        self.finish();
    }
}

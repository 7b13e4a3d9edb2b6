//! What pass 1 found of each input, for what comes after it: how the
//! writer joins sources ([`Form`], [`Found::open_end`]), and which files a
//! directory held that are left out.

use super::document::ChunkInfo;
use super::{Error, Expect};

/// What a source is to kubectl, which decides how sources are joined into
/// one stream that it reads as it reads each of them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Form {
    /// Nothing but white space.
    #[default]
    Blank,
    /// JSON values and white space between them (`{` first): kubectl reads
    /// it as JSON, where `---` is an error.
    Json,
    /// Anything else: YAML.
    Yaml,
}

impl Form {
    /// The form of a source made of a part of this form, then one of `next`'s.
    fn then(self, next: Form) -> Form {
        match (self, next) {
            (Form::Blank, f) | (f, Form::Blank) => f,
            (Form::Json, Form::Json) => Form::Json,
            _ => Form::Yaml,
        }
    }

    /// The form of a source from its chunks'.
    fn of(infos: &[ChunkInfo]) -> Form {
        infos.iter().fold(Form::Blank, |form, info| form.then(info.form))
    }
}

/// What pass 1 found of one input, before anything is written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Found {
    /// Blank where left out.
    pub form: Form,
    /// Left out, unread (see [`Expect::directory`]).
    pub left_out: bool,
    /// Its last line, where it ends without a line break and one written
    /// after it (before another source) would change what its last
    /// document means: a block scalar's value.
    pub open_end: Option<usize>,
}

impl Found {
    pub(super) fn of(infos: &[ChunkInfo], left_out: bool) -> Found {
        if left_out {
            return Found { left_out, ..Found::default() };
        }
        Found { form: Form::of(infos), left_out, open_end: infos.last().and_then(|i| i.open_end) }
    }
}

/// Per input, what pass 1 found.
pub(super) fn survey(infos: &[Vec<ChunkInfo>], left_out: &[bool]) -> Vec<Found> {
    infos.iter().zip(left_out).map(|(i, &out)| Found::of(i, out)).collect()
}

/// Per input, whether only a directory found it (no path named it).
pub(super) fn found_in_directories(expect: &[Expect], inputs: usize) -> Vec<bool> {
    let (mut found, mut named) = (vec![false; inputs], vec![false; inputs]);
    for e in expect {
        for &i in &e.inputs {
            if e.directory { found[i] = true } else { named[i] = true }
        }
    }
    found.iter().zip(named).map(|(&f, n)| f && !n).collect()
}

/// Per input, whether it is left out: a directory found it, and it holds
/// no Kubernetes object.
pub(super) fn left_out(found: &[bool], infos: &[Vec<ChunkInfo>]) -> Vec<bool> {
    found.iter().zip(infos).map(|(&f, info)| f && info.iter().all(|c| c.manifests == 0)).collect()
}

/// A file that a directory held and that does not parse gets a hint: not
/// every file in a directory of manifests is one.
pub(super) fn hinted(error: Error, found: bool) -> Error {
    match error {
        Error::Parse { .. } if found => Error::InDirectory(Box::new(error)),
        other => other,
    }
}

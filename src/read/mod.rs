//! The read stage: files, directories (the manifests below them, in
//! sorted order: see [`walk`]) and standard input (`-`, or no path at all)
//! become [`Source`]s: a name for messages and the text, checked to be UTF-8.

pub mod split;
pub mod walk;

use std::io::Read;
use std::path::{Path, PathBuf};

/// One input, whole.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    /// As shown in messages: the path as given (or found), or `<stdin>`.
    pub name: String,
    /// The file it came from (None for stdin).
    pub path: Option<PathBuf>,
    pub text: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{name}: {source}")]
    Io { name: String, source: std::io::Error },
    #[error("{name}:{line}:{col}: the input is not valid UTF-8")]
    Utf8 { name: String, line: usize, col: usize },
    #[error("{name}:1:1: the input is UTF-16 (kubectl decodes it, harden reads UTF-8): `iconv -f UTF-16 -t UTF-8`")]
    Utf16 { name: String },
    #[error("{name}: no such file or directory")]
    Missing { name: String },
    #[error("{name}: {message}")]
    Walk { name: String, message: String },
    #[error("--exclude {glob}: {message}")]
    Exclude { glob: String, message: String },
}

/// Where an input comes from, before it is read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Named {
    Stdin,
    File(PathBuf),
}

/// One path argument, and the inputs it names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Argument {
    /// As given (`-` for standard input).
    pub path: PathBuf,
    /// The inputs it names, by their place in [`Listed::inputs`].
    pub inputs: Vec<usize>,
    /// Whether it is a directory, whose files are found rather than named.
    pub directory: bool,
    /// The build files a directory held, left out (see [`walk`]).
    pub skipped: Vec<walk::Skipped>,
}

impl Argument {
    /// Whether it names files (or a directory), not standard input.
    pub fn is_path(&self) -> bool {
        self.path.as_os_str() != "-"
    }
}

/// What the path arguments name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Listed {
    /// Every input once, in the order first named: a file named again, or
    /// reached again through a symbolic link, is the same file (by its
    /// canonical path), and its documents must not be written twice.
    pub inputs: Vec<Named>,
    pub arguments: Vec<Argument>,
    /// Files named again: the path that named it again, and the path that
    /// named it first.
    pub repeats: Vec<(PathBuf, PathBuf)>,
}

impl Listed {
    /// Where `named` is in [`Listed::inputs`], added if it is new: a file
    /// is known by its canonical path (`seen` holds those listed).
    fn place(&mut self, named: Named, seen: &mut std::collections::HashMap<PathBuf, usize>) -> usize {
        if let Named::File(path) = &named {
            let key = std::fs::canonicalize(path).unwrap_or_else(|_| path.clone());
            if let Some(&first) = seen.get(&key) {
                if let Named::File(first_path) = &self.inputs[first] {
                    self.repeats.push((path.clone(), first_path.clone()));
                }
                return first;
            }
            seen.insert(key, self.inputs.len());
        }
        self.inputs.push(named);
        self.inputs.len() - 1
    }
}

/// What `paths` name, in order: stdin when there are none or for `-`, a
/// directory's manifests minus what `excludes` (gitignore globs, relative
/// to the directory) and ignore files leave out (see [`walk`]), a file
/// itself whatever its name.
pub fn list_arguments(paths: &[PathBuf], excludes: &[String]) -> Result<Listed, ReadError> {
    let stdin = [PathBuf::from("-")];
    let paths = if paths.is_empty() { &stdin[..] } else { paths };
    let mut listed = Listed::default();
    let mut seen: std::collections::HashMap<PathBuf, usize> = std::collections::HashMap::new();
    for p in paths {
        let (found, directory, skipped) = if p.as_os_str() == "-" {
            (vec![Named::Stdin], false, Vec::new())
        } else if p.is_dir() {
            let (files, skipped) = walk::manifests(p, excludes)?;
            (files.into_iter().map(Named::File).collect(), true, skipped)
        } else if p.exists() {
            (vec![Named::File(p.clone())], false, Vec::new())
        } else {
            return Err(ReadError::Missing { name: p.display().to_string() });
        };
        let mut inputs = Vec::with_capacity(found.len());
        let mut taken = std::collections::HashSet::new();
        for named in found {
            let at = listed.place(named, &mut seen);
            if taken.insert(at) {
                inputs.push(at);
            }
        }
        listed.arguments.push(Argument { path: p.clone(), inputs, directory, skipped });
    }
    Ok(listed)
}

/// Read one input whole.
pub fn read_named(named: &Named, stdin: &mut dyn Read) -> Result<Source, ReadError> {
    match named {
        Named::Stdin => read_stdin(stdin),
        Named::File(path) => read_file(path),
    }
}

fn read_file(path: &Path) -> Result<Source, ReadError> {
    let name = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|source| ReadError::Io { name: name.clone(), source })?;
    not_utf16(&name, &bytes)?;
    Ok(Source { text: decode(&name, bytes)?, name, path: Some(path.to_path_buf()) })
}

/// Standard input whole: read as streaming reads it (the same chunks and
/// the same messages), then joined.
fn read_stdin(stdin: &mut dyn Read) -> Result<Source, ReadError> {
    Ok(StdinText::read(stdin)?.into_source())
}

/// Standard input, held for the two passes as document-aligned chunks
/// (see [`split`]) packed into large blocks: read into one growing buffer,
/// a big stream peaked at two or three times its size, and a buffer per
/// chunk lost a few percent to the allocator's size classes.
/// The chunks' index is what grows with the stream besides the text
/// itself, so it is kept small: per chunk where it ends in its block and
/// where it starts (32 bytes; its block and start follow from the chunk
/// before it, its offset is the length of the chunks before it).
#[derive(Default)]
pub struct StdinText {
    blocks: Vec<String>,
    /// Per chunk: where it ends in its block, and where it starts.
    chunks: Vec<(u64, Start)>,
    /// Per block: the number of its first chunk.
    firsts: Vec<usize>,
}

/// Where a chunk of [`StdinText`] starts: its line and column, and
/// whether it is values of a JSON stream.
#[derive(Clone, Copy, Default)]
struct Start {
    line: u64,
    col: u64,
    json: bool,
}

const BLOCK: usize = 4 << 20;
const MAX_BLOCK: usize = 64 << 20;

impl StdinText {
    /// Read standard input to its end.
    pub fn read(stdin: &mut dyn Read) -> Result<StdinText, ReadError> {
        let reader = std::io::BufReader::with_capacity(1 << 20, stdin);
        let mut out = StdinText::default();
        for chunk in split::ReaderChunks::new(reader, STDIN) {
            let chunk = chunk?;
            let room = out.blocks.last().is_some_and(|b| b.capacity() - b.len() >= chunk.text.len());
            if !room {
                // Blocks grow with the text (an eighth of what is held, from
                // 4 to 64 MB): each is an allocation of its own, and the
                // allocator's share of each added up over a long stream.
                let held: usize = out.blocks.iter().map(String::len).sum();
                let size = (held / 8).clamp(BLOCK, MAX_BLOCK);
                out.blocks.push(String::with_capacity(size.max(chunk.text.len())));
                out.firsts.push(out.chunks.len());
            }
            let block = out.blocks.last_mut().expect("a block was just made if there was none");
            block.push_str(&chunk.text);
            let start = Start { line: chunk.line as u64, col: chunk.col as u64, json: chunk.json };
            out.chunks.push((block.len() as u64, start));
        }
        Ok(out)
    }

    pub fn len(&self) -> usize {
        self.chunks.len()
    }

    pub fn is_empty(&self) -> bool {
        self.chunks.is_empty()
    }

    /// The chunks, in order.
    pub fn chunks(&self) -> impl Iterator<Item = split::Chunk<'_>> {
        // (block, where the chunk starts in it, its offset in the stream)
        let mut at = (0, 0, 0);
        self.chunks.iter().enumerate().map(move |(i, &(end, start_at))| {
            let (mut b, mut start, offset) = at;
            if self.firsts.get(b + 1) == Some(&i) {
                (b, start) = (b + 1, 0);
            }
            let text = &self.blocks[b][start..end as usize];
            at = (b, end as usize, offset + text.len());
            split::Chunk {
                text: std::borrow::Cow::Borrowed(text),
                offset,
                line: start_at.line as usize,
                col: start_at.col as usize,
                json: start_at.json,
            }
        })
    }

    /// The whole text as one source.
    pub fn into_source(self) -> Source {
        let mut text = String::with_capacity(self.blocks.iter().map(String::len).sum());
        for block in self.blocks {
            text.push_str(&block);
        }
        Source { name: STDIN.to_string(), path: None, text }
    }
}

/// How standard input is named in messages.
pub const STDIN: &str = "<stdin>";

/// An error if `bytes`, the start of an input, start with a UTF-16 byte
/// order mark: kubectl decodes such an input; harden would have to write
/// it back in another encoding.
pub fn not_utf16(name: &str, bytes: &[u8]) -> Result<(), ReadError> {
    match bytes {
        [0xff, 0xfe, ..] | [0xfe, 0xff, ..] => Err(ReadError::Utf16 { name: name.to_string() }),
        _ => Ok(()),
    }
}

/// UTF-8 or an error that says where it stops being UTF-8.
pub fn decode(name: &str, bytes: Vec<u8>) -> Result<String, ReadError> {
    String::from_utf8(bytes).map_err(|e| {
        let valid = e.utf8_error().valid_up_to();
        let bytes = e.as_bytes();
        let good = std::str::from_utf8(&bytes[..valid]).unwrap_or("");
        let (line, col) = line_col(good, valid);
        ReadError::Utf8 { name: name.to_string(), line, col }
    })
}

/// 1-based line and column (in characters) of byte offset `at`.
pub fn line_col(text: &str, at: usize) -> (usize, usize) {
    let at = at.min(text.len());
    let before = &text.as_bytes()[..at];
    let line_start = before.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let col = text.get(line_start..at).map_or(at - line_start, |s| s.chars().count()) + 1;
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stdin_is_held_as_the_chunks_a_text_is_cut_into() {
        // Small documents grouped, one bigger than a block, and a tail without a line break.
        let mut text = "---\na: 1\n".repeat(300);
        text.push_str(&format!("---\nbig: {}\n", "x".repeat(BLOCK + 10)));
        text.push_str("---\nz: 2");
        let held = StdinText::read(&mut text.as_bytes()).expect("reads");
        let want = split::split(&text);
        let got: Vec<split::Chunk> = held.chunks().collect();
        assert_eq!(got, want);
        assert_eq!(held.into_source().text, text);
    }

    #[test]
    fn invalid_utf8_on_stdin_is_located() {
        let bytes = b"a: 1\n---\nb: \xff\n";
        let Err(ReadError::Utf8 { line, col, .. }) = StdinText::read(&mut &bytes[..]) else { panic!("an error") };
        assert_eq!((line, col), (3, 4));
    }
}

//! What harden knows about images, as data: `data/images.yaml` (embedded),
//! after the user's own rows (`--images FILE`, HardenConfig `images:`).
//! One row per image family says, with a public source for every fact, who
//! the image runs as, what capabilities, writable paths and environment it
//! needs, and the ports it listens on; `rootCommands:` lists commands that
//! need root when a container runs them at start.
//!
//! The first row that matches a container's image is the one the rules
//! use (`find`). Each file is validated up front: a fact without a source,
//! a `user` that is not exactly one kind, or a row that an earlier row of
//! the same file shadows is a full-sentence error.

pub mod commands;
pub mod reference;
pub mod resolved;
pub mod row;
pub mod tags;

use crate::registry::ImageConfig;
use commands::RootCommand;
use reference::Reference;
pub use row::{ImageRow, User};
use serde::Deserialize;
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

const BUILT_IN: &str = include_str!("../../data/images.yaml");

/// The rows in the order they are tried, and an index for quick lookup.
#[derive(Clone, Debug, Default)]
pub struct ImageTable {
    rows: Vec<ImageRow>,
    /// How many of `rows`, from the first, are the user's (`--images`,
    /// HardenConfig `images:`).
    user_rows: usize,
    /// `--resolve-images`: the row of each image read from its registry, by
    /// the reference as written (merged with the user's and the built-in
    /// rows: [`resolved::merged`]).
    resolved: HashMap<String, ImageRow>,
    root_commands: Vec<RootCommand>,
    /// Rows by the literal last component of one of their patterns.
    by_name: HashMap<String, Vec<usize>>,
    /// Rows with a pattern whose last component has a `*`.
    wildcard: Vec<usize>,
}

/// A table file: `images:` rows and `rootCommands:`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct TableFile {
    images: Vec<Value>,
    #[serde(default)]
    root_commands: Vec<RootCommand>,
}

impl ImageTable {
    /// The table compiled into harden.
    pub fn built_in() -> Result<ImageTable, String> {
        let origin = "data/images.yaml (built in)";
        let table = Self::from_text(BUILT_IN, origin)?;
        match table.rows.iter().find(|r| r.source.is_none()) {
            Some(r) => Err(format!("The image table {origin} is not valid: row {} has no source.", r.family)),
            None => Ok(table),
        }
    }

    /// A table file (`--images FILE`): `images:` and, optionally, `rootCommands:`.
    pub fn from_text(text: &str, origin: &str) -> Result<ImageTable, String> {
        let invalid = |e: String| format!("The image table {origin} is not valid: {e}.");
        let value = crate::yaml::parse_values(text)
            .map_err(|e| format!("The image table {origin} is not valid YAML: {e}."))?
            .into_iter()
            .next()
            .unwrap_or(Value::Null);
        let file: TableFile = serde_json::from_value(value).map_err(|e| invalid(e.to_string()))?;
        for c in &file.root_commands {
            if !c.source.starts_with("https://") {
                return Err(invalid(format!("rootCommands {:?} has no https:// source", c.programs)));
            }
            if c.programs.is_empty() || c.subcommand.is_empty() {
                return Err(invalid("a rootCommands entry needs programs and a subcommand".to_string()));
            }
        }
        let mut table = Self::from_rows(file.images, origin)?;
        table.root_commands = file.root_commands;
        Ok(table)
    }

    /// Rows of a HardenConfig's `images:`.
    pub fn from_rows(values: Vec<Value>, origin: &str) -> Result<ImageTable, String> {
        let rows = values
            .into_iter()
            .enumerate()
            .map(|(i, v)| ImageRow::from_value(v, i))
            .collect::<Result<Vec<_>, _>>()
            .and_then(|rows| check_order(&rows).map(|()| rows))
            .map_err(|e| format!("The image table {origin} is not valid: {e}."))?;
        Ok(Self::indexed(rows, Vec::new()))
    }

    /// `user`'s rows and commands first, then this table's: the first
    /// matching row wins, so the user's rows override the built-in ones.
    pub fn with_user_rows(&self, user: ImageTable) -> ImageTable {
        let user_rows = user.rows.len() + self.user_rows;
        let rows = user.rows.into_iter().chain(self.rows.iter().cloned()).collect();
        let commands = user.root_commands.into_iter().chain(self.root_commands.iter().cloned()).collect();
        ImageTable { user_rows, ..Self::indexed(rows, commands) }
    }

    /// This table with a row for each image whose config was read from its
    /// registry (`reference` as written in the manifests, its config): the
    /// user's row, the registry's and the built-in one merged, which
    /// [`ImageTable::find`] gives for that reference from then on.
    pub fn with_resolved(&self, configs: &[(String, ImageConfig)]) -> ImageTable {
        let mut table = self.clone();
        for (reference, config) in configs {
            let r = Reference::parse(reference);
            let matching: Vec<usize> = self.candidates(&r).filter(|&i| self.rows[i].matches(&r)).collect();
            let user = matching.iter().find(|&&i| i < self.user_rows).map(|&i| &self.rows[i]);
            let built_in = matching.iter().find(|&&i| i >= self.user_rows).map(|&i| &self.rows[i]);
            let row = resolved::merged(user, resolved::from_config(reference, config), built_in);
            table.resolved.insert(reference.clone(), row);
        }
        table
    }

    fn indexed(rows: Vec<ImageRow>, root_commands: Vec<RootCommand>) -> ImageTable {
        let mut by_name: HashMap<String, Vec<usize>> = HashMap::new();
        let mut wildcard = Vec::new();
        for (i, row) in rows.iter().enumerate() {
            for p in &row.patterns {
                match p.literal_name() {
                    Some(name) => by_name.entry(name.to_string()).or_default().push(i),
                    None => wildcard.push(i),
                }
            }
        }
        ImageTable { rows, root_commands, by_name, wildcard, user_rows: 0, resolved: HashMap::new() }
    }

    pub fn rows(&self) -> &[ImageRow] {
        &self.rows
    }

    pub fn root_commands(&self) -> &[RootCommand] {
        &self.root_commands
    }

    /// The row for `image`: the one made with its registry's config if it
    /// was read (`--resolve-images`), else the first row whose patterns and
    /// tags match it.
    pub fn find(&self, image: &str) -> Option<&ImageRow> {
        if let Some(row) = self.resolved.get(image) {
            return Some(row);
        }
        let r = Reference::parse(image);
        self.candidates(&r).map(|i| &self.rows[i]).find(|row| row.matches(&r))
    }

    /// The rows that may match `r`, by position: those of its last path
    /// component's name and those with a `*` there.
    fn candidates(&self, r: &Reference) -> impl Iterator<Item = usize> {
        let name = r.path.rsplit('/').next().unwrap_or("");
        let mut candidates: Vec<usize> =
            self.by_name.get(name).into_iter().flatten().chain(&self.wildcard).copied().collect();
        candidates.sort_unstable();
        candidates.dedup();
        candidates.into_iter()
    }

    /// The first root command a container's `command` + `args` run.
    pub fn root_command(&self, argv: &[&str]) -> Option<&RootCommand> {
        self.root_commands.iter().find(|c| c.is_run_by(argv))
    }
}

/// The built-in table, read once per process (for tests and tools; the
/// command line reports a load error instead). A table that does not load
/// is a build defect, which the unit tests catch: here it is empty.
pub fn built_in_table() -> &'static ImageTable {
    static TABLE: OnceLock<ImageTable> = OnceLock::new();
    TABLE.get_or_init(|| ImageTable::built_in().unwrap_or_default())
}

/// Families are unique, and no row is shadowed by an earlier one.
fn check_order(rows: &[ImageRow]) -> Result<(), String> {
    let mut families = HashSet::new();
    for (j, later) in rows.iter().enumerate() {
        if !families.insert(later.family.as_str()) {
            return Err(format!("family {:?} appears twice", later.family));
        }
        if let Some((i, earlier)) = rows[..j].iter().enumerate().find(|(_, e)| e.shadows(later)) {
            return Err(format!(
                "row {} ({}) can never match: row {} ({}) comes first with the same patterns and no narrower tags \
                 (overlapping patterns in the wrong order: put the narrower row first)",
                j + 1,
                later.family,
                i + 1,
                earlier.family
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;

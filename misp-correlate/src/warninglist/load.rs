//! Reading lists from disk.
//!
//! A path is either one list file or a directory tree; in a tree every file
//! named `list.json` is a list (misp-warninglists keeps them as
//! `lists/<slug>/list.json`). Files are read and parsed in parallel. A file
//! that cannot be used as a whole is an [`Error`] naming it, and the other
//! files still load.

use std::fs;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::{EntryProblem, Improvements, Matcher, MatcherBuilder, Warninglist};
use crate::{Error, Result};

/// Lists read from disk, and the files that could not be used.
#[derive(Debug, Default)]
pub struct LoadedLists {
    /// The lists, sorted by file path.
    pub lists: Vec<Warninglist>,
    /// One error per file that could not be read or is not a usable list.
    pub errors: Vec<Error>,
}

/// Reads every list under `path`: the file itself, or each `list.json` in
/// the directory tree (symbolic links are followed for files, not for
/// directories).
///
/// # Errors
///
/// [`Error::Io`] when `path` itself cannot be read. Problems with
/// individual files are returned in [`LoadedLists::errors`].
pub fn load_lists(path: &Path) -> Result<LoadedLists> {
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    if !fs::metadata(path).map_err(io)?.is_dir() {
        return Ok(parse_files(&[path.to_path_buf()]));
    }
    let mut files = Vec::new();
    let mut errors = Vec::new();
    find_list_files(path, &mut files, &mut errors);
    if files.is_empty() && errors.is_empty() {
        return Err(Error::Warninglist {
            path: path.to_path_buf(),
            message: "no list.json file in this directory tree".into(),
        });
    }
    files.sort();
    let mut loaded = parse_files(&files);
    errors.append(&mut loaded.errors);
    loaded.errors = errors;
    Ok(loaded)
}

/// Reads and parses `files` in parallel, largest first: the two largest
/// files of misp-warninglists (25 and 22 MB of the 65 MB) take most of the
/// parsing time, so each is started at once on its own core and the small
/// files fill in around them (in path order, one large file can start last
/// and leave the other core idle). Results come back in `files` order.
fn parse_files(files: &[PathBuf]) -> LoadedLists {
    let mut order: Vec<(u64, usize)> = files
        .iter()
        .enumerate()
        .map(|(i, file)| (fs::metadata(file).map_or(0, |m| m.len()), i))
        .collect();
    order.sort_unstable_by(|a, b| b.cmp(a));
    // `par_bridge` hands the files out one at a time in this order.
    let mut parsed: Vec<(usize, Result<Warninglist>)> = order
        .into_iter()
        .filter_map(|(_, i)| files.get(i).map(|file| (i, file)))
        .par_bridge()
        .map(|(i, file)| {
            let list = fs::read(file)
                .map_err(|source| Error::Io {
                    path: file.clone(),
                    source,
                })
                .and_then(|bytes| Warninglist::from_json(&bytes, file));
            (i, list)
        })
        .collect();
    parsed.sort_unstable_by_key(|(i, _)| *i);
    let mut loaded = LoadedLists::default();
    for (_, result) in parsed {
        match result {
            Ok(list) => loaded.lists.push(list),
            Err(error) => loaded.errors.push(error),
        }
    }
    loaded
}

fn find_list_files(dir: &Path, files: &mut Vec<PathBuf>, errors: &mut Vec<Error>) {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(source) => {
            errors.push(Error::Io {
                path: dir.to_path_buf(),
                source,
            });
            return;
        }
    };
    for entry in entries {
        let entry = match entry {
            Ok(entry) => entry,
            Err(source) => {
                errors.push(Error::Io {
                    path: dir.to_path_buf(),
                    source,
                });
                continue;
            }
        };
        let path = entry.path();
        match entry.file_type() {
            Ok(kind) if kind.is_dir() => find_list_files(&path, files, errors),
            Ok(_) if entry.file_name() == "list.json" => files.push(path),
            Ok(_) => {}
            Err(source) => errors.push(Error::Io { path, source }),
        }
    }
}

/// A matcher built from disk, with everything that went wrong along the way.
#[derive(Debug)]
pub struct Loaded {
    /// The matcher over every usable list.
    pub matcher: Matcher,
    /// Files (or lists) that could not be used at all, including lists whose
    /// name repeats an earlier list's.
    pub errors: Vec<Error>,
    /// Entries that can never match, and unknown `matching_attributes`.
    pub problems: Vec<EntryProblem>,
}

/// Reads every list under `path` and builds a matcher with `improvements`.
///
/// # Errors
///
/// [`Error::Io`] when `path` cannot be read, or an error from
/// [`MatcherBuilder::build`]. Per-file problems are in [`Loaded::errors`].
pub fn load(path: &Path, improvements: Improvements) -> Result<Loaded> {
    let LoadedLists { lists, mut errors } = load_lists(path)?;
    let mut builder = MatcherBuilder::new();
    builder.improvements(improvements);
    for list in lists {
        if let Err(error) = builder.add(list) {
            errors.push(error);
        }
    }
    let (matcher, problems) = builder.build()?;
    Ok(Loaded {
        matcher,
        errors,
        problems,
    })
}

//! One warninglist as read from JSON or built by hand.
//!
//! The JSON format is misp-warninglists' `list.json` (`name`, `description`,
//! `version`, `type`, `list`, `matching_attributes`) read the way MISP's
//! importer reads it: `version` defaults to 1 and `type` to `string`; an
//! array-valued `type` takes its first element; `list` is an array of
//! entries or an object `{entry: comment}` (custom lists); entries `""` and
//! `"0"` are dropped; everything else is kept verbatim, in order.
//!
//! Entries are parsed without building a JSON tree and without one
//! allocation per entry: they are appended to one text buffer.

use std::borrow::Cow;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::ListType;
use crate::{Error, Result};

/// A warninglist: metadata and entries.
///
/// Built from JSON with [`Warninglist::from_json`] or by hand with
/// [`Warninglist::new`] and [`push_entry`](Warninglist::push_entry).
#[derive(Clone, Debug)]
pub struct Warninglist {
    name: String,
    description: String,
    version: u64,
    list_type: ListType,
    matching_attributes: Vec<String>,
    entries: EntryBuf,
    comments: Vec<(u32, String)>,
    source: Option<PathBuf>,
    dropped: usize,
    rejected: Vec<(String, ProblemKind)>,
}

/// Entries back to back in one string.
#[derive(Clone, Debug, Default)]
struct EntryBuf {
    text: String,
    ends: Vec<usize>,
}

impl EntryBuf {
    fn push(&mut self, entry: &str) {
        self.text.push_str(entry);
        self.ends.push(self.text.len());
    }

    fn len(&self) -> usize {
        self.ends.len()
    }

    fn text_len(&self) -> usize {
        self.text.len()
    }

    fn iter(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        (0..self.ends.len()).map(|i| {
            let start = i
                .checked_sub(1)
                .and_then(|p| self.ends.get(p))
                .copied()
                .unwrap_or(0);
            let end = self.ends.get(i).copied().unwrap_or(start);
            self.text.get(start..end).unwrap_or("")
        })
    }
}

impl Warninglist {
    /// An empty list with version 1, no description, and no
    /// `matching_attributes` (so it applies to every type).
    pub fn new(name: impl Into<String>, list_type: ListType) -> Warninglist {
        Warninglist {
            name: name.into(),
            description: String::new(),
            version: 1,
            list_type,
            matching_attributes: Vec::new(),
            entries: EntryBuf::default(),
            comments: Vec::new(),
            source: None,
            dropped: 0,
            rejected: Vec::new(),
        }
    }

    /// Sets the attribute types the list applies to (empty: all types).
    pub fn set_matching_attributes<I, S>(&mut self, types: I) -> &mut Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.matching_attributes = types.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the description.
    pub fn set_description(&mut self, description: impl Into<String>) -> &mut Self {
        self.description = description.into();
        self
    }

    /// Sets the version.
    pub fn set_version(&mut self, version: u64) -> &mut Self {
        self.version = version;
        self
    }

    /// Sets the file the list came from (used in problem reports).
    pub fn set_source(&mut self, source: impl Into<PathBuf>) -> &mut Self {
        self.source = Some(source.into());
        self
    }

    /// Appends an entry, or counts it as dropped when it is `""` or `"0"`
    /// (MISP's import drops values that are empty in PHP's sense).
    pub fn push_entry(&mut self, entry: &str) -> &mut Self {
        if entry.is_empty() || entry == "0" {
            self.dropped += 1;
        } else {
            self.entries.push(entry);
        }
        self
    }

    /// Appends an entry with a comment (MISP's custom-list shape).
    pub fn push_entry_with_comment(&mut self, entry: &str, comment: &str) -> &mut Self {
        let before = self.entries.len();
        self.push_entry(entry);
        if self.entries.len() > before && !comment.is_empty() {
            if let Ok(index) = u32::try_from(before) {
                self.comments.push((index, comment.to_owned()));
            }
        }
        self
    }

    /// Parses a list file. `source` names the file in errors and problem
    /// reports.
    ///
    /// # Errors
    ///
    /// [`Error::Warninglist`] when the bytes are not JSON, are not an
    /// object, lack `name` or `list`, or have an unknown `type`. Entries
    /// that are not strings do not fail the list: they are kept for the
    /// builder to report.
    pub fn from_json(bytes: &[u8], source: impl AsRef<Path>) -> Result<Warninglist> {
        let path = source.as_ref();
        let fail = |message: String| Error::Warninglist {
            path: path.to_path_buf(),
            message,
        };
        let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        if text.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            return Err(fail("not a warninglist: expected a JSON object".into()));
        }
        // Validating UTF-8 once for the whole file lets serde_json skip the
        // check for each string.
        let text = std::str::from_utf8(text).map_err(|e| fail(format!("not UTF-8: {e}")))?;
        let raw: RawList<'_> = serde_json::from_str(text)
            .map_err(|e| fail(format!("not a warninglist JSON object: {e}")))?;
        let name = match raw.name {
            Some(Scalar::Text(name)) if !name.is_empty() => name.into_owned(),
            Some(Scalar::Text(_)) => return Err(fail("`name` is empty".into())),
            Some(_) => return Err(fail("`name` is not a string".into())),
            None => return Err(fail("missing `name`".into())),
        };
        let list_type = match raw.list_type {
            None | Some(Scalar::Null) => ListType::String,
            Some(Scalar::Text(text)) => ListType::from_name(&text)
                .ok_or_else(|| fail(format!("list {name:?}: unknown type {text:?} (expected string, substring, hostname, cidr or regex)")))?,
            Some(other) => return Err(fail(format!("list {name:?}: `type` is {}, not a string", other.kind()))),
        };
        let entries = raw
            .list
            .ok_or_else(|| fail(format!("list {name:?}: missing `list`")))?;
        let version = match raw.version {
            Some(Scalar::Number(n)) => n.as_u64().unwrap_or(1),
            Some(Scalar::Text(text)) => text.trim().parse().unwrap_or(1),
            _ => 1,
        };
        let description = match raw.description {
            Some(Scalar::Text(text)) => text.into_owned(),
            _ => String::new(),
        };
        let mut rejected = entries.rejected;
        let mut matching_attributes = Vec::new();
        for ty in raw.matching_attributes.unwrap_or_default() {
            match ty {
                Scalar::Text(text) => matching_attributes.push(text.into_owned()),
                other => rejected.push((other.describe(), ProblemKind::NotAString(other.kind()))),
            }
        }
        Ok(Warninglist {
            name,
            description,
            version,
            list_type,
            matching_attributes,
            entries: entries.kept,
            comments: entries.comments,
            source: Some(path.to_path_buf()),
            dropped: entries.dropped,
            rejected,
        })
    }

    /// The list's `name`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The list's `description`.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// The list's `version` (1 when missing).
    pub fn version(&self) -> u64 {
        self.version
    }

    /// The list's `type`.
    pub fn list_type(&self) -> ListType {
        self.list_type
    }

    /// The list's `matching_attributes` as written (empty: all types).
    pub fn matching_attributes(&self) -> &[String] {
        &self.matching_attributes
    }

    /// The file the list came from, if any.
    pub fn source(&self) -> Option<&Path> {
        self.source.as_deref()
    }

    /// The kept entries, verbatim, in file order.
    pub fn entries(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        self.entries.iter()
    }

    /// The comment of the `index`-th kept entry, if it has one.
    pub fn comment(&self, index: usize) -> Option<&str> {
        let pos = self
            .comments
            .binary_search_by_key(&index, |(i, _)| *i as usize)
            .ok()?;
        self.comments.get(pos).map(|(_, c)| c.as_str())
    }

    /// Number of kept entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Total bytes of the kept entries.
    pub(crate) fn entry_bytes(&self) -> usize {
        self.entries.text_len()
    }

    /// Whether the list keeps no entry.
    pub fn is_empty(&self) -> bool {
        self.entries.len() == 0
    }

    /// Number of entries dropped as `""` or `"0"`.
    pub fn dropped(&self) -> usize {
        self.dropped
    }

    /// Entries rejected while reading (values that are not strings or
    /// numbers), with the reason.
    pub(crate) fn rejected(&self) -> &[(String, ProblemKind)] {
        &self.rejected
    }
}

/// An entry (or a `matching_attributes` name) that can never match, with
/// the list and file it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntryProblem {
    /// The list file, if the list came from one.
    pub file: Option<PathBuf>,
    /// The list's name.
    pub list: String,
    /// The entry as written.
    pub entry: String,
    /// What is wrong with it.
    pub kind: ProblemKind,
}

impl fmt::Display for EntryProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(file) = &self.file {
            write!(f, "{}: ", file.display())?;
        }
        write!(f, "list {:?}: ", self.list)?;
        match self.kind {
            ProblemKind::UnknownAttributeType => {
                write!(f, "matching attribute {:?}: ", self.entry)?
            }
            _ => write!(f, "entry {:?}: ", self.entry)?,
        }
        write!(f, "{}", self.kind)
    }
}

/// Why an entry can never match.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProblemKind {
    /// The JSON value is not a string or a number (it is the named JSON
    /// kind).
    NotAString(&'static str),
    /// A CIDR entry that does not parse, or an IPv4 entry MISP can never
    /// match (host bits set, leading zeros).
    InvalidCidr(&'static str),
    /// A hostname entry made only of dots.
    EmptyHostname,
    /// A regex entry PHP would reject (delimiters, modifiers) or the `regex`
    /// crate cannot compile.
    InvalidRegex(String),
    /// A `matching_attributes` name MISP does not know. The list still
    /// applies to that exact type name.
    UnknownAttributeType,
}

impl fmt::Display for ProblemKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProblemKind::NotAString(kind) => write!(f, "entry is a JSON {kind}, not a string"),
            ProblemKind::InvalidCidr(why) => write!(f, "unusable CIDR: {why}"),
            ProblemKind::EmptyHostname => {
                f.write_str("hostname entry is empty once dots are removed")
            }
            ProblemKind::InvalidRegex(why) => write!(f, "unusable regex: {why}"),
            ProblemKind::UnknownAttributeType => f.write_str("not a MISP attribute type"),
        }
    }
}

/// How a list's entries were accounted for.
///
/// `total == loaded + dropped + unusable`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct ListStats {
    /// Entries in the file (or pushed).
    pub total: usize,
    /// Entries compiled into the matcher.
    pub loaded: usize,
    /// Entries dropped as `""` or `"0"`, as MISP's import does.
    pub dropped: usize,
    /// Entries reported as unusable.
    pub unusable: usize,
}

impl std::ops::AddAssign for ListStats {
    fn add_assign(&mut self, other: ListStats) {
        self.total += other.total;
        self.loaded += other.loaded;
        self.dropped += other.dropped;
        self.unusable += other.unusable;
    }
}

// ---------------------------------------------------------------------------
// JSON reading.

#[derive(Deserialize)]
struct RawList<'a> {
    #[serde(borrow, default)]
    name: Option<Scalar<'a>>,
    #[serde(borrow, default)]
    description: Option<Scalar<'a>>,
    #[serde(borrow, default)]
    version: Option<Scalar<'a>>,
    #[serde(rename = "type", borrow, default)]
    list_type: Option<Scalar<'a>>,
    #[serde(default)]
    list: Option<RawEntries>,
    #[serde(borrow, default)]
    matching_attributes: Option<Vec<Scalar<'a>>>,
}

/// A JSON value reduced to what the importer cares about. An array becomes
/// its first element (MISP takes `type[0]`).
enum Scalar<'a> {
    Text(Cow<'a, str>),
    Number(serde_json::Number),
    Bool(bool),
    Null,
    Array,
    Object,
}

impl Scalar<'_> {
    fn kind(&self) -> &'static str {
        match self {
            Scalar::Text(_) => "string",
            Scalar::Number(_) => "number",
            Scalar::Bool(_) => "boolean",
            Scalar::Null => "null",
            Scalar::Array => "array",
            Scalar::Object => "object",
        }
    }

    fn describe(&self) -> String {
        match self {
            Scalar::Text(text) => text.to_string(),
            Scalar::Number(n) => n.to_string(),
            Scalar::Bool(b) => b.to_string(),
            Scalar::Null => "null".into(),
            Scalar::Array => "[…]".into(),
            Scalar::Object => "{…}".into(),
        }
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Scalar<'a> {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ScalarVisitor {
            first_of_array: true,
        })
    }
}

struct ScalarVisitor {
    first_of_array: bool,
}

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Scalar<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Scalar::Text(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Scalar::Text(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(Scalar::Text(Cow::Owned(v)))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Scalar::Number(v.into()))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Scalar::Number(v.into()))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Scalar::Null, Scalar::Number))
    }
    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Scalar::Bool(v))
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Scalar::Null)
    }
    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(Scalar::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let value = if self.first_of_array {
            seq.next_element_seed(ScalarSeed {
                first_of_array: false,
            })?
            .unwrap_or(Scalar::Null)
        } else {
            Scalar::Array
        };
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(value)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Scalar::Object)
    }
}

struct ScalarSeed {
    first_of_array: bool,
}

impl<'de> DeserializeSeed<'de> for ScalarSeed {
    type Value = Scalar<'de>;
    fn deserialize<D: de::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(ScalarVisitor {
            first_of_array: self.first_of_array,
        })
    }
}

/// The `list` field, read straight into an [`EntryBuf`].
#[derive(Default)]
struct RawEntries {
    kept: EntryBuf,
    comments: Vec<(u32, String)>,
    dropped: usize,
    rejected: Vec<(String, ProblemKind)>,
}

impl RawEntries {
    fn take(&mut self, value: Scalar<'_>) {
        match value {
            Scalar::Text(text) => self.keep(&text),
            Scalar::Number(n) => self.keep(&n.to_string()),
            other => self
                .rejected
                .push((other.describe(), ProblemKind::NotAString(other.kind()))),
        }
    }

    fn keep(&mut self, entry: &str) {
        if entry.is_empty() || entry == "0" {
            self.dropped += 1;
        } else {
            self.kept.push(entry);
        }
    }
}

impl<'de> Deserialize<'de> for RawEntries {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(EntriesVisitor)
    }
}

struct EntriesVisitor;

impl<'de> Visitor<'de> for EntriesVisitor {
    type Value = RawEntries;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of entries or an object {entry: comment}")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawEntries, A::Error> {
        let mut out = RawEntries::default();
        if let Some(n) = seq.size_hint() {
            out.kept.ends.reserve(n);
        }
        while let Some(value) = seq.next_element_seed(ScalarSeed {
            first_of_array: false,
        })? {
            out.take(value);
        }
        Ok(out)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawEntries, A::Error> {
        let mut out = RawEntries::default();
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            let comment = map.next_value_seed(ScalarSeed {
                first_of_array: false,
            })?;
            let before = out.kept.len();
            out.keep(&key);
            if let (Scalar::Text(comment), true) = (comment, out.kept.len() > before) {
                if let (false, Ok(index)) = (comment.is_empty(), u32::try_from(before)) {
                    out.comments.push((index, comment.into_owned()));
                }
            }
        }
        Ok(out)
    }

    fn visit_unit<E: de::Error>(self) -> Result<RawEntries, E> {
        Err(E::custom("`list` is null"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_misp_warninglists_shape() {
        let json = br#"{"name": "Test", "description": "d", "version": 3, "type": "hostname",
            "matching_attributes": ["domain", "url"], "list": ["a.com", "", "0", ".b.com", "c\u0041.com"]}"#;
        let list = Warninglist::from_json(json, "t/list.json").unwrap();
        assert_eq!(list.name(), "Test");
        assert_eq!(list.version(), 3);
        assert_eq!(list.list_type(), ListType::Hostname);
        assert_eq!(list.matching_attributes(), ["domain", "url"]);
        assert_eq!(
            list.entries().collect::<Vec<_>>(),
            ["a.com", ".b.com", "cA.com"]
        );
        assert_eq!(list.dropped(), 2);
        assert_eq!(list.source(), Some(Path::new("t/list.json")));
    }

    #[test]
    fn defaults_and_custom_shape() {
        let json = br#"{"name": "Custom", "list": {"x": "why", "y": null, "": "dropped", "z": ""}, "type": ["cidr", "string"]}"#;
        let list = Warninglist::from_json(json, "c.json").unwrap();
        assert_eq!(list.version(), 1);
        assert_eq!(
            list.list_type(),
            ListType::Cidr,
            "array type takes its first element"
        );
        assert_eq!(list.entries().collect::<Vec<_>>(), ["x", "y", "z"]);
        assert_eq!(list.comment(0), Some("why"));
        assert_eq!(list.comment(1), None);
        assert_eq!(list.comment(2), None);
        assert_eq!(list.dropped(), 1);
        assert!(list.matching_attributes().is_empty());

        let typeless = Warninglist::from_json(br#"{"name": "T", "list": []}"#, "t.json").unwrap();
        assert_eq!(typeless.list_type(), ListType::String);
        assert!(typeless.is_empty());
    }

    #[test]
    fn odd_entries_are_kept_or_reported() {
        let json = br#"{"name": "N", "list": [443, 0, true, null, ["a"], {"b": 1}, 1.5, "ok"]}"#;
        let list = Warninglist::from_json(json, "n.json").unwrap();
        assert_eq!(list.entries().collect::<Vec<_>>(), ["443", "1.5", "ok"]);
        assert_eq!(list.dropped(), 1);
        let kinds: Vec<_> = list
            .rejected()
            .iter()
            .map(|(e, k)| (e.as_str(), k.clone()))
            .collect();
        assert_eq!(
            kinds,
            [
                ("true", ProblemKind::NotAString("boolean")),
                ("null", ProblemKind::NotAString("null")),
                ("[…]", ProblemKind::NotAString("array")),
                ("{…}", ProblemKind::NotAString("object")),
            ]
        );
    }

    #[test]
    fn list_level_errors_name_the_file() {
        let cases: [(&[u8], &str); 8] = [
            (b"not json", "expected a JSON object"),
            (b"[1, 2]", "expected a JSON object"),
            (
                b"{\"name\": \"A\", \"list\": [1,",
                "not a warninglist JSON object: EOF",
            ),
            (br#"{"list": []}"#, "missing `name`"),
            (br#"{"name": "", "list": []}"#, "`name` is empty"),
            (br#"{"name": "A"}"#, "missing `list`"),
            (
                br#"{"name": "A", "type": "regexp", "list": []}"#,
                "unknown type \"regexp\"",
            ),
            (
                br#"{"name": "A", "list": "x"}"#,
                "not a warninglist JSON object",
            ),
        ];
        for (json, expected) in cases {
            let err = Warninglist::from_json(json, "lists/bad/list.json").unwrap_err();
            let text = err.to_string();
            assert!(text.starts_with("lists/bad/list.json: "), "{text}");
            assert!(text.contains(expected), "{text} should contain {expected}");
        }
    }

    #[test]
    fn hand_built_lists_apply_the_drop_rule() {
        let mut list = Warninglist::new("H", ListType::String);
        list.push_entry("a")
            .push_entry("")
            .push_entry("0")
            .push_entry_with_comment("b", "note");
        assert_eq!(list.entries().collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(list.dropped(), 2);
        assert_eq!(list.comment(1), Some("note"));
    }
}

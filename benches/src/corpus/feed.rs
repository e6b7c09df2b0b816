//! Writing a corpus as a MISP feed: `manifest.json` and one `<uuid>.json`
//! per event, in MISP JSON as MISP and PyMISP write feeds (numbers as
//! strings, booleans as booleans, `Attribute` and `Object[].Attribute`
//! arrays, `Orgc`/`Org`, `Tag`, `SharingGroup`).
//!
//! Events are written by parallel workers (rayon), each streaming a range
//! of events straight to disk through a buffer: no event is ever held in
//! memory as a document.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::rng::mix64;
use super::{Corpus, Error, GeneratedEvent, GeneratedOrg, ObjectLayout, UuidOf, push_uuid};

/// What [`Corpus::write_feed`] wrote.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FeedSummary {
    /// Event files written.
    pub events: u64,
    /// Objects written.
    pub objects: u64,
    /// Attributes written (objects' attributes included).
    pub attributes: u64,
    /// Bytes written, manifest included.
    pub bytes: u64,
}

impl FeedSummary {
    fn add(mut self, other: FeedSummary) -> FeedSummary {
        self.events += other.events;
        self.objects += other.objects;
        self.attributes += other.attributes;
        self.bytes += other.bytes;
        self
    }
}

impl Corpus {
    /// Writes the corpus as a MISP feed into `dir` (created if missing):
    /// `manifest.json` and `<event uuid>.json` per event. Existing files of
    /// the same names are replaced.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] naming the file that could not be written.
    pub fn write_feed(&self, dir: impl AsRef<Path>) -> Result<FeedSummary, Error> {
        let dir = dir.as_ref();
        fs::create_dir_all(dir).map_err(|source| Error::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let orgs: Vec<GeneratedOrg> = (0..self.config.acl.orgs)
            .filter_map(|o| self.org(o))
            .collect();
        let parts = rayon::current_num_threads().max(1) * 8;
        let batches = self.event_batches(parts);
        let summary = batches
            .into_par_iter()
            .map(|events| self.write_events(dir, events, &orgs))
            .try_reduce(FeedSummary::default, |a, b| Ok(a.add(b)))?;
        let manifest = self.write_manifest(dir, &orgs)?;
        Ok(summary.add(FeedSummary {
            bytes: manifest,
            ..FeedSummary::default()
        }))
    }

    /// Up to `parts` ranges of whole events with about equal attributes.
    fn event_batches(&self, parts: usize) -> Vec<Range<u32>> {
        let events = self.config.events;
        let target = (self.config.attributes / parts.max(1) as u64).max(1);
        let mut out = Vec::new();
        let mut start = 0;
        let mut acc = 0;
        for e in 0..events {
            let r = self.event_attributes(e);
            acc += r.end - r.start;
            if acc >= target {
                out.push(start..e + 1);
                start = e + 1;
                acc = 0;
            }
        }
        if start < events {
            out.push(start..events);
        }
        out
    }

    fn write_events(
        &self,
        dir: &Path,
        events: Range<u32>,
        orgs: &[GeneratedOrg],
    ) -> Result<FeedSummary, Error> {
        let mut summary = FeedSummary::default();
        let first = self.event_attributes(events.start).start;
        let last = events
            .end
            .checked_sub(1)
            .map_or(first, |e| self.event_attributes(e).end);
        let mut stream = self.attributes_range(first..last);
        let mut open: Option<EventFile> = None;
        let mut line = String::with_capacity(1024);
        while let Some((a, object)) = stream.next_with_object() {
            if open.as_ref().is_none_or(|f| f.event.index != a.event) {
                if let Some(file) = open.take() {
                    summary.bytes += file.finish()?;
                }
                let Some(event) = self.event(a.event) else {
                    continue;
                };
                let file = EventFile::create(dir, event, self, orgs)?;
                summary.events += 1;
                open = Some(file);
            }
            let Some(file) = open.as_mut() else { continue };
            line.clear();
            if a.object != file.object {
                let Some(o) = object else { continue };
                line.push_str(if file.object.is_none() {
                    "],\"Object\":["
                } else {
                    "]},"
                });
                self.object_json(&mut line, &file.event, o);
                file.object = a.object;
                file.first = true;
                summary.objects += 1;
            }
            if !file.first {
                line.push(',');
            }
            file.first = false;
            self.attribute_json(&mut line, &file.event, a);
            file.write(line.as_bytes())?;
            summary.attributes += 1;
        }
        if let Some(file) = open.take() {
            summary.bytes += file.finish()?;
        }
        Ok(summary)
    }

    fn attribute_json(
        &self,
        out: &mut String,
        event: &GeneratedEvent,
        a: &super::GeneratedAttribute,
    ) {
        out.push_str("{\"uuid\":\"");
        push_uuid(out, self.config.seed, UuidOf::Attribute, a.index);
        out.push_str("\",\"type\":");
        push_json_str(out, a.ty.name());
        out.push_str(",\"category\":");
        push_json_str(out, a.category.name());
        out.push_str(",\"to_ids\":");
        out.push_str(if a.to_ids { "true" } else { "false" });
        out.push_str(",\"value\":");
        push_json_str(out, &a.value);
        out.push_str(",\"comment\":\"\",\"timestamp\":\"");
        let day_start = event.timestamp - event.timestamp.rem_euclid(86_400);
        let span = (event.timestamp - day_start + 1).max(1) as u64;
        push_num(
            out,
            day_start + (mix64(self.config.seed ^ a.index) % span) as i64,
        );
        out.push_str("\",\"distribution\":\"");
        push_num(out, i64::from(a.distribution));
        out.push('"');
        if let Some(sg) = a.sharing_group {
            out.push_str(",\"sharing_group_id\":\"");
            push_num(out, i64::from(sg));
            out.push('"');
        }
        out.push_str(",\"disable_correlation\":");
        out.push_str(if a.disable_correlation {
            "true"
        } else {
            "false"
        });
        out.push_str(",\"deleted\":false");
        if let Some(relation) = a.object_relation {
            out.push_str(",\"object_relation\":");
            push_json_str(out, relation);
        }
        out.push('}');
    }

    fn object_json(&self, out: &mut String, event: &GeneratedEvent, o: &ObjectLayout) {
        let meta = self.object_meta(event.index, o);
        out.push_str("{\"uuid\":");
        push_json_str(out, &meta.uuid);
        out.push_str(",\"name\":");
        push_json_str(out, meta.name);
        out.push_str(",\"meta-category\":");
        push_json_str(out, meta.meta_category);
        out.push_str(",\"template_uuid\":");
        push_json_str(out, meta.template_uuid);
        out.push_str(",\"template_version\":");
        push_json_str(out, meta.template_version);
        out.push_str(",\"timestamp\":\"");
        push_num(out, event.timestamp);
        out.push_str("\",\"distribution\":\"");
        push_num(out, i64::from(meta.distribution));
        out.push('"');
        if let Some(sg) = meta.sharing_group {
            out.push_str(",\"sharing_group_id\":\"");
            push_num(out, i64::from(sg));
            out.push('"');
        }
        out.push_str(",\"comment\":\"\",\"deleted\":false,\"Attribute\":[");
    }

    /// The event fields shared by the event file and the manifest.
    fn event_head_json(
        &self,
        out: &mut String,
        e: &GeneratedEvent,
        orgs: &[GeneratedOrg],
        full: bool,
    ) {
        out.push_str("\"info\":");
        push_json_str(out, &e.info);
        out.push_str(",\"date\":");
        push_json_str(out, &e.date);
        out.push_str(",\"timestamp\":\"");
        push_num(out, e.timestamp);
        out.push_str("\",\"threat_level_id\":\"");
        push_num(out, i64::from(e.threat_level));
        out.push_str("\",\"analysis\":\"");
        push_num(out, i64::from(e.analysis));
        out.push_str("\",\"distribution\":\"");
        push_num(out, i64::from(e.distribution));
        out.push('"');
        if let Some(sg) = e.sharing_group {
            out.push_str(",\"sharing_group_id\":\"");
            push_num(out, i64::from(sg));
            out.push('"');
        }
        if full {
            out.push_str(",\"published\":");
            out.push_str(if e.published { "true" } else { "false" });
            if e.published {
                out.push_str(",\"publish_timestamp\":\"");
                push_num(out, e.timestamp);
                out.push('"');
            }
            out.push_str(",\"disable_correlation\":");
            out.push_str(if e.disable_correlation {
                "true"
            } else {
                "false"
            });
        }
        let org_json = |out: &mut String, key: &str, index: u32| {
            if let Some(org) = orgs.get(index as usize) {
                out.push_str(",\"");
                out.push_str(key);
                out.push_str("\":{\"name\":");
                push_json_str(out, &org.name);
                out.push_str(",\"uuid\":");
                push_json_str(out, &org.uuid);
                out.push('}');
            }
        };
        org_json(out, "Orgc", e.orgc);
        if full {
            org_json(out, "Org", e.org);
        }
        let (tlp, colour) = match e.distribution {
            0 => ("tlp:red", "#CC0033"),
            1 | 4 => ("tlp:amber", "#FFC000"),
            2 => ("tlp:green", "#339900"),
            _ => ("tlp:clear", "#FFFFFF"),
        };
        out.push_str(",\"Tag\":[{\"name\":\"");
        out.push_str(tlp);
        out.push_str("\",\"colour\":\"");
        out.push_str(colour);
        out.push_str("\"},{\"name\":\"misp-gen\",\"colour\":\"#0088CC\"}]");
        if let (true, Some(sg)) = (full, e.sharing_group) {
            out.push_str(",\"SharingGroup\":{\"name\":\"Sharing group ");
            push_num(out, i64::from(sg));
            out.push_str("\",\"uuid\":\"");
            push_uuid(out, self.config.seed, UuidOf::SharingGroup, u64::from(sg));
            out.push_str("\"}");
        }
    }

    fn write_manifest(&self, dir: &Path, orgs: &[GeneratedOrg]) -> Result<u64, Error> {
        let path = dir.join("manifest.json");
        let io_err = |source| Error::Io {
            path: path.clone(),
            source,
        };
        let file = File::create(&path).map_err(io_err)?;
        let mut w = BufWriter::with_capacity(
            1 << 16,
            Counting {
                inner: file,
                bytes: 0,
            },
        );
        let mut line = String::with_capacity(1024);
        w.write_all(b"{").map_err(io_err)?;
        for (i, e) in self.events().enumerate() {
            line.clear();
            if i > 0 {
                line.push(',');
            }
            push_json_str(&mut line, &e.uuid);
            line.push_str(":{");
            self.event_head_json(&mut line, &e, orgs, false);
            line.push('}');
            w.write_all(line.as_bytes()).map_err(io_err)?;
        }
        w.write_all(b"}\n").map_err(io_err)?;
        let counting = w.into_inner().map_err(|e| io_err(e.into_error()))?;
        Ok(counting.bytes)
    }
}

/// An event file being written.
struct EventFile {
    event: GeneratedEvent,
    path: PathBuf,
    w: BufWriter<Counting<File>>,
    /// The object whose attributes are being written, if any.
    object: Option<u32>,
    /// No attribute written yet in the current array.
    first: bool,
}

impl EventFile {
    fn create(
        dir: &Path,
        event: GeneratedEvent,
        corpus: &Corpus,
        orgs: &[GeneratedOrg],
    ) -> Result<EventFile, Error> {
        let path = dir.join(format!("{}.json", event.uuid));
        let file = File::create(&path).map_err(|source| Error::Io {
            path: path.clone(),
            source,
        })?;
        let mut head = String::with_capacity(1024);
        head.push_str("{\"Event\":{\"uuid\":");
        push_json_str(&mut head, &event.uuid);
        head.push(',');
        corpus.event_head_json(&mut head, &event, orgs, true);
        head.push_str(",\"Attribute\":[");
        let mut f = EventFile {
            event,
            path,
            w: BufWriter::with_capacity(
                1 << 17,
                Counting {
                    inner: file,
                    bytes: 0,
                },
            ),
            object: None,
            first: true,
        };
        f.write(head.as_bytes())?;
        Ok(f)
    }

    fn write(&mut self, bytes: &[u8]) -> Result<(), Error> {
        self.w.write_all(bytes).map_err(|source| Error::Io {
            path: self.path.clone(),
            source,
        })
    }

    /// Closes the arrays and the document; returns the bytes written.
    fn finish(mut self) -> Result<u64, Error> {
        let tail: &[u8] = if self.object.is_some() {
            b"]}]}}\n"
        } else {
            b"]}}\n"
        };
        self.write(tail)?;
        let path = self.path;
        let counting = self.w.into_inner().map_err(|e| Error::Io {
            path: path.clone(),
            source: e.into_error(),
        })?;
        Ok(counting.bytes)
    }
}

/// Counts the bytes written through it.
struct Counting<W> {
    inner: W,
    bytes: u64,
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Appends `s` as a JSON string.
pub(crate) fn push_json_str(out: &mut String, s: &str) {
    out.push('"');
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let escape: &str = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0..=0x1F => "",
            _ => continue,
        };
        out.push_str(&s[start..i]);
        if escape.is_empty() {
            out.push_str("\\u00");
            out.push(char::from(b"0123456789abcdef"[usize::from(b >> 4)]));
            out.push(char::from(b"0123456789abcdef"[usize::from(b & 15)]));
        } else {
            out.push_str(escape);
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

fn push_num(out: &mut String, n: i64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    let mut m = n.unsigned_abs();
    loop {
        i -= 1;
        buf[i] = b'0' + (m % 10) as u8;
        m /= 10;
        if m == 0 {
            break;
        }
    }
    if n < 0 {
        out.push('-');
    }
    out.push_str(std::str::from_utf8(&buf[i..]).unwrap_or("0"));
}

#[cfg(test)]
mod tests {
    use super::super::uuid;
    use super::*;

    #[test]
    fn json_strings_are_escaped() {
        let mut s = String::new();
        push_json_str(&mut s, "a\"b\\c\nd\u{1}é");
        assert_eq!(s, "\"a\\\"b\\\\c\\nd\\u0001é\"");
        let back: String = serde_json::from_str(&s).unwrap();
        assert_eq!(back, "a\"b\\c\nd\u{1}é");
    }

    #[test]
    fn uuid_helper_matches_push() {
        let mut s = String::new();
        push_uuid(&mut s, 5, UuidOf::Org, 9);
        assert_eq!(s, uuid(5, UuidOf::Org, 9));
    }
}

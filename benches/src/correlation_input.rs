//! Inputs for the correlation benchmarks.
//!
//! * [`feed_corpus`] streams the workspace's realistic generator
//!   ([`crate::corpus`]) into an engine builder.
//! * [`StringCorpus`] is a deliberately plain, cheaper alternative: `n`
//!   attributes in events of 100, each a `text`, `domain`, `hostname` or
//!   `filename` value. About half of the values are unique; the other
//!   half are drawn from a pool of `n / 5` shared values with a cubic
//!   skew, so that most shared values occur a handful of times and a few
//!   occur thousands of times (and are over-correlating under the default
//!   limit of 20). Values are written into one reused buffer: the stream
//!   allocates nothing per attribute.
//! * [`bulk_from_corpus`] times a bulk build from the generator: the
//!   figure of issue #3, shared by `correlation_figures` and
//!   `misp-gen --correlate`.
//! * [`PreloadedAttributes`] holds a corpus generated into memory first,
//!   and [`bulk_from_preloaded`] times a bulk build from it: the engine
//!   alone, as a database's join over a loaded table is timed
//!   (`misp-gen --correlate --preload`).
//! * [`peak_rss`] reads the process's peak memory.

use misp_core::AttributeType;

/// Attributes per event.
pub const EVENT_SIZE: u64 = 100;

/// The stream's parameters.
#[derive(Debug, Clone, Copy)]
pub struct StringCorpus {
    seed: u64,
    n: u64,
}

/// One generated attribute, borrowed from the generator's buffer.
#[derive(Debug, Clone, Copy)]
pub struct Generated<'a> {
    /// Position in the stream (a unique numeric identity).
    pub index: u64,
    /// The event: `index / EVENT_SIZE`.
    pub event: u64,
    /// The type.
    pub ty: AttributeType,
    /// The raw value.
    pub value: &'a str,
}

/// splitmix64: a fast, well-mixed, seedable sequence.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl StringCorpus {
    /// `n` attributes from `seed`.
    pub fn new(seed: u64, n: u64) -> StringCorpus {
        StringCorpus { seed, n }
    }

    /// Number of attributes.
    pub fn len(&self) -> u64 {
        self.n
    }

    /// Whether the corpus is empty.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// Number of events.
    pub fn events(&self) -> u64 {
        self.n.div_ceil(EVENT_SIZE)
    }

    /// Calls `f` with attributes `range`, in order.
    pub fn for_each_in(&self, range: std::ops::Range<u64>, mut f: impl FnMut(Generated<'_>)) {
        let types = [
            AttributeType::from_name("text"),
            AttributeType::from_name("domain"),
            AttributeType::from_name("hostname"),
            AttributeType::from_name("filename"),
        ];
        let Some(text) = types[0] else { return };
        let pool = (self.n / 5).max(1);
        let mut buf = String::with_capacity(64);
        for index in range {
            let r = mix(self.seed ^ mix(index));
            buf.clear();
            let ty = if r & 1 == 0 {
                let t = (r >> 4) % 4;
                if t == 1 || t == 2 {
                    buf.push('u');
                    push_hex(&mut buf, r >> 8);
                    buf.push('-');
                    push_decimal(&mut buf, index);
                    buf.push_str(".example.net");
                } else {
                    buf.push_str("unique-");
                    push_hex(&mut buf, r >> 8);
                    buf.push('-');
                    push_decimal(&mut buf, index);
                }
                types[t as usize].unwrap_or(text)
            } else {
                // Cubic skew toward the pool's head: u in [0, 1), k = u³·pool.
                let u = (r >> 11) as f64 / (1u64 << 53) as f64;
                let k = (u * u * u * pool as f64) as u64;
                buf.push_str("shared");
                push_decimal(&mut buf, k);
                buf.push_str(".example.com");
                types[((r >> 4) % 3) as usize].unwrap_or(text)
            };
            f(Generated {
                index,
                event: index / EVENT_SIZE,
                ty,
                value: &buf,
            });
        }
    }

    /// Calls `f` with every attribute, in order.
    pub fn for_each(&self, f: impl FnMut(Generated<'_>)) {
        self.for_each_in(0..self.n, f);
    }
}

fn push_hex(buf: &mut String, mut x: u64) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut tmp = [0u8; 16];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = DIGITS[(x & 15) as usize];
        x >>= 4;
        if x == 0 {
            break;
        }
    }
    buf.extend(tmp[i..].iter().map(|&b| char::from(b)));
}

fn push_decimal(buf: &mut String, mut x: u64) {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (x % 10) as u8;
        x /= 10;
        if x == 0 {
            break;
        }
    }
    buf.extend(tmp[i..].iter().map(|&b| char::from(b)));
}

/// The process's peak resident set size (`VmHWM`), in bytes, on Linux.
pub fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Feeds a [`Corpus`](crate::corpus::Corpus) into an engine builder, in
/// document order as a MISP feed reader would: each event (numeric
/// identity, owner organisation, distribution, sharing group,
/// `disable_correlation`), then its objects (identity
/// `event << 32 | index`) as their first attribute comes, and every
/// attribute (identity: its index), streamed from the generator's reused
/// buffer. Events and objects are numbered in the same order as when they
/// are all added first, so the engine is the same. The builder is told
/// the number of attributes first ([`EngineBuilder::reserve`]), as a
/// caller that knows its corpus size would.
///
/// [`EngineBuilder::reserve`]: misp_correlate::correlation::EngineBuilder::reserve
///
/// # Errors
///
/// The builder's error if its capacity is exhausted.
pub fn feed_corpus(
    corpus: &crate::corpus::Corpus,
    builder: &mut misp_correlate::correlation::EngineBuilder,
) -> misp_correlate::Result<()> {
    builder.reserve(usize::try_from(corpus.attribute_count()).unwrap_or(usize::MAX));
    let mut feeder = DocumentOrder::default();
    let mut stream = corpus.attributes();
    while let Some((a, object)) = stream.next_with_object() {
        feeder.add(corpus, builder, &AttributeFields::of(a, object), &a.value)?;
    }
    feeder.finish(corpus, builder)
}

/// The identity of object `index` of event `event` in the engine.
fn object_id(event: u32, index: u32) -> u64 {
    (u64::from(event) << 32) | u64::from(index)
}

/// Feeds a corpus's events and objects in document order, each just
/// before its first attribute: event `e` (its access fields only, from
/// [`Corpus::event_access`](crate::corpus::Corpus::event_access)) and the
/// events before it, and an attribute's object when it changes. Numbering
/// and engine are those of adding every event and object first.
#[derive(Debug, Default)]
struct DocumentOrder {
    next_event: u32,
    last_object: Option<(u32, u32)>,
}

impl DocumentOrder {
    /// Adds attribute `fields` (value `value`), after the event and object
    /// that precede it if they are due.
    #[inline(always)]
    fn add(
        &mut self,
        corpus: &crate::corpus::Corpus,
        builder: &mut misp_correlate::correlation::EngineBuilder,
        fields: &AttributeFields,
        value: &str,
    ) -> misp_correlate::Result<()> {
        // Most attributes follow one of the same event and object: nothing
        // to add before them, decided without a call.
        let same_object = match fields.object {
            None => true,
            Some((index, ..)) => self.last_object == Some((fields.event, index)),
        };
        if fields.event >= self.next_event || !same_object {
            self.add_before(corpus, builder, fields)?;
        }
        builder.add(&fields.input(value))
    }

    /// Adds the events up to `fields`' and its object, those not added yet.
    fn add_before(
        &mut self,
        corpus: &crate::corpus::Corpus,
        builder: &mut misp_correlate::correlation::EngineBuilder,
        fields: &AttributeFields,
    ) -> misp_correlate::Result<()> {
        use misp_correlate::correlation::{Id, ObjectInput};
        let event = fields.event;
        self.add_events(corpus, builder, event.saturating_add(1))?;
        if let Some((index, distribution, sharing_group)) = fields.object {
            if self.last_object != Some((event, index)) {
                self.last_object = Some((event, index));
                builder.add_object(&ObjectInput {
                    id: Id::Num(object_id(event, index)),
                    event: Id::Num(u64::from(event)),
                    distribution,
                    sharing_group: sharing_group.map(u64::from),
                    deleted: false,
                })?;
            }
        }
        Ok(())
    }

    /// Adds the events left (those without attributes at the end).
    fn finish(
        mut self,
        corpus: &crate::corpus::Corpus,
        builder: &mut misp_correlate::correlation::EngineBuilder,
    ) -> misp_correlate::Result<()> {
        self.add_events(corpus, builder, corpus.event_count())
    }

    /// Adds the events before `end` not added yet.
    fn add_events(
        &mut self,
        corpus: &crate::corpus::Corpus,
        builder: &mut misp_correlate::correlation::EngineBuilder,
        end: u32,
    ) -> misp_correlate::Result<()> {
        use misp_correlate::correlation::{EventInput, Id};
        while self.next_event < end {
            if let Some(ev) = corpus.event_access(self.next_event) {
                builder.add_event(&EventInput {
                    id: Id::Num(u64::from(self.next_event)),
                    org: Some(Id::Num(u64::from(ev.org))),
                    distribution: ev.distribution,
                    sharing_group: ev.sharing_group.map(u64::from),
                    disable_correlation: ev.disable_correlation,
                })?;
            }
            self.next_event += 1;
        }
        Ok(())
    }
}

/// What the builder is told of one generated attribute, apart from its
/// value.
#[derive(Debug, Clone, Copy)]
struct AttributeFields {
    index: u64,
    event: u32,
    /// The object: index, distribution, sharing group.
    object: Option<(u32, u8, Option<u32>)>,
    sharing_group: Option<u32>,
    ty: AttributeType,
    distribution: u8,
    disable_correlation: bool,
}

impl AttributeFields {
    /// The fields of `a`, in object `object` if any.
    fn of(
        a: &crate::corpus::GeneratedAttribute,
        object: Option<&crate::corpus::ObjectLayout>,
    ) -> AttributeFields {
        AttributeFields {
            index: a.index,
            event: a.event,
            object: object.map(|o| o.access()),
            sharing_group: a.sharing_group,
            ty: a.ty,
            distribution: a.distribution,
            disable_correlation: a.disable_correlation,
        }
    }

    /// The builder's input: these fields with `value` (identities: the
    /// attribute's index, its event's, `event << 32 | index` for objects).
    fn input<'v>(&self, value: &'v str) -> misp_correlate::correlation::AttributeInput<'v> {
        use misp_correlate::correlation::{AttributeInput, Id};
        AttributeInput {
            id: Id::Num(self.index),
            event: Id::Num(u64::from(self.event)),
            object: self.object.map(|(o, ..)| Id::Num(object_id(self.event, o))),
            ty: self.ty,
            value,
            distribution: self.distribution,
            sharing_group: self.sharing_group.map(u64::from),
            disable_correlation: self.disable_correlation,
            deleted: false,
        }
    }
}

/// A corpus's attributes generated into memory before anything is timed:
/// the values in one buffer, the rest in fixed-size records (about 48
/// bytes per attribute plus its value; the realistic corpus of 10M
/// attributes takes about 700 MB).
///
/// [`bulk_from_preloaded`] times a bulk build from these, which starts, as
/// a database's join over a loaded table does, from data already in
/// memory; [`bulk_from_corpus`] instead generates while it builds.
#[derive(Debug, Default)]
pub struct PreloadedAttributes {
    records: Vec<AttributeFields>,
    /// Where each value ends in `text` (it starts where the one before
    /// ends).
    value_ends: Vec<usize>,
    text: String,
}

impl PreloadedAttributes {
    /// Generates every attribute of `corpus`, in order (in parallel
    /// ranges, then joined).
    pub fn generate(corpus: &crate::corpus::Corpus) -> PreloadedAttributes {
        use rayon::prelude::*;
        let parts: Vec<PreloadedAttributes> = corpus
            .chunks(rayon::current_num_threads() * 8)
            .into_par_iter()
            .map(|range| {
                let mut part = PreloadedAttributes::default();
                let mut stream = corpus.attributes_range(range);
                while let Some((a, object)) = stream.next_with_object() {
                    part.records.push(AttributeFields::of(a, object));
                    part.text.push_str(&a.value);
                    part.value_ends.push(part.text.len());
                }
                part
            })
            .collect();
        let mut all = PreloadedAttributes {
            records: Vec::with_capacity(parts.iter().map(|p| p.records.len()).sum()),
            value_ends: Vec::with_capacity(parts.iter().map(|p| p.value_ends.len()).sum()),
            text: String::with_capacity(parts.iter().map(|p| p.text.len()).sum()),
        };
        for part in parts {
            let base = all.text.len();
            all.text.push_str(&part.text);
            all.records.extend(part.records);
            all.value_ends
                .extend(part.value_ends.into_iter().map(|end| base + end));
        }
        all
    }

    /// Each attribute's fields and value, in order.
    fn iter(&self) -> impl Iterator<Item = (&AttributeFields, &str)> + '_ {
        let starts = std::iter::once(0).chain(self.value_ends.iter().copied());
        self.records
            .iter()
            .zip(starts.zip(self.value_ends.iter().copied()))
            .map(|(fields, (start, end))| (fields, self.text.get(start..end).unwrap_or("")))
    }

    /// The number of attributes.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// The bytes of all values.
    pub fn value_bytes(&self) -> usize {
        self.text.len()
    }
}

/// CPU time of this process so far (user + system), from
/// `/proc/self/stat`, in 10 ms ticks; zero where unavailable.
pub fn cpu_time() -> std::time::Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|s| s.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // utime and stime are fields 14 and 15 of stat (11 and 12 after the
    // command name), in clock ticks of 1/100 s on Linux.
    std::time::Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

/// What [`bulk_from_corpus`] measured.
#[derive(Debug)]
pub struct BulkFigures {
    /// The finished engine.
    pub engine: misp_correlate::correlation::Engine,
    /// Attributes the builder refused (MISP's validation).
    pub rejected: usize,
    /// Wall time from the first attribute to the finished engine, its
    /// summary computed.
    pub wall: std::time::Duration,
    /// CPU time of the process (all threads) over the same span.
    pub cpu: std::time::Duration,
    /// When the last attribute had been handed to the builder.
    pub fed: std::time::Duration,
    /// The engine's summary (over-correlation decided, pairs counted).
    pub summary: misp_correlate::correlation::Summary,
}

/// Streams `corpus` into a fresh builder with `config` ([`feed_corpus`]),
/// builds the engine and computes its summary, timing the whole span:
/// "from the first attribute to the finished engine with over-correlation
/// decided and the pair count known" (issue #3). The generator runs on
/// the calling thread, as any single source would, so its cost is part
/// of the figure.
///
/// # Errors
///
/// The builder's error if its capacity is exhausted.
pub fn bulk_from_corpus(
    corpus: &crate::corpus::Corpus,
    config: misp_correlate::correlation::Config,
) -> misp_correlate::Result<BulkFigures> {
    let (cpu0, start) = (cpu_time(), std::time::Instant::now());
    let mut builder = misp_correlate::correlation::EngineBuilder::with_config(config);
    feed_corpus(corpus, &mut builder)?;
    finish_bulk(builder, cpu0, start)
}

/// Builds the fed `builder`'s engine and its summary; the figures of the
/// span that began at `start` (process CPU time `cpu0` then).
fn finish_bulk(
    builder: misp_correlate::correlation::EngineBuilder,
    cpu0: std::time::Duration,
    start: std::time::Instant,
) -> misp_correlate::Result<BulkFigures> {
    let fed = start.elapsed();
    let built = builder.build()?;
    let summary = built.engine.summary();
    Ok(BulkFigures {
        wall: start.elapsed(),
        cpu: cpu_time().saturating_sub(cpu0),
        fed,
        summary,
        rejected: built.rejected.len(),
        engine: built.engine,
    })
}

/// As [`bulk_from_corpus`], but the attributes are fed from `preloaded`
/// (generated from `corpus` beforehand, untimed), so the figure is the
/// engine's alone: from the first attribute, already in memory, to the
/// finished engine with its summary. This is the span a database's join
/// over a loaded table measures.
///
/// # Errors
///
/// The builder's error if its capacity is exhausted.
pub fn bulk_from_preloaded(
    corpus: &crate::corpus::Corpus,
    preloaded: &PreloadedAttributes,
    config: misp_correlate::correlation::Config,
) -> misp_correlate::Result<BulkFigures> {
    let (cpu0, start) = (cpu_time(), std::time::Instant::now());
    let mut builder = misp_correlate::correlation::EngineBuilder::with_config(config);
    builder.reserve(preloaded.len());
    let mut feeder = DocumentOrder::default();
    for (fields, value) in preloaded.iter() {
        feeder.add(corpus, &mut builder, fields, value)?;
    }
    feeder.finish(corpus, &mut builder)?;
    finish_bulk(builder, cpu0, start)
}

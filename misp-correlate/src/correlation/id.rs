//! Caller-supplied identities.
//!
//! Events, objects, attributes and organisations are named by the caller,
//! either by number (MISP's database ids) or by string (uuids, or
//! `<event uuid>:<n>` for attributes without a uuid, as
//! [`AttributeRef::key`](misp_core::AttributeRef::key) builds it).
//! [`Id`] is the borrowed form used for input and results, [`Ident`] the
//! owned form. `Num(7)` and `Str("7")` are different identities.

use std::fmt;

use hashbrown::HashTable;

use super::intern::Hasher;

/// A borrowed identity: a number or a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Id<'a> {
    /// A numeric identity.
    Num(u64),
    /// A string identity (a uuid, …).
    Str(&'a str),
}

impl Id<'_> {
    /// The owned form.
    pub fn to_ident(self) -> Ident {
        match self {
            Id::Num(n) => Ident::Num(n),
            Id::Str(s) => Ident::Str(s.into()),
        }
    }
}

impl From<u64> for Id<'_> {
    fn from(n: u64) -> Self {
        Id::Num(n)
    }
}

impl<'a> From<&'a str> for Id<'a> {
    fn from(s: &'a str) -> Self {
        Id::Str(s)
    }
}

impl<'a> From<&'a String> for Id<'a> {
    fn from(s: &'a String) -> Self {
        Id::Str(s)
    }
}

impl<'a> From<&'a Ident> for Id<'a> {
    fn from(i: &'a Ident) -> Self {
        i.as_id()
    }
}

impl fmt::Display for Id<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Id::Num(n) => write!(f, "{n}"),
            Id::Str(s) => f.write_str(s),
        }
    }
}

/// An owned identity: a number or a string.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Ident {
    /// A numeric identity.
    Num(u64),
    /// A string identity.
    Str(Box<str>),
}

impl Ident {
    /// The borrowed form.
    pub fn as_id(&self) -> Id<'_> {
        match self {
            Ident::Num(n) => Id::Num(*n),
            Ident::Str(s) => Id::Str(s),
        }
    }
}

impl From<u64> for Ident {
    fn from(n: u64) -> Self {
        Ident::Num(n)
    }
}

impl From<&str> for Ident {
    fn from(s: &str) -> Self {
        Ident::Str(s.into())
    }
}

impl From<String> for Ident {
    fn from(s: String) -> Self {
        Ident::Str(s.into_boxed_str())
    }
}

impl From<Id<'_>> for Ident {
    fn from(id: Id<'_>) -> Self {
        id.to_ident()
    }
}

impl fmt::Display for Ident {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.as_id().fmt(f)
    }
}

/// A dense numbering of identities: `Ident` ↔ `0..len`.
///
/// Used for the (comparatively few) events, objects and organisations.
#[derive(Debug, Clone)]
pub(crate) struct IdTable {
    hasher: Hasher,
    idents: Vec<Ident>,
    table: HashTable<u32>,
}

impl IdTable {
    pub(crate) fn new(hasher: Hasher) -> IdTable {
        IdTable {
            hasher,
            idents: Vec::new(),
            table: HashTable::new(),
        }
    }

    fn hash(&self, id: Id<'_>) -> u64 {
        match id {
            Id::Num(n) => self
                .hasher
                .hash_stored(super::intern::Tag::Hex, &n.to_be_bytes()),
            Id::Str(s) => self
                .hasher
                .hash_stored(super::intern::Tag::Raw, s.as_bytes()),
        }
    }

    /// The number of `id`, if known.
    pub(crate) fn get(&self, id: Id<'_>) -> Option<u32> {
        let idents = &self.idents;
        self.table
            .find(self.hash(id), |&i| {
                idents.get(i as usize).is_some_and(|x| x.as_id() == id)
            })
            .copied()
    }

    /// The number of `id`, numbering it if new; the flag says whether it
    /// was new.
    pub(crate) fn get_or_insert(&mut self, id: Id<'_>) -> (u32, bool) {
        if let Some(i) = self.get(id) {
            return (i, false);
        }
        let h = self.hash(id);
        let i = self.idents.len() as u32;
        self.idents.push(id.to_ident());
        let (hasher, idents) = (&self.hasher, &self.idents);
        self.table
            .insert_unique(h, i, |&j| match idents.get(j as usize) {
                Some(Ident::Num(n)) => {
                    hasher.hash_stored(super::intern::Tag::Hex, &n.to_be_bytes())
                }
                Some(Ident::Str(s)) => hasher.hash_stored(super::intern::Tag::Raw, s.as_bytes()),
                None => 0,
            });
        (i, true)
    }

    /// Every identity, in number order.
    pub(crate) fn all(&self) -> Vec<Id<'_>> {
        self.idents.iter().map(Ident::as_id).collect()
    }

    /// The identity numbered `i`.
    pub(crate) fn ident(&self, i: u32) -> Option<&Ident> {
        self.idents.get(i as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_strings_are_distinct() {
        let mut t = IdTable::new(Hasher::new());
        let (a, new_a) = t.get_or_insert(Id::Num(7));
        let (b, new_b) = t.get_or_insert(Id::Str("7"));
        assert!(new_a && new_b);
        assert_ne!(a, b);
        assert_eq!(t.get_or_insert(Id::Num(7)), (a, false));
        assert_eq!(t.get(Id::Str("7")), Some(b));
        assert_eq!(t.get(Id::Str("8")), None);
        assert_eq!(t.ident(b), Some(&Ident::from("7")));
        assert_eq!(Id::Num(7).to_string(), "7");
    }
}

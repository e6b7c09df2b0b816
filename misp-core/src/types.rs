//! The MISP type registry: 194 attribute types and 16 categories.
//!
//! Generated at build time from MISP's `describeTypes.json`. An
//! [`AttributeType`] and a [`Category`] are one-byte copyable ids into
//! static tables; names are looked up once, at parse time.

use std::fmt;

/// Static facts about one type, as generated from `describeTypes.json`.
#[derive(Debug)]
pub(crate) struct TypeInfo {
    name: &'static str,
    default_category: u8,
    default_to_ids: bool,
    category_mask: u32,
    composite: bool,
    correlates: bool,
    value2_correlates: bool,
}

include!(concat!(env!("OUT_DIR"), "/types_table.rs"));

/// One of MISP's attribute types (`ip-src`, `domain|ip`, `sha256`, …).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AttributeType(u8);

impl AttributeType {
    /// Number of types MISP defines.
    pub const COUNT: usize = TYPE_TABLE.len();

    /// Looks a type up by its MISP name (case-sensitive, as MISP).
    pub fn from_name(name: &str) -> Option<AttributeType> {
        TYPE_TABLE
            .iter()
            .position(|t| t.name == name)
            .map(|i| AttributeType(i as u8))
    }

    /// The type with index `index` (`0..COUNT`), if any.
    pub fn from_index(index: usize) -> Option<AttributeType> {
        (index < Self::COUNT).then_some(AttributeType(index as u8))
    }

    /// The dense index of this type, `0..COUNT`.
    pub fn index(self) -> usize {
        usize::from(self.0)
    }

    /// Every type, in `describeTypes.json` order.
    pub fn all() -> impl ExactSizeIterator<Item = AttributeType> {
        (0..Self::COUNT).map(|i| AttributeType(i as u8))
    }

    fn info(self) -> &'static TypeInfo {
        &TYPE_TABLE[self.index()]
    }

    /// The MISP name of the type.
    pub fn name(self) -> &'static str {
        self.info().name
    }

    /// MISP's default category for the type.
    pub fn default_category(self) -> Category {
        Category(self.info().default_category)
    }

    /// MISP's default `to_ids` flag for the type.
    pub fn default_to_ids(self) -> bool {
        self.info().default_to_ids
    }

    /// Whether `category` may hold attributes of this type.
    pub fn allows_category(self, category: Category) -> bool {
        self.info().category_mask & (1 << category.0) != 0
    }

    /// The categories that may hold attributes of this type.
    pub fn categories(self) -> impl Iterator<Item = Category> {
        let mask = self.info().category_mask;
        Category::all().filter(move |c| mask & (1 << c.0) != 0)
    }

    /// Whether values are `value1|value2` (`malware-sample` and every
    /// type whose name contains `|`).
    pub fn is_composite(self) -> bool {
        self.info().composite
    }

    /// Whether attributes of this type take part in correlation at all
    /// (false for the twelve non-correlating types).
    pub fn correlates(self) -> bool {
        self.info().correlates
    }

    /// Whether value2 is a correlation key (composite types other than
    /// `ip-src|port`, `ip-dst|port` and `hostname|port`).
    pub fn value2_correlates(self) -> bool {
        self.info().value2_correlates
    }
}

impl fmt::Debug for AttributeType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AttributeType({:?})", self.name())
    }
}

impl fmt::Display for AttributeType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for AttributeType {
    type Err = crate::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AttributeType::from_name(s).ok_or_else(|| crate::Error::UnknownType(s.to_owned()))
    }
}

/// One of MISP's 16 attribute categories (`Network activity`, …).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Category(u8);

impl Category {
    /// Number of categories MISP defines.
    pub const COUNT: usize = CATEGORY_NAMES.len();

    /// Looks a category up by its MISP name.
    pub fn from_name(name: &str) -> Option<Category> {
        CATEGORY_NAMES
            .iter()
            .position(|c| *c == name)
            .map(|i| Category(i as u8))
    }

    /// Every category, in `describeTypes.json` order.
    pub fn all() -> impl ExactSizeIterator<Item = Category> {
        (0..Self::COUNT).map(|i| Category(i as u8))
    }

    /// The dense index of this category, `0..COUNT`.
    pub fn index(self) -> usize {
        usize::from(self.0)
    }

    /// The MISP name of the category.
    pub fn name(self) -> &'static str {
        CATEGORY_NAMES[self.index()]
    }
}

impl fmt::Debug for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Category({:?})", self.name())
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ty(name: &str) -> AttributeType {
        AttributeType::from_name(name).unwrap_or_else(|| panic!("{name} is a type"))
    }

    #[test]
    fn counts_match_describe_types() {
        assert_eq!(AttributeType::COUNT, 194);
        assert_eq!(Category::COUNT, 16);
    }

    #[test]
    fn names_round_trip() {
        for t in AttributeType::all() {
            assert_eq!(AttributeType::from_name(t.name()), Some(t));
        }
        for c in Category::all() {
            assert_eq!(Category::from_name(c.name()), Some(c));
        }
        assert_eq!(AttributeType::from_name("IP-SRC"), None);
        assert!("no-such-type".parse::<AttributeType>().is_err());
    }

    #[test]
    fn defaults() {
        assert_eq!(ty("md5").default_category().name(), "Payload delivery");
        assert!(ty("md5").default_to_ids());
        assert!(!ty("comment").default_to_ids());
        assert!(ty("ip-dst").allows_category(Category::from_name("Network activity").unwrap()));
        assert!(!ty("ip-dst").allows_category(Category::from_name("Person").unwrap()));
        assert!(ty("ip-dst").categories().count() >= 2);
    }

    #[test]
    fn composite_and_correlation_flags() {
        let composites: Vec<_> = AttributeType::all().filter(|t| t.is_composite()).collect();
        assert!(composites.contains(&ty("malware-sample")));
        assert!(
            composites
                .iter()
                .all(|t| t.name() == "malware-sample" || t.name().contains('|'))
        );
        for name in ["comment", "port", "boolean", "anonymised", "float"] {
            assert!(!ty(name).correlates(), "{name}");
        }
        assert!(ty("text").correlates());
        assert!(ty("filename|md5").value2_correlates());
        assert!(ty("domain|ip").value2_correlates());
        for name in ["ip-src|port", "ip-dst|port", "hostname|port", "ip-src"] {
            assert!(!ty(name).value2_correlates(), "{name}");
        }
    }
}

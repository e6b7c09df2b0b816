//! MISP JSON: events in every wrapper and MISP feeds.

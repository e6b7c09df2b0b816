//! The warninglist matcher.

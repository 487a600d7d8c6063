//! The read side of analytics: queries, tiles, saved reports.

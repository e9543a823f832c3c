//! Projections: everything a back office reads, rebuilt from the log.

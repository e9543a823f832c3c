//! cqrs-es interop.

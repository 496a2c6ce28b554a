//! steward-admin against the local stack.

//! The phone engine of GridDispatch (offline-first sync, `docs/sync-protocol.md`).

//! Persistence on SQLite or PostgreSQL.

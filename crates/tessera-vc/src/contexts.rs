//! The bundled JSON-LD contexts, compiled in, and the offline loader.

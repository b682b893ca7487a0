//! The HTTP service: API, pages, auth.

//! JSON-LD → RDF under the strict policy → RDFC-1.0 canonical N-Quads.

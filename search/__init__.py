"""Search and similarity over the library: full-text, fuzzy, facets, vectors, hybrid."""

"""Search: text analysis, a lexical index, embedders and a vector index, their fusion, and evaluation."""

"""Pure text: ids and hashes, sentences, search terms, every word list, wire-copy similarity."""

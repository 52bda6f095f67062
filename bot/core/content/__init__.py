"""The library: curation, packs, validation, regions and the in-memory index answers read from."""

"""The Chroma store behind its ports (ChunkWriter, ChunkReader, ChangeFeed), and its helpers."""

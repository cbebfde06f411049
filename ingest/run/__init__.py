"""A run: the pipeline that orchestrates the pure steps, its shards and the scheduled refresh."""

"""News on top of answering: timelines, what changed, the daily brief, saved-question alerts."""

"""Reading a question: its kind, time words, two parts, follow-ups, language (pure but dates)."""

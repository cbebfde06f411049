"""The Slack app (slack-bolt) and its Block Kit."""

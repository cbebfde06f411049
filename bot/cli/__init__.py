"""The `newsdesk` command line and the long-running processes it starts."""

"""The application service every front end calls: requests, the Desk, watches, brief, feedback."""

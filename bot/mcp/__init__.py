"""Newsdesk as Model Context Protocol tools (stdio and /mcp)."""

"""Front ends (CLI, Slack, HTTP, MCP) over the application service, wired in `bot.factory`."""

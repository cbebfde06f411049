"""Front ends: the `newsdesk` CLI and the Slack app, wired from settings in `bot.factory`."""

"""`python -m bot.cli`: the same command line as the `newsdesk` script."""

from bot.cli.commands import main

main()

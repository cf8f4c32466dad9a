"""`python -m bot.cli …` is `pmo-bot …`."""

from bot.cli.main import main

main()

"""``python -m bot`` is the command line, the same as ``trainee-bot``."""

from bot.cli import main

if __name__ == "__main__":
    raise SystemExit(main())

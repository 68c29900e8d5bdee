"""Knowledge checks: quiz files, their sending as Telegram quiz polls, answers and scores."""

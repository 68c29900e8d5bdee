"""Feedback: the organisers' forms, sent after sessions, answered in Telegram, and reported."""

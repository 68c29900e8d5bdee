"""The outbox and the rate-limited sender: the only code that sends notifications and broadcasts."""

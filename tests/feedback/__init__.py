"""Feedback forms: files, imports, the command line and the upload in the bot."""

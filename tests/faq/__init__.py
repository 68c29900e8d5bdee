"""Tests of the FAQ: matching a trainee's question to the entries."""

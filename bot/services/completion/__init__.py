"""Completion: a programme's rule, each trainee's standing against it, and exceptions."""

"""Feedback forms: the trainee's side (answering) and the organisers' (files, results)."""

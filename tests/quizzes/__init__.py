"""Quizzes: files, sending as quiz polls, answers, scores, reports."""

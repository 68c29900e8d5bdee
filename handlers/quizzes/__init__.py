"""Quizzes: the trainee's side (answers to quiz polls, /quiz) and the organisers' report."""

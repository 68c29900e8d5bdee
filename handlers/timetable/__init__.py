"""Timetable routers: what trainees read, and the files organisers send."""

"""Attendance in Telegram: the trainee's "I'm here" (``trainee``), the trainer's sheet, the
session code and the report (``trainer``)."""

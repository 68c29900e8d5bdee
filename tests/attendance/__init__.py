"""Attendance: check-in, trainer marks, classroom reports, figures."""

"""Attendance: one mark per trainee and session, set by the trainee, the classroom or a trainer.

The package is split by job: ``rules`` (the programme's ``attendance:`` section),
``trainers`` (the per-cohort trainer role, and who may mark what), ``codes`` (the rotating
session code), ``checkin`` ("I'm here"), ``marking`` (a trainer's sheet), ``classroom`` and
``classroom_files`` (the online classroom's participant report), ``report`` (the figures per
session and per trainee). Import the modules themselves; this one imports nothing so that
``bot.services.programmes`` can read the rules without a loop.
"""

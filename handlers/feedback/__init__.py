"""Feedback forms' routers: organisers upload forms files and read results, trainees answer."""

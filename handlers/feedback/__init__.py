"""Feedback forms' routers: organisers upload the programme's forms file, trainees answer."""

"""The FAQ's routers: the trainee's questions, the staff inbox, the organisers' FAQ files."""

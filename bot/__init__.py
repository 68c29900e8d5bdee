"""The trainee assistant: the application package (see ARCHITECTURE.md for its map)."""

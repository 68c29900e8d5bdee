"""The features' logic, a module or package per feature; each takes a session and the clock."""

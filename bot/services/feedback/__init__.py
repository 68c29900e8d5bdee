"""Feedback forms: organisers' files of forms (YAML or XLSX), read, checked, imported, exported."""

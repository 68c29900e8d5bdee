"""Registration, trainee side (codes, the cohort form, enrolments) and organiser side."""

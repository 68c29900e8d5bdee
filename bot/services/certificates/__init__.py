"""Certificates of completion: the PDF (:mod:`.render`), who may have one
(:mod:`.eligibility`), issuing, revoking and resending (:mod:`.issuing`), and verification
by code (:mod:`.verifying`)."""

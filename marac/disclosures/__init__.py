"""The disclosure report: who was shown what of a case or a person, and every event about them."""

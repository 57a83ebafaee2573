"""Meetings: schedule, agenda, research returns, the register with confidentiality, minutes."""

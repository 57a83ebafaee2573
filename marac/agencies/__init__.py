"""Agencies: the organisations whose representatives sit on panels."""

"""Demonstration data for development: agencies, panels, accounts, cases and a year of meetings."""

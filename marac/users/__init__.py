"""User accounts: practitioners of an agency, and administrators."""

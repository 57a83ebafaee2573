"""The auditor's pages: search, read and export the audit trail (administrators only)."""

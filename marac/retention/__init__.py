"""Retention and deletion: each panel's retention schedule, and the daily run that turns the cases past it
(and not under a legal hold) into tombstones, leaving nothing personal behind in the rows or the files."""

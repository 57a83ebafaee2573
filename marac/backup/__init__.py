"""Backup and restore of the whole database (`flask backup create` / `flask backup restore`), with a
manifest that lets a restore prove it is complete: migration revision, audit chain head, row counts and
the ids of the wrapped keys. Key material (the KEK, the audit key) is never in a backup."""

"""Shared building blocks: database base classes, time, security, permissions, errors."""

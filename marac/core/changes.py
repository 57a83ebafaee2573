"""Apply form data to a model and report which fields changed (names only, for the audit detail)."""


def apply_changes(obj, values):
    """Set each attribute that differs; return the sorted names of those that changed."""
    changed = []
    for name, value in values.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed.append(name)
    return sorted(changed)

"""Meeting packs: the agenda pack and the minutes and action plan pack, one per redaction profile, as PDF."""

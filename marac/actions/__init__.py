"""Actions agreed at meetings: owner agency, due date, status, progress, chases and reviews."""

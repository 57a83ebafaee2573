"""The signed-in user's home page."""

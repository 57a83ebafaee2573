"""Entry point for gunicorn (`gunicorn wsgi:app`) and the flask CLI."""
from marac import create_app

app = create_app()

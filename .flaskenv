# Read by the flask command in this repository (python-dotenv). Production sets MARAC_ENV itself.
FLASK_APP=wsgi:app
MARAC_ENV=development

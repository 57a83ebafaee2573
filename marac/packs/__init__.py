"""Meeting packs: agenda and minutes PDFs per recipient agency, encrypted at rest, stamped per download."""

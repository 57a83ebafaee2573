"""People named in cases (victims, perpetrators, children, persons of concern, ...) and locations."""

"""Reading the page number of a list page."""

MAX_PAGE = 99999


def page_number(request):
    """The ?page= number, 1 when absent or not a whole number from 1 to MAX_PAGE in ASCII digits.

    str.isdigit() alone accepts "²" (which int() refuses) and "٣" (which int() reads as 3): only
    0-9 count, and at most as many of them as MAX_PAGE has."""
    value = request.args.get("page", "")
    if not (value.isascii() and value.isdigit() and len(value) <= len(str(MAX_PAGE))):
        return 1
    return int(value) if 0 < int(value) <= MAX_PAGE else 1

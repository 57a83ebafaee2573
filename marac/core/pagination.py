"""Reading the page number of a list page."""


def page_number(request):
    """The ?page= number, 1 when absent or not a positive whole number."""
    value = request.args.get("page", "1")
    return int(value) if value.isdigit() and 0 < int(value) < 100000 else 1

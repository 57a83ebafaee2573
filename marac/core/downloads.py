"""The one way a page hands over a file: `attachment(name, data, media_type)`.

Every download (meeting packs, transfer packets, subject access responses, statistics, disclosure and
audit exports) goes through it, so each is named by its caller (references, markings and stamps only:
nothing personal in a file name), never sniffed into another type by a browser, and never kept in a cache
on the way (`Cache-Control: no-store`), whatever the page that sends it.
"""
from flask import make_response


def attachment(name, data, media_type):
    """A response that downloads `data` as the file `name` of `media_type`."""
    response = make_response(data)
    response.headers["Content-Type"] = media_type
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    return response

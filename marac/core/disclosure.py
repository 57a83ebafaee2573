"""Every read of personal data is declared and audited, by construction.

An encrypted attribute that holds personal data notes each read made during a request
(`note_read`, called by `core.crypto.Encrypted`). A view that shows personal data declares what it
disclosed through the audit (`audit.services.record_read`, or `sharing.services.disclose`, which
also writes the sharing records), and that declaration marks the request (`declare`).

After the view, `check_disclosures` looks for reads nobody declared in a response that shows a page
(a 2xx; a redirect shows nothing). In strict mode (the test suite) that is an error, so a view that
forgets fails every test that opens it; otherwise the reads are handed to the audit as one event
naming the endpoint and the fields read, so that even a forgetful view leaves no unaudited read.
"""
from flask import current_app, g, has_request_context, request


class UndeclaredDisclosure(RuntimeError):
    """A view showed personal data without declaring the disclosure (strict mode only)."""

    def __init__(self, endpoint, fields):
        self.endpoint, self.fields = endpoint, fields
        super().__init__(f"{endpoint} read {', '.join(fields)} without declaring a disclosure")


def note_read(table, column):
    """Remember that the request read table.column of personal data (outside a request: nothing)."""
    if has_request_context():
        reads = g.get("_personal_reads")
        if reads is None:
            reads = g._personal_reads = set()
        reads.add(f"{table}.{column}")


def declare():
    """Mark the request as having declared (and audited) what it disclosed."""
    if has_request_context():
        g._disclosure_declared = True


def undeclared_reads():
    """The personal fields this request read, if it declared no disclosure (sorted)."""
    if g.get("_disclosure_declared"):
        return []
    return sorted(g.get("_personal_reads") or ())


def disclosure_check(record_undeclared):
    """The after_request hook: strict mode raises UndeclaredDisclosure; otherwise
    `record_undeclared(endpoint, fields)` audits the reads."""

    def check_disclosures(response):
        if not 200 <= response.status_code < 300:
            return response
        fields = undeclared_reads()
        if fields:
            if current_app.config.get("DISCLOSURE_STRICT"):
                raise UndeclaredDisclosure(request.endpoint, fields)
            current_app.logger.warning("undeclared read of personal data in %s: %s", request.endpoint,
                                       ", ".join(fields))
            record_undeclared(request.endpoint, fields)
        return response

    return check_disclosures

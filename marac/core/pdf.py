"""PDF rendering and stamping (stand-in, replaced at merge by the PDF engineer's module).

render_pdf(html, *, title) renders HTML with WeasyPrint, fetching nothing from outside; stamp(pdf, lines)
writes the recipient's lines onto every page as a watermark artifact; sha256_of(b) names a file.
"""
import hashlib
import io

import pikepdf
from weasyprint import HTML


class FetchRefused(Exception):
    """A document asked for a resource from outside the package."""


def _refuse(url, *args, **kwargs):
    raise FetchRefused("external resources are not fetched")


def render_pdf(html, *, title):
    """The PDF of an HTML document, titled `title` in its metadata (no author, no other field)."""
    document = HTML(string=html, url_fetcher=_refuse).render()
    document.metadata.title = title
    document.metadata.authors = []
    return document.write_pdf()


def _escape(text):
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def stamp(pdf_bytes, lines):
    """The PDF with `lines` written small along the foot of every page, marked as a watermark artifact."""
    source = pikepdf.open(io.BytesIO(pdf_bytes))
    font = source.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1,
                                                   BaseFont=pikepdf.Name.Helvetica,
                                                   Encoding=pikepdf.Name.WinAnsiEncoding))
    text = _escape(" | ".join(lines)).encode("cp1252", "replace")
    for page in source.pages:
        name = page.add_resource(font, pikepdf.Name.Font, prefix="Stamp")
        content = (b"/Artifact <</Type /Pagination /Subtype /Watermark>> BDC q BT " + str(name).encode()
                   + b" 7 Tf 0.3 g 36 12 Td (" + text + b") Tj ET Q EMC\n")
        page.contents_add(source.make_stream(content), prepend=False)
    out = io.BytesIO()
    source.save(out)
    return out.getvalue()


def sha256_of(data):
    """The SHA-256 of bytes, in hex."""
    return hashlib.sha256(data).hexdigest()

"""Rendering and stamping PDFs (marac/core/pdf.py): the renderer fetches nothing but its own assets and
inline images, whatever the markup asks for; the output is PDF/UA-1 with only its title as metadata;
the stamp is on every page, extractable, in the margin, and keeps the document PDF/UA-1."""
import base64
import hashlib
import http.server
import io
import logging
import threading
import time

import pikepdf
import pypdf
import pytest
from markupsafe import escape

from marac.core.pdf import ASSET_ROOT, AssetFetcher, AssetRefused, PdfRenderError, render_pdf, sha256_of, stamp
from tests.helpers import pdf_pages_text, pdf_text, pdf_ua_failures

TITLE = "OFFICIAL-SENSITIVE MARAC agenda pack 2026-12-15"
STAMP = "OFFICIAL-SENSITIVE · Issued to Housing Services (Rowan Rep) · Pack PK-7F3K9Q"
# What a leaked resource would show, if it were ever loaded: each probe's CSS writes it on the page.
LEAK = "LEAKED-RESOURCE-TEXT"
PROBE_CSS = f'body::after {{ content: "{LEAK}"; }}'
# A marker a URL might carry (a name typed into a field): it must never reach the logs.
SECRET = "Jane-Doe-1985"
PNG = base64.b64decode(  # a 1x1 transparent PNG
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==")


def page_html(body, head="", lang="en-GB"):
    """A document as a pack template would produce it, with `body` where a field's value goes."""
    return (f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>Pack</title>{head}</head>'
            f"<body><h1>Agenda</h1><p>Item 1: risk summary</p>{body}</body></html>")


@pytest.fixture
def web_server():
    """A web server on the loopback interface that serves the probe stylesheet, a redirect to a local
    file and a probe image, and records every request it receives."""
    requests = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            requests.append(self.path)
            if self.path.startswith("/redirect"):
                self.send_response(302)
                self.send_header("Location", "file:///etc/hostname")
                self.end_headers()
                return
            body, kind = (PROBE_CSS.encode(), "text/css") if self.path.endswith(".css") else (PNG, "image/png")
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", requests
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def local_probe(tmp_path):
    """A stylesheet on the local disk that would write LEAK on the page if it were loaded."""
    path = tmp_path / "probe.css"
    path.write_text(PROBE_CSS)
    return path


# --- the fetcher -------------------------------------------------------------------------------

def test_asset_stylesheet_is_served_and_applied():
    fetcher = AssetFetcher()
    response = fetcher.fetch("asset:test.css")
    assert response.content_type == "text/css"
    assert response.read() == (ASSET_ROOT / "test.css").read_bytes()

    pdf = render_pdf(page_html('<p class="asset-probe"></p>', head='<link rel="stylesheet" href="asset:test.css">'),
                     title=TITLE, fetcher=fetcher)

    assert "ASSET-STYLESHEET-APPLIED" in pdf_text(pdf)
    assert fetcher.refused == []


@pytest.mark.parametrize("url", [
    "asset:../../config.py",
    "asset:../scss/app.scss",
    "asset:%2e%2e/%2e%2e/config.py",
    "asset:/etc/passwd",
    "asset://etc/passwd",
    "asset:sub/../../config.py",
    "asset:..\\..\\config.py",
    "asset:",
    "asset:missing.css",
])
def test_asset_outside_the_folder_or_missing_is_refused(url):
    fetcher = AssetFetcher()
    with pytest.raises(AssetRefused):
        fetcher.fetch(url)
    assert fetcher.refused == ["asset"]


def test_asset_symlink_out_of_the_folder_and_unknown_file_types_are_refused(tmp_path, local_probe):
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "outside.css").symlink_to(local_probe)
    (tmp_path / "assets" / "notes.txt").write_text("notes")
    (tmp_path / "assets" / "folder.css").mkdir()
    fetcher = AssetFetcher(root=tmp_path / "assets")

    for url in ("asset:outside.css", "asset:notes.txt", "asset:folder.css"):
        with pytest.raises(AssetRefused):
            fetcher.fetch(url)
    assert fetcher.refused == ["asset"] * 3


@pytest.mark.parametrize("url, scheme", [
    ("file:///etc/passwd", "file"),
    ("FILE:///etc/passwd", "file"),
    ("http://127.0.0.1:9/x.css", "http"),
    ("https://example.org/logo.png", "https"),
    ("ftp://127.0.0.1/x", "ftp"),
    ("javascript:alert(1)", "javascript"),
    ("gopher://127.0.0.1/x", "gopher"),
    ("made-up-scheme:x", "other"),
    ("data:text/css,body{color:red}", "data"),
    ("data:text/html;base64,PGI+aGk8L2I+", "data"),
    ("data:,plain", "data"),
    ("relative/path.css", "relative"),
])
def test_every_other_url_is_refused(url, scheme):
    fetcher = AssetFetcher()
    with pytest.raises(AssetRefused):
        fetcher.fetch(url)
    assert fetcher.refused == [scheme]


def test_image_data_url_is_served():
    fetcher = AssetFetcher()
    response = fetcher.fetch("data:image/png;base64," + base64.b64encode(PNG).decode())
    assert (response.content_type, response.read()) == ("image/png", PNG)


# --- markup that asks for more, as a field value would carry it ----------------------------------

def test_markup_in_a_field_fetches_nothing_from_disk_or_network(web_server, local_probe, caplog):
    base, requests = web_server
    field_value = (  # what a hostile referral might hold, pasted into a template without escaping
        f'<img src="file:///etc/passwd" alt="">'
        f'<link rel="stylesheet" href="file://{local_probe}?{SECRET}">'
        f'<link rel="stylesheet" href="{base}/x.css?{SECRET}">'
        f'<img src="{base}/pixel.png?{SECRET}" alt="">'
        f'<link rel="stylesheet" href="{base}/redirect.css">'
        f'<style>@import url("{base}/imported.css"); @import url("file://{local_probe}");'
        f'@font-face {{ font-family: Probe; src: url("{base}/font.ttf"); }}</style>'
        f'<img src="javascript:alert(\'{SECRET}\')" alt="">'
        f'<img src="unknown-scheme:{SECRET}" alt="">'
        f'<img src="{SECRET}:x" alt="">'  # a scheme made of a name is logged as "other"
        f'<link rel="stylesheet" href="data:text/css,{PROBE_CSS}">'
        f'<img src="data:text/html;base64,PGI+aGk8L2I+" alt="">'
        f'<link rel="stylesheet" href="{SECRET}.css">'  # relative: resolved against the <base> below
        f'<base href="file://{local_probe.parent}/"><link rel="stylesheet" href="{local_probe.name}">'
        f'<object data="{base}/object.png?{SECRET}" type="image/png"></object>'
    )
    fetcher = AssetFetcher()
    caplog.set_level(logging.DEBUG)

    pdf = render_pdf(page_html(field_value), title=TITLE, fetcher=fetcher)

    text = pdf_text(pdf)
    assert "Item 1: risk summary" in text
    assert LEAK not in text
    assert requests == []  # the loopback server was never asked, so no redirect could be followed
    assert {"file", "http", "javascript", "other", "data"} <= set(fetcher.refused)
    assert "PDF renderer refused a URL with scheme 'file'" in caplog.text
    assert SECRET not in caplog.text
    assert str(local_probe) not in caplog.text and base not in caplog.text


def test_an_image_allowed_inline_cannot_fetch_through_its_own_references(local_probe):
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="10" '
           f'height="10"><image xlink:href="file://{local_probe}" width="10" height="10"/></svg>')
    fetcher = AssetFetcher()

    pdf = render_pdf(page_html(f'<img src="data:image/svg+xml;base64,{base64.b64encode(svg.encode()).decode()}" '
                               f'alt="logo">'), title=TITLE, fetcher=fetcher)

    assert "Item 1: risk summary" in pdf_text(pdf)
    assert fetcher.refused == ["file"]


def test_escaped_field_value_shows_as_text_and_fetches_nothing():
    fetcher = AssetFetcher()
    value = '<img src="file:///etc/passwd">'

    pdf = render_pdf(page_html(f"<p>{escape(value)}</p>"), title=TITLE, fetcher=fetcher)

    assert value in pdf_text(pdf)
    assert fetcher.refused == []


# --- the document --------------------------------------------------------------------------------

def test_rendered_and_stamped_pack_is_pdf_ua_with_the_stamp_on_every_page():
    body = "".join(f"<h2>Case {n}</h2>" + "<p>Risk summary and agreed actions.</p>" * 12 for n in range(1, 8))
    pdf = render_pdf(page_html(body), title=TITLE)
    assert pdf_ua_failures(pdf) == []

    stamped = stamp(pdf, [STAMP])

    assert pdf_ua_failures(stamped) == []
    pages = pdf_pages_text(stamped)
    assert len(pages) > 1
    assert all(STAMP in text for text in pages)
    assert "Case 7" in pages[-1]


def test_stamp_lines_keep_any_letters_and_each_line_is_on_every_page():
    lines = ["OFFICIAL-SENSITIVE", "Issued to Łódź Żeńska Agency (Zoë Ó'Brien) · Pack PK-7F3K9Q"]
    pdf = render_pdf(page_html("<p>One</p><p style='break-before: page'>Two</p>"), title=TITLE)

    stamped = stamp(pdf, lines)

    assert pdf_ua_failures(stamped) == []
    pages = pdf_pages_text(stamped)
    assert len(pages) == 2
    for text in pages:
        assert all(line in text for line in lines)


def test_stamp_sits_in_the_left_margin_clear_of_the_body_text():
    pdf = stamp(render_pdf(page_html("<p>" + "Body text runs across the page. " * 60 + "</p>"), title=TITLE),
                [STAMP])
    positions = {"stamp": [], "body": []}

    def visit(text, cm, tm, font, size):
        if text.strip():
            x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
            positions["stamp" if "PK-7F3K9Q" in text else "body"].append((x, size * abs(tm[1] or tm[0])))

    pypdf.PdfReader(io.BytesIO(pdf)).pages[0].extract_text(visitor_text=visit)

    assert positions["stamp"] and positions["body"]
    stamp_right = max(x + size for x, size in positions["stamp"])
    assert stamp_right < min(x for x, _ in positions["body"])


def test_metadata_is_the_title_only():
    head = ('<meta name="author" content="Jane Doe"><meta name="description" content="Jane Doe, 12 Oak Road">'
            '<meta name="keywords" content="Jane Doe"><meta name="generator" content="Jane Doe">'
            '<meta name="dcterms.created" content="2026-01-01"><meta name="subject-name" content="Jane Doe">')
    html = page_html("<p>Jane Doe</p>", head=head).replace("<title>Pack</title>", "<title>Jane Doe</title>")

    pdf = stamp(render_pdf(html, title=TITLE), [STAMP])

    with pikepdf.open(io.BytesIO(pdf)) as document:
        info = {str(key): str(value) for key, value in document.docinfo.items()}
        assert info == {"/Title": TITLE, "/Producer": info["/Producer"]}
        assert info["/Producer"].startswith("WeasyPrint")
        xmp = bytes(document.Root.Metadata.read_bytes()).decode()
        assert TITLE in xmp and "Jane" not in xmp
        assert str(document.Root.Lang) == "en-GB"
        assert "/Names" not in document.Root  # no embedded files
        assert document.Root.ViewerPreferences.DisplayDocTitle


def test_language_comes_from_the_html_element():
    pdf = render_pdf(page_html("<p>Bore da</p>", lang="cy"), title=TITLE)
    with pikepdf.open(io.BytesIO(pdf)) as document:
        assert str(document.Root.Lang) == "cy"


def test_text_is_set_in_embedded_dejavu_sans():
    pdf = stamp(render_pdf(page_html("<p>Text</p>"), title=TITLE), [STAMP])
    with pikepdf.open(io.BytesIO(pdf)) as document:
        fonts = {str(font.BaseFont) for page in document.pages for font in page.Resources.Font.values()}
        embedded = [("/FontFile2" in font.DescendantFonts[0].FontDescriptor)
                    for page in document.pages for font in page.Resources.Font.values()]
    assert fonts and all("DejaVuSans" in name.replace("-", "") for name in fonts)
    assert embedded and all(embedded)


def test_failures_say_nothing_about_the_content():
    with pytest.raises(PdfRenderError) as stamped:
        stamp(b"%PDF-1.7 Jane Doe, 12 Oak Road", [STAMP])
    with pytest.raises(PdfRenderError) as rendered:
        render_pdf(None, title="Jane Doe")
    with pytest.raises(PdfRenderError):
        stamp(render_pdf(page_html("<p>x</p>"), title=TITLE), [" "])
    for error in (stamped.value, rendered.value):
        assert "Jane" not in str(error) and "Oak" not in str(error)
        assert error.__cause__ is None and error.__suppress_context__


def test_sha256_of_is_the_fingerprint_of_the_bytes():
    pdf = render_pdf(page_html("<p>x</p>"), title=TITLE)
    assert sha256_of(pdf) == hashlib.sha256(pdf).hexdigest()
    assert sha256_of(stamp(pdf, ["Pack PK-AAAAAA"])) != sha256_of(stamp(pdf, ["Pack PK-BBBBBB"]))


def test_twenty_page_document_cost_per_page():
    """Measures, never asserts a time: prints milliseconds per A4 page for rendering and stamping."""
    body = "".join(f"<section style='break-after: page'><h2>Case {n}</h2>"
                   + "<p>Risk summary, agency information and agreed actions for the case.</p>" * 20
                   + "</section>" for n in range(1, 21))
    html = page_html(body)

    started = time.perf_counter()
    pdf = render_pdf(html, title=TITLE)
    rendered = time.perf_counter()
    stamped = stamp(pdf, [STAMP])
    finished = time.perf_counter()

    pages = pdf_pages_text(stamped)
    assert len(pages) in (20, 21)
    assert all(STAMP in text for text in pages)
    count = len(pages)
    print(f"\n{count} A4 pages: render {(rendered - started) * 1000 / count:.1f} ms/page, "
          f"stamp {(finished - rendered) * 1000 / count:.1f} ms/page, "
          f"total {(finished - started) * 1000 / count:.1f} ms/page, {len(stamped) // 1024} KiB")

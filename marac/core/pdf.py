"""PDF documents: render HTML safely with WeasyPrint, stamp every page with a watermark, fingerprint.

Rendering fetches nothing from the outside world: `AssetFetcher` serves only the repository's
`assets/pdf/` folder (through the private `asset:` scheme, e.g. `asset:pack.css`) and inline images
(`data:image/png;base64,...`); any other URL in the markup, even one typed into a field, is refused
and the document renders without it. Refusals are logged by scheme only, and WeasyPrint's own log
records are stripped of their arguments, since a URL or a piece of text may carry personal data.

The output is tagged PDF/UA-1 with one metadata field, the title the caller gives (the document's
language comes from `<html lang>`). `stamp` adds the issue lines (classification, recipient, pack
reference) to the side margin of every page as a watermark artifact, in an embedded subset of
DejaVu Sans, so the document stays PDF/UA-1 and the text can be extracted.
"""
import base64
import binascii
import functools
import hashlib
import io
import logging
import re
import stat
from pathlib import Path
from urllib.parse import unquote, unquote_to_bytes

import pikepdf
import weasyprint
from fontTools import subset as font_subset
from fontTools.ttLib import TTFont
from weasyprint.pdf.metadata import DocumentMetadata
from weasyprint.urls import URLFetcher, URLFetcherResponse

log = logging.getLogger("marac.pdf")

ASSET_ROOT = Path(__file__).resolve().parents[2] / "assets" / "pdf"
ASSET_SCHEME = "asset"
DATA_IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/svg+xml"})
ASSET_TYPES = {
    ".css": "text/css",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".ttf": "font/ttf",
    ".otf": "font/otf",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
}
DEFAULT_LANG = "en-GB"
FONT_FAMILY = "DejaVu Sans"
# A user stylesheet: the documents' own CSS (asset:pack.css) overrides it.
BASE_CSS = f'html {{ font-family: "{FONT_FAMILY}", sans-serif; }}'

# Schemes named in the log as they are; any other is logged as "other" (a made-up scheme could be a name).
KNOWN_SCHEMES = frozenset({"asset", "data", "file", "http", "https", "ftp", "sftp", "javascript", "vbscript",
                           "mailto", "blob", "gopher", "ws", "wss", "smb", "jar", "relative"})

_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9.+-]*):")


class PdfRenderError(Exception):
    """A document could not be rendered or stamped. The message never holds the document's content."""


class AssetRefused(Exception):
    """A URL the renderer may not fetch. WeasyPrint treats it as a failed fetch: the resource is left out."""


class _Redact(logging.Filter):
    """Keep WeasyPrint's message templates but drop their arguments and tracebacks (URLs, text)."""

    def filter(self, record):
        record.args = ()
        record.exc_info = record.exc_text = record.stack_info = None
        return True


for _name in ("weasyprint", "weasyprint.progress"):
    logging.getLogger(_name).addFilter(_Redact())


class AssetFetcher(URLFetcher):
    """The only way a rendered document loads a resource: `asset:` files from assets/pdf/ and inline
    image `data:` URLs; everything else (file:, http(s):, redirects, other schemes) is refused.

    `refused` lists the scheme of each refused URL, in order (for tests and counting): one of
    KNOWN_SCHEMES, or "other"."""

    def __init__(self, root=None):
        super().__init__(allowed_protocols=(), allow_redirects=False, fail_on_errors=False)
        self.root = Path(root or ASSET_ROOT).resolve()
        self.refused = []

    def fetch(self, url, headers=None):
        """The response for an allowed URL; AssetRefused (logged by scheme only) for any other."""
        match = _SCHEME.match(url or "")
        scheme = match[1].lower() if match else ""
        if scheme == ASSET_SCHEME:
            return self._asset(url[match.end():])
        if scheme == "data":
            return self._data(url[match.end():])
        self._refuse(scheme or "relative")

    def open(self, url, data=None, timeout=None):
        """Route urllib-style calls through fetch, so nothing reaches urllib's own handlers."""
        return self.fetch(url.full_url if hasattr(url, "full_url") else url)

    def _refuse(self, scheme):
        scheme = scheme if scheme in KNOWN_SCHEMES else "other"
        self.refused.append(scheme)
        log.warning("PDF renderer refused a URL with scheme %r", scheme)
        raise AssetRefused(f"refused a URL with scheme {scheme!r}")

    def _asset(self, reference):
        name = unquote(reference.split("#", 1)[0].split("?", 1)[0])
        parts = name.split("/")
        if (not name or name.startswith("/") or "\\" in name or "\x00" in name
                or any(part in ("", ".", "..") for part in parts)):
            self._refuse(ASSET_SCHEME)
        try:
            path = self.root.joinpath(*parts).resolve(strict=True)
            regular = stat.S_ISREG(path.stat().st_mode)
        except (OSError, RuntimeError):
            self._refuse(ASSET_SCHEME)
        media_type = ASSET_TYPES.get(path.suffix.lower())
        if not regular or not path.is_relative_to(self.root) or media_type is None:
            self._refuse(ASSET_SCHEME)
        return URLFetcherResponse(f"{ASSET_SCHEME}:{'/'.join(parts)}", path.read_bytes(),
                                  {"Content-Type": media_type})

    def _data(self, rest):
        header, comma, payload = rest.partition(",")
        params = [part.strip().lower() for part in header.split(";")]
        media_type = params[0]
        if not comma or media_type not in DATA_IMAGE_TYPES:
            self._refuse("data")
        try:
            raw = unquote_to_bytes(payload)
            body = base64.b64decode(raw, validate=False) if "base64" in params[1:] else raw
        except (binascii.Error, ValueError):
            self._refuse("data")
        return URLFetcherResponse("data:", body, {"Content-Type": media_type})


def render_pdf(html, *, title, fetcher=None):
    """Render an HTML document to PDF/UA-1 bytes whose only metadata is `title` (and its language),
    loading resources through `fetcher` (a fresh AssetFetcher by default). PdfRenderError on failure."""
    fetcher = fetcher or AssetFetcher()
    try:
        document = weasyprint.HTML(string=html, base_url=f"{ASSET_SCHEME}:", url_fetcher=fetcher).render(
            pdf_variant="pdf/ua-1", stylesheets=[weasyprint.CSS(string=BASE_CSS)])
        lang = document.metadata.lang or DEFAULT_LANG
        document.metadata = DocumentMetadata(title=title, lang=lang)
        return document.write_pdf(pdf_variant="pdf/ua-1")
    except Exception as error:
        log.error("PDF rendering failed (%s)", type(error).__name__)
        raise PdfRenderError("The document could not be rendered.") from None


def sha256_of(pdf_bytes):
    """The SHA-256 of a document's bytes, in hex: the fingerprint recorded when a pack is issued."""
    return hashlib.sha256(pdf_bytes).hexdigest()


# --- the stamp ---------------------------------------------------------------------------------

STAMP_SIZE = 7.0  # points
STAMP_GREY = 0.35  # 0 black, 1 white: faint on screen, legible when printed
STAMP_EDGE = 9.0  # points from the page's left edge to the first line's ascender
STAMP_END_MARGIN = 36.0  # points kept free at the top and bottom of the page


@functools.lru_cache(maxsize=1)
def _font_path():
    """The file of DejaVu Sans (Book), found through fontconfig as WeasyPrint finds it."""
    from weasyprint.text.ffi import ffi, fontconfig

    config = fontconfig.FcInitLoadConfigAndFonts()
    pattern = fontconfig.FcPatternCreate()
    try:
        fontconfig.FcPatternAddString(pattern, b"family", FONT_FAMILY.encode())
        fontconfig.FcPatternAddString(pattern, b"style", b"Book")
        fontconfig.FcConfigSubstitute(config, pattern, fontconfig.FcMatchPattern)
        fontconfig.FcDefaultSubstitute(pattern)
        result = ffi.new("FcResult *")
        match = fontconfig.FcFontMatch(config, pattern, result)
        if match == ffi.NULL:
            raise PdfRenderError("The stamp font is not installed.")
        try:
            values = {}
            for key in (b"file", b"family"):
                value = ffi.new("FcChar8 **")
                if fontconfig.FcPatternGetString(match, key, 0, value) == fontconfig.FcResultMatch:
                    values[key] = ffi.string(value[0]).decode()
        finally:
            fontconfig.FcPatternDestroy(match)
    finally:
        fontconfig.FcPatternDestroy(pattern)
        fontconfig.FcConfigDestroy(config)
    if values.get(b"family") != FONT_FAMILY or not values.get(b"file", "").endswith(".ttf"):
        raise PdfRenderError("The stamp font is not installed.")
    return values[b"file"]


@functools.lru_cache(maxsize=32)
def _stamp_font(chars):
    """The stamp font for a set of code points (cached: a batch of packs shares most characters)."""
    return _StampFont(chars)


@functools.lru_cache(maxsize=1)
def _font_coverage():
    """The code points DejaVu Sans has a glyph for."""
    return frozenset(TTFont(_font_path()).getBestCmap())


# Latin, Latin-1 and Latin Extended-A letters and the common punctuation: one subset, made once per
# process, serves nearly every stamp (subsetting costs about 0.2 s whatever the number of glyphs).
STAMP_BASE_CHARS = frozenset([*range(0x20, 0x7F), *range(0xA0, 0x180), *range(0x2010, 0x2028)])


def _stamp_chars(text):
    """The code points the stamp font holds for `text`: the base set plus any other it uses, that the
    font has (any other character is drawn as '?')."""
    coverage = _font_coverage()
    return tuple(sorted(code for code in STAMP_BASE_CHARS | {ord(char) for char in text} if code in coverage))


class _StampFont:
    """A subset of DejaVu Sans holding the stamp's characters, as a PDF Type0 font (Identity-H)."""

    def __init__(self, chars):
        font = TTFont(_font_path())
        options = font_subset.Options()
        options.drop_tables += ["FFTM"]
        options.layout_features = []
        options.name_IDs = ["*"]
        options.notdef_outline = True
        subsetter = font_subset.Subsetter(options)
        subsetter.populate(unicodes=chars)
        subsetter.subset(font)
        cmap = font.getBestCmap()
        self.scale = 1000 / font["head"].unitsPerEm
        self.gid = {chr(code): font.getGlyphID(name) for code, name in cmap.items()}
        self.width = {gid: round(font["hmtx"][font.getGlyphName(gid)][0] * self.scale)
                      for gid in range(len(font.getGlyphOrder()))}
        head, os2 = font["head"], font["OS/2"]
        self.bbox = [round(v * self.scale) for v in (head.xMin, head.yMin, head.xMax, head.yMax)]
        self.ascent = round(os2.sTypoAscender * self.scale)
        self.descent = round(os2.sTypoDescender * self.scale)
        self.cap_height = round(getattr(os2, "sCapHeight", os2.sTypoAscender) * self.scale)
        buffer = io.BytesIO()
        font.save(buffer)
        self.program = buffer.getvalue()
        tag = hashlib.sha256("".join(map(chr, chars)).encode()).digest()
        self.name = "".join(chr(ord("A") + byte % 26) for byte in tag[:6]) + "+DejaVuSans"

    def glyphs(self, line):
        """The glyph ids of a line (a '?' for a character the font lacks)."""
        return [self.gid.get(char, self.gid["?"]) for char in line]

    def text_width(self, line, size):
        """The width of a line set at `size` points."""
        return sum(self.width[gid] for gid in self.glyphs(line)) * size / 1000

    def to_unicode(self):
        """A ToUnicode CMap from glyph ids back to characters, so the stamp can be extracted."""
        pairs = sorted((gid, char) for char, gid in self.gid.items())
        entries = [f"<{gid:04X}> <{ord(char):04X}>" for gid, char in pairs if ord(char) <= 0xFFFF]
        chunks = [entries[i:i + 100] for i in range(0, len(entries), 100)]
        body = "".join(f"{len(chunk)} beginbfchar\n" + "\n".join(chunk) + "\nendbfchar\n" for chunk in chunks)
        return ("/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
                "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
                "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
                "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n"
                f"{body}endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n").encode()

    def embed(self, pdf):
        """The Type0 font dictionary, added to `pdf` as an indirect object."""
        descriptor = pdf.make_indirect(pikepdf.Dictionary(
            Type=pikepdf.Name.FontDescriptor, FontName=pikepdf.Name("/" + self.name),
            Flags=32, FontBBox=self.bbox, ItalicAngle=0, Ascent=self.ascent, Descent=self.descent,
            CapHeight=self.cap_height, StemV=80,
            FontFile2=pikepdf.Stream(pdf, self.program, Length1=len(self.program))))
        widths = []
        for gid in sorted(self.width):
            widths += [gid, [self.width[gid]]]
        descendant = pdf.make_indirect(pikepdf.Dictionary(
            Type=pikepdf.Name.Font, Subtype=pikepdf.Name.CIDFontType2,
            BaseFont=pikepdf.Name("/" + self.name),
            CIDSystemInfo=pikepdf.Dictionary(Registry=pikepdf.String("Adobe"),
                                             Ordering=pikepdf.String("Identity"), Supplement=0),
            FontDescriptor=descriptor, W=widths, DW=1000, CIDToGIDMap=pikepdf.Name.Identity))
        return pdf.make_indirect(pikepdf.Dictionary(
            Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type0, BaseFont=pikepdf.Name("/" + self.name),
            Encoding=pikepdf.Name("/Identity-H"), DescendantFonts=[descendant],
            ToUnicode=pikepdf.Stream(pdf, self.to_unicode())))


def _stamp_content(font, resource, lines, box):
    """The content stream drawing the lines up the left margin, marked as a watermark artifact."""
    llx, lly, _urx, ury = (float(value) for value in box)
    height = ury - lly
    longest = max(font.text_width(line, 1) for line in lines)
    size = min(STAMP_SIZE, (height - 2 * STAMP_END_MARGIN) / longest) if longest else STAMP_SIZE
    leading = size * 1.4
    ops = ["q", "/Artifact <</Type /Pagination /Subtype /Watermark>> BDC", f"{STAMP_GREY} g", "BT",
           f"{resource} {size:.2f} Tf"]
    for index, line in enumerate(lines):
        x = llx + STAMP_EDGE + font.ascent * size / 1000 + index * leading
        y = lly + (height - font.text_width(line, size)) / 2
        hex_glyphs = "".join(f"{gid:04X}" for gid in font.glyphs(line))
        # Rotated a quarter turn anticlockwise: the line reads upwards along the left edge.
        ops += [f"0 1 -1 0 {x:.2f} {y:.2f} Tm", f"<{hex_glyphs}> Tj"]
    ops += ["ET", "EMC", "Q"]
    return ("\n".join(ops) + "\n").encode()


def stamp(pdf_bytes, lines):
    """Add the lines (e.g. classification, recipient, pack reference) up the left margin of every page,
    as a watermark artifact in an embedded font, keeping the document PDF/UA-1 and its text extractable."""
    lines = [" ".join(str(line).split()) for line in lines]
    if not lines or not all(lines):
        raise PdfRenderError("A stamp needs at least one line of text.")
    try:
        with pikepdf.open(io.BytesIO(pdf_bytes)) as pdf:
            font = _stamp_font(_stamp_chars("".join(lines)))
            font_object = font.embed(pdf)
            for page in pdf.pages:
                resource = page.add_resource(font_object, pikepdf.Name.Font, prefix="FStamp")
                page.contents_add(pikepdf.Stream(pdf, b"q\n"), prepend=True)
                page.contents_add(pikepdf.Stream(pdf, b"Q\n" + _stamp_content(font, resource, lines,
                                                                                page.cropbox)))
            output = io.BytesIO()
            pdf.save(output)
            return output.getvalue()
    except PdfRenderError:
        raise
    except Exception as error:
        log.error("PDF stamping failed (%s)", type(error).__name__)
        raise PdfRenderError("The document could not be stamped.") from None

"""File names of every download (PDF, ICS, CSV, XLSX, attachments), in one place (issue 16, item 4).

A Cyrillic name set as a plain header value went out as an RFC 2047 encoded word (=?utf-8?b?...?=), which
neither browsers nor curl decode, so files were saved as print.pdf. RFC 6266 says: the UTF-8 name in
filename*=utf-8''<percent-encoded> (Django's content_disposition_header writes it), preceded by a plain ASCII
filename= for clients that do not read filename* (curl -OJ among them): the name transliterated.
"""

import re
from urllib.parse import quote

from django.http import HttpResponse
from django.utils.http import content_disposition_header

from .exports import csv_bytes, xlsx_bytes

# GOST 7.79-2000 system B, the transliteration of Russian passports' Latin lines, simplified to ASCII letters.
_CYRILLIC = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh", "з": "z", "и": "i",
    "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t",
    "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y", "ь": "",
    "э": "e", "ю": "yu", "я": "ya",
}  # fmt: skip
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def ascii_filename(filename: str) -> str:
    """The name for clients that read only filename=: Cyrillic transliterated, anything else not safe in a file
    name replaced by "-"; never empty."""
    letters = []
    for char in filename:
        latin = _CYRILLIC.get(char.lower())
        if latin is None:
            letters.append(char)
        else:
            letters.append(latin.capitalize() if char.isupper() else latin)
    stem = _UNSAFE.sub("-", "".join(letters)).strip("-.")
    return stem or "download"


def content_disposition(filename: str, *, inline: bool = False) -> str:
    """The Content-Disposition value for a download named filename: an ASCII filename= then filename*= with the
    UTF-8 name (always both, so every client gets the best name it can read)."""
    # Django writes filename="..." (escaped) for an ASCII name and filename*=utf-8''... for any other.
    fallback = content_disposition_header(as_attachment=not inline, filename=ascii_filename(filename))
    utf8 = content_disposition_header(as_attachment=not inline, filename=filename)
    if "filename*=" in utf8:
        return f"{fallback}; {utf8.split('; ', 1)[1]}"
    return f"{utf8}; filename*=utf-8''{quote(filename)}"


def set_download_name(response: HttpResponse, filename: str, *, inline: bool = False) -> HttpResponse:
    response["Content-Disposition"] = content_disposition(filename, inline=inline)
    return response


# A report page's ``?export=``: the kinds of file it offers and their content types.
EXPORT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def export_response(content: bytes, *, export: str, filename: str) -> HttpResponse:
    """A report's export (``export`` one of EXPORT_TYPES), saved as ``<filename>.<export>``."""
    return set_download_name(HttpResponse(content, content_type=EXPORT_TYPES[export]), f"{filename}.{export}")


def table_export(export: str, *, title, header, rows, filename: str) -> HttpResponse:
    """A report page's table as ``?export=csv`` (the reader's CSV dialect) or ``xlsx`` (one sheet named ``title``);
    every cell written safely (``dms.core.exports``)."""
    content = csv_bytes(header, rows) if export == "csv" else xlsx_bytes(title, header, rows)
    return export_response(content, export=export, filename=filename)


def pdf_response(content: bytes, filename: str, *, inline: bool = True) -> HttpResponse:
    """A printed document: shown in the browser's viewer, saved under its own (possibly Cyrillic) name."""
    return set_download_name(HttpResponse(content, content_type="application/pdf"), filename, inline=inline)


def private_file_response(file, *, content_type: str, filename: str) -> HttpResponse:
    """An uploaded file served to a user the calling view has checked (claims' attachments, quality photos):
    never from a public media URL, shown inline but sandboxed, never sniffed into another type, never cached."""
    from django.http import FileResponse

    response = FileResponse(file.open("rb"), content_type=content_type, filename=filename)
    set_download_name(response, filename, inline=True)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response["Cache-Control"] = "private, no-store"
    return response

"""Names (layers, groups, blocks, branches) and file names come from configs and command
lines: any of them may hold an escape sequence, a bidi override, a newline or markup. Each
output kind makes them safe in one function here, applied where text enters its writer.
Ordinary text passes through unchanged (the very same string), so outputs stay byte-identical.

What is unsafe is one rule: every character Python does not call printable (``str.
isprintable``: C0 and C1 controls, DEL, format characters such as bidi overrides and
zero-width spaces, line and paragraph separators, surrogates, unassigned code points,
spaces other than " "). This module imports nothing, so any path may use it.
"""

from __future__ import annotations

_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _escape(char: str) -> str:
    code = ord(char)
    if char in _NAMED:
        return _NAMED[char]
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def visible(text: str) -> str:
    """Text as one line of printable characters, each unsafe one as a Python escape:
    ``a\\x1b[2Jb``, ``a\\nb``, ``rtl\\u202eok``. Terminal text (tables, titles, error
    lines), CSV cells and XML all take names through this; it is valid XML 1.0 and cannot
    move the cursor, recolour, retitle or reorder what a terminal or a browser shows."""
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else _escape(char) for char in text)


def visible_lines(text: str) -> str:
    """``visible`` for text whose lines are meant (an error with its spec and caret)."""
    return "\n".join(visible(line) for line in text.split("\n"))


# --- JSON -----------------------------------------------------------------------------------


def _json_escape(char: str) -> str:
    code = ord(char)
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000  # outside the BMP: JSON's \u escapes are UTF-16, a surrogate pair
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def json_safe(encoded: str) -> str:
    """Encoded JSON (``ensure_ascii=False``, which escapes only C0 controls) with every other
    unsafe character as a ``\\uXXXX`` escape: still the exact name to a JSON reader, but
    nothing raw for a terminal, and a lone surrogate (a file name that is not UTF-8) cannot
    fail to encode. Only strings hold such characters, where the escape is valid."""
    if encoded.isprintable():
        return encoded
    return "".join(char if char.isprintable() else _json_escape(char) for char in encoded)


# --- Markdown (GitHub-flavoured) ------------------------------------------------------------


def md_code(text: str) -> str:
    """A code span that shows ``text`` literally: no link, image, HTML or emphasis, however
    many backticks it holds (the fence is longer than its longest run of them)."""
    text = visible(text)
    if "`" not in text:
        return f"`{text}`"
    longest = run = 0
    for char in text:
        run = run + 1 if char == "`" else 0
        longest = max(longest, run)
    fence = "`" * (longest + 1)
    return f"{fence} {text} {fence}"  # spaced: a backtick may begin or end the text


def md_text(text: str) -> str:
    """Free text outside a code span (a group's kind, which is a block's name): as it is
    when made of letters, digits, spaces, ``_ - ×`` only, a code span otherwise (GitHub
    links bare URLs and www. addresses, and reads HTML)."""
    plain = text.isalnum() or all(char.isalnum() or char in " _-×" for char in text)
    return text if plain else md_code(text)


def md_cell(text: str) -> str:
    """One cell of a Markdown table: one line, and its ``|`` escaped (GitHub splits cells
    at a bare ``|``, inside code spans too, and unescapes ``\\|`` there)."""
    return visible(text).replace("|", "\\|")


# --- GitHub workflow commands ---------------------------------------------------------------


def github_data(text: str) -> str:
    """The message of a workflow command (``::error ...::DATA``)."""
    return visible(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def github_property(text: str) -> str:
    """A property value of a workflow command (``file=``, ``title=``)."""
    return github_data(text).replace(":", "%3A").replace(",", "%2C")


# --- XML ------------------------------------------------------------------------------------


def xml_text(text: str) -> str:
    """Text or an attribute value for ElementTree (which escapes ``& < > "``): XML 1.0
    forbids most control characters even as references, so they are shown visibly; the
    line breaks of a multi-line message stay."""
    return visible_lines(text)


# --- HTML -----------------------------------------------------------------------------------

_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}


def html_text(text: str) -> str:
    """Text or a quoted attribute value in HTML or SVG: ``& < > " '`` as references (no
    markup, script or attribute can start), unsafe characters shown visibly as above."""
    return html_markup(visible(text))


def html_lines(*lines: str) -> str:
    """Lines of text for a tooltip (an SVG ``<title>``): each as ``html_text``, joined by
    line breaks written as references."""
    return "&#10;".join(html_text(line) for line in lines)


def html_markup(text: str) -> str:
    """Markup (a whole page) as an attribute's value (an ``iframe``'s ``srcdoc``): only
    ``& < > " '`` as references, every other character as it is."""
    if not any(char in _HTML for char in text):
        return text
    return "".join(_HTML.get(char, char) for char in text)


def script_json(encoded: str) -> str:
    """Encoded JSON placed inside ``<script type="application/json">``: ``<``, ``>`` and
    ``&`` as ``\\u`` escapes, so no ``</script>`` or ``<!--`` in a name can end the block;
    the same text to a JSON reader."""
    return encoded.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")

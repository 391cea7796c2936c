"""XML helpers the XML-based converters share: sniffing the root element, parsing with one kind of error,
local names of namespaced tags. (A leading underscore: not a converter module, so discovery skips it.)"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

from ..errors import ConversionError

_FIRST_TAG = re.compile(rb"<([A-Za-z_][\w.\-]*:)?([A-Za-z_][\w.\-]*)")
_COMMENTS = re.compile(rb"<!--.*?-->|<\?.*?\?>", re.S)


def local_name(tag: Any) -> str:
    """``{urn:x}Panel`` → ``Panel``; anything that is not a tag (comments, processing instructions) → ``""``."""
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def root_name(head: bytes) -> str | None:
    """The local name of the first element in the first bytes of a file, or None when they do not look like XML.
    UTF-16 files are looked at too; the XML declaration, comments and a byte-order mark are skipped."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        head = head.decode("utf-16", "ignore").encode("utf-8", "ignore")
    head = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head.startswith(b"<"):
        return None
    match = _FIRST_TAG.search(_COMMENTS.sub(b"", head))
    return match.group(2).decode("ascii") if match else None


def parse(data: bytes | str, *, strip_namespaces: bool = False) -> ET.Element:
    """The document's root element.

    Raises:
        ConversionError: the bytes are not well-formed XML (with the line), or use an encoding expat lacks.
    """
    try:
        root = ET.fromstring(data)
    except ET.ParseError as error:
        raise ConversionError(f"the file is not well-formed XML: {error}", line=error.position[0]) from None
    except (ValueError, LookupError) as error:  # e.g. an encoding expat does not know
        raise ConversionError(f"the file cannot be read as XML: {error}") from None
    if strip_namespaces and isinstance(root.tag, str) and root.tag.startswith("{"):
        for element in root.iter():
            element.tag = local_name(element.tag)
    return root


__all__ = ["local_name", "parse", "root_name"]

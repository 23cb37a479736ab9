"""Small generated SVG images: avatars (initials) and paper thumbnails (the title on a card).

The API gives every paper a ``thumbnail`` and every submitter an ``avatarUrl``, as Hugging Face's does;
this server has no uploaded images, so it draws them. All text is XML-escaped and the images contain no
script or link; they are served with a ``default-src 'none'`` policy anyway.
"""

from __future__ import annotations

import hashlib
import textwrap
from xml.sax.saxutils import escape

_PALETTE = ("#4f46e5", "#0e7490", "#15803d", "#b45309", "#be123c", "#7e22ce", "#1d4ed8", "#a16207")


def _colour(text: str) -> str:
    return _PALETTE[hashlib.blake2b(text.encode(), digest_size=1).digest()[0] % len(_PALETTE)]


def initials(name: str) -> str:
    parts = [p for p in name.replace("_", " ").replace("-", " ").split() if p]
    letters = "".join(p[0] for p in parts[:2]) if len(parts) > 1 else name[:2]
    return letters.upper() or "?"


def avatar_svg(name: str) -> str:
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64" width="64" height="64">'
        f'<title>{escape(name)}</title><circle cx="32" cy="32" r="32" fill="{_colour(name)}"/>'
        '<text x="32" y="40" font-family="system-ui,sans-serif" font-size="24" font-weight="600" '
        f'fill="#fff" text-anchor="middle">{escape(initials(name))}</text></svg>'
    )


def thumbnail_svg(paper_id: str, title: str, authors: str) -> str:
    lines = textwrap.wrap(title, width=38)[:4]
    if len(textwrap.wrap(title, width=38)) > 4:
        lines[-1] = lines[-1].rstrip(" .,;:") + "…"
    title_style = 'font-size="40" font-weight="700" fill="#111827"'
    text = "".join(
        f'<text x="48" y="{120 + 52 * n}" {title_style}>{escape(line)}</text>' for n, line in enumerate(lines)
    )
    authors_y = 140 + 52 * len(lines) + 30
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1200 630" width="1200" height="630" '
        'font-family="system-ui,sans-serif">'
        f"<title>{escape(title)}</title>"
        '<rect width="1200" height="630" fill="#f8fafc"/>'
        f'<rect width="1200" height="12" fill="{_colour(paper_id)}"/>'
        f"{text}"
        f'<text x="48" y="{authors_y}" font-size="28" fill="#475569">{escape(authors)}</text>'
        f'<text x="48" y="590" font-size="26" fill="#64748b">{escape(paper_id)} · Daily Papers</text>'
        "</svg>"
    )


__all__ = ["avatar_svg", "initials", "thumbnail_svg"]

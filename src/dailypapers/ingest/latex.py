"""LaTeX text markup in titles and abstracts turned into Unicode, with the math left as it is.

arXiv metadata is written in LaTeX: ``Erd{\\H{o}}s``, ``Fr\\'echet``, ``Gr\\"obner``, ``{\\em not}``. People
read, search and cite the text, so accents, the few text symbols (``\\ss``, ``\\o``, ``\\&``) and font
commands (``\\emph{}``, ``{\\it }``) become plain Unicode at ingest. Formulas stay LaTeX, because the pages
render them as MathML (:mod:`dailypapers.mathml`): ``$...$``, ``$$...$$``, ``\\(...\\)`` and ``\\[...\\]`` are
found with the same rules as there (an inline formula neither starts nor ends with a space and its
closing ``$`` is not followed by a digit, so "between $5 and $10" is text).

Only the constructs listed here are converted; anything else keeps its source: unknown macros
(``\\cite{x}``, a ``\\pi`` outside math), a stray backslash, ``~`` (in URLs it is a tilde), ``%`` (LaTeX
would drop the rest of the line as a comment), braces that group nothing LaTeX knows (``{GPT}``, code).
``\\$`` stays escaped, since a bare ``$`` could open a formula. Converting a converted text again
changes nothing.

pylatexenc does the conversion of each construct (its tables know every accent); running it over a
whole abstract would also treat ``%`` as a comment and ``~`` as a space, and it costs milliseconds a
text. So a regular expression finds the constructs, text without a backslash is returned at once,
and each distinct construct is converted once (cached): the arXiv snapshot's millions of abstracts go
through at full speed.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# The delimiters of mathml.py: escaped dollars first, display math before inline math.
_MATH = re.compile(
    r"""\\\$
      | \$\$.+?\$\$
      | \\\[.+?\\\]
      | \$(?=\S)(?:\\\$|[^$])+?(?<=\S)\$(?!\d)
      | \\\(.+?\\\)""",
    re.VERBOSE | re.DOTALL,
)

_NOT_ESCAPED = r"(?<!\\)"
# An accent's argument: {e}, {\i}, {} (the accent alone), or one letter or \i / \j right after it.
_BRACED_ARG = r"\{\s*(?:\\[ij](?![A-Za-z])|[A-Za-z])?\s*\}"
_DOTLESS = r"\\[ij](?![A-Za-z])"
# \' \" \` \^ \~ \= \. may be followed directly by their letter (\'e); TeX also skips a space (\' c).
_SYMBOL_ACCENT = rf"\\['\"`^~=.](?:{_BRACED_ARG}|\s?{_DOTLESS}|\s?[A-Za-z])"
# \H \v \u \c \d \b \r \k are letters: their argument is braced or comes after a space (\c c).
_LETTER_ACCENT = rf"\\[Hvucdbrk](?:{_BRACED_ARG}|\s*{_DOTLESS}|\s+[A-Za-z])"
_SYMBOL_WORD = r"\\(?:ss|ae|AE|oe|OE|aa|AA|o|O|l|L|i|j|ldots|dots|textendash|textemdash)(?![A-Za-z])(?:\{\})?"
_CHARACTER = rf"(?:{_SYMBOL_ACCENT}|{_LETTER_ACCENT}|{_SYMBOL_WORD})"
_MARKUP = re.compile(
    rf"""{_NOT_ESCAPED}\{{(?P<grouped>{_CHARACTER})\}}
      | {_NOT_ESCAPED}(?P<character>{_CHARACTER})
      | {_NOT_ESCAPED}\\(?P<escaped>[&%\#_])
      | {_NOT_ESCAPED}\\(?:emph|text(?:it|bf|sl|sc|rm|sf|tt|up|md|normal)|underline|mbox)\s*
        \{{(?P<argument>[^{{}}\\$]*)\}}
      | {_NOT_ESCAPED}\{{\\(?:em|it|bf|sl|sc|rm|sf|tt|bfseries|itshape|slshape|scshape|upshape)(?![A-Za-z])\s*
        (?P<declared>[^{{}}\\$]*)\}}""",
    re.VERBOSE,
)
# Any command that _MARKUP could convert: most texts with a backslash hold formulas only (\alpha, \mathbb),
# and this one search sends them back unchanged without splitting them into math and text.
_CANDIDATE = re.compile(
    r"""\\(?:['"`^~=.&%\#_]
      | (?:[Hvucdbrk]|ss|ae|AE|oe|OE|aa|AA|o|O|l|L|i|j|ldots|dots|textendash|textemdash
        |em|it|bf|sl|sc|rm|sf|tt|bfseries|itshape|slshape|scshape|upshape)(?![A-Za-z])
      | emph|text|underline|mbox)""",
    re.VERBOSE,
)
# Nested markup (\emph{Erd\H{o}s}) is undone from the inside out, one level per pass.
_MAX_PASSES = 6
_RUNS_OF_SPACES = re.compile(r"[ \t]{2,}")
_SPACE_AT_LINE_EDGE = re.compile(r"[ \t]*\n[ \t]*")


def latex_text(text: str) -> str:
    """``text`` with its LaTeX accents, text symbols and font commands as Unicode; math kept."""
    if "\\" not in text or _CANDIDATE.search(text) is None:
        return text
    if "$" not in text and "\\(" not in text and "\\[" not in text:
        converted = _convert_plain(text)
    else:
        pieces: list[str] = []
        position = 0
        for match in _MATH.finditer(text):
            pieces.append(_convert_plain(text[position : match.start()]))
            pieces.append(match.group(0))
            position = match.end()
        pieces.append(_convert_plain(text[position:]))
        converted = "".join(pieces)
    if converted == text:
        return text
    # A command that stood between two spaces leaves two; tidy so that converting again changes nothing.
    converted = _SPACE_AT_LINE_EDGE.sub("\n", _RUNS_OF_SPACES.sub(" ", converted))
    return converted.strip(" \t")


def _convert_plain(text: str) -> str:
    # _CANDIDATE starts with a literal backslash, which the regex engine scans for quickly; _MARKUP is
    # tried at every position, so it only runs on text that has something to convert.
    for _ in range(_MAX_PASSES):
        if "\\" not in text or _CANDIDATE.search(text) is None:
            break
        converted = _MARKUP.sub(_replace, text)
        if converted == text:
            break
        text = converted
    return text


def _replace(match: re.Match[str]) -> str:
    character = match.group("grouped") or match.group("character")
    if character is not None:
        return _character(character)
    escaped = match.group("escaped")
    if escaped is not None:
        return escaped
    argument = match.group("argument")
    if argument is not None:
        return argument
    return match.group("declared") or ""


@lru_cache(maxsize=4096)
def _character(source: str) -> str:
    """One accent or symbol command as Unicode; its source again if pylatexenc cannot say."""
    from pylatexenc.latex2text import LatexNodes2Text

    try:
        text = LatexNodes2Text(math_mode="verbatim").latex_to_text(source)
    except Exception:  # pylatexenc raises assorted errors on odd input; keeping the source loses nothing
        return source
    text = unicodedata.normalize("NFC", text.strip())
    if not text or "\\" in text or "{" in text:
        return source
    return text


__all__ = ["latex_text"]

"""arXiv OAI-PMH responses (``export.arxiv.org/oai2``): ListRecords and GetRecord pages.

Two metadata formats are read:

* ``arXiv``: structured authors, categories, created/updated dates. It names no version numbers, so
  records carry ``published`` (v1) and ``updated`` (latest version, absent for single-version papers)
  but leave ``version`` and ``versions`` empty rather than guess.
* ``oai_dc``: Dublin Core, where subjects are long names ("Computer Science - Learning"). They are
  mapped to category codes with arXiv's own subject names below; a primary subject that cannot be
  mapped leaves the categories empty, because the first category is taken as the primary one and an
  invented or shifted primary would be worse than none.

Deleted records (``<header status="deleted">``) are skipped: they carry no metadata to reject.
``noRecordsMatch`` is an empty page, since harvesting a quiet day is normal; any other OAI error means
the request was wrong and is raised.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

from dailypapers.errors import FormatError
from dailypapers.ingest.arxiv_ids import parse_arxiv_id
from dailypapers.ingest.formats._xml import element_text, local_name, parse_xml
from dailypapers.ingest.records import PaperRecord, ParsedItem, Rejected, Source
from dailypapers.ingest.text import (
    clean_abstract,
    clean_title,
    clean_whitespace,
    code_repositories,
    latex_to_unicode,
    parse_datetime,
    project_page,
)

OAI_NS = "http://www.openarchives.org/OAI/2.0/"
ARXIV_OAI_NS = "http://arxiv.org/OAI/arXiv/"
OAI_DC_NS = "http://www.openarchives.org/OAI/2.0/oai_dc/"
DC_NS = "http://purl.org/dc/elements/1.1/"

_O = f"{{{OAI_NS}}}"
_X = f"{{{ARXIV_OAI_NS}}}"
_DC = f"{{{DC_NS}}}"

# Archives whose dc:subject is the archive name alone (they have no subject classes).
_WHOLE_ARCHIVES = {
    "Astrophysics": "astro-ph",
    "Condensed Matter": "cond-mat",
    "General Relativity and Quantum Cosmology": "gr-qc",
    "High Energy Physics - Experiment": "hep-ex",
    "High Energy Physics - Lattice": "hep-lat",
    "High Energy Physics - Phenomenology": "hep-ph",
    "High Energy Physics - Theory": "hep-th",
    "Mathematical Physics": "math-ph",
    "Nuclear Experiment": "nucl-ex",
    "Nuclear Theory": "nucl-th",
    "Quantum Physics": "quant-ph",
}

# dc:subject "<archive> - <subject class>": archive name -> (code, {class name: class code}).
# Old names that arXiv has since changed (cs.LG was "Learning") are listed next to the current ones.
_SUBJECT_CLASSES: dict[str, tuple[str, dict[str, str]]] = {
    "Computer Science": (
        "cs",
        {
            "Artificial Intelligence": "AI",
            "Hardware Architecture": "AR",
            "Computational Complexity": "CC",
            "Computational Engineering, Finance, and Science": "CE",
            "Computational Geometry": "CG",
            "Computation and Language": "CL",
            "Cryptography and Security": "CR",
            "Computer Vision and Pattern Recognition": "CV",
            "Computers and Society": "CY",
            "Databases": "DB",
            "Distributed, Parallel, and Cluster Computing": "DC",
            "Digital Libraries": "DL",
            "Discrete Mathematics": "DM",
            "Data Structures and Algorithms": "DS",
            "Emerging Technologies": "ET",
            "Formal Languages and Automata Theory": "FL",
            "General Literature": "GL",
            "Graphics": "GR",
            "Computer Science and Game Theory": "GT",
            "Human-Computer Interaction": "HC",
            "Information Retrieval": "IR",
            "Information Theory": "IT",
            "Machine Learning": "LG",
            "Learning": "LG",
            "Logic in Computer Science": "LO",
            "Multiagent Systems": "MA",
            "Multimedia": "MM",
            "Mathematical Software": "MS",
            "Numerical Analysis": "NA",
            "Neural and Evolutionary Computing": "NE",
            "Networking and Internet Architecture": "NI",
            "Other Computer Science": "OH",
            "Other": "OH",
            "Operating Systems": "OS",
            "Performance": "PF",
            "Programming Languages": "PL",
            "Robotics": "RO",
            "Symbolic Computation": "SC",
            "Sound": "SD",
            "Software Engineering": "SE",
            "Social and Information Networks": "SI",
            "Systems and Control": "SY",
        },
    ),
    "Mathematics": (
        "math",
        {
            "Commutative Algebra": "AC",
            "Algebraic Geometry": "AG",
            "Analysis of PDEs": "AP",
            "Algebraic Topology": "AT",
            "Classical Analysis and ODEs": "CA",
            "Combinatorics": "CO",
            "Category Theory": "CT",
            "Complex Variables": "CV",
            "Differential Geometry": "DG",
            "Dynamical Systems": "DS",
            "Functional Analysis": "FA",
            "General Mathematics": "GM",
            "General Topology": "GN",
            "Group Theory": "GR",
            "Geometric Topology": "GT",
            "History and Overview": "HO",
            "Information Theory": "IT",
            "K-Theory and Homology": "KT",
            "Logic": "LO",
            "Metric Geometry": "MG",
            "Mathematical Physics": "MP",
            "Numerical Analysis": "NA",
            "Number Theory": "NT",
            "Operator Algebras": "OA",
            "Optimization and Control": "OC",
            "Probability": "PR",
            "Quantum Algebra": "QA",
            "Rings and Algebras": "RA",
            "Representation Theory": "RT",
            "Symplectic Geometry": "SG",
            "Spectral Theory": "SP",
            "Statistics Theory": "ST",
            "Statistics": "ST",
        },
    ),
    "Statistics": (
        "stat",
        {
            "Applications": "AP",
            "Computation": "CO",
            "Methodology": "ME",
            "Machine Learning": "ML",
            "Other Statistics": "OT",
            "Statistics Theory": "TH",
            "Theory": "TH",
        },
    ),
    "Physics": (
        "physics",
        {
            "Accelerator Physics": "acc-ph",
            "Atmospheric and Oceanic Physics": "ao-ph",
            "Applied Physics": "app-ph",
            "Atomic and Molecular Clusters": "atm-clus",
            "Atomic Physics": "atom-ph",
            "Biological Physics": "bio-ph",
            "Chemical Physics": "chem-ph",
            "Classical Physics": "class-ph",
            "Computational Physics": "comp-ph",
            "Data Analysis, Statistics and Probability": "data-an",
            "Physics Education": "ed-ph",
            "Fluid Dynamics": "flu-dyn",
            "General Physics": "gen-ph",
            "Geophysics": "geo-ph",
            "History and Philosophy of Physics": "hist-ph",
            "Instrumentation and Detectors": "ins-det",
            "Medical Physics": "med-ph",
            "Optics": "optics",
            "Plasma Physics": "plasm-ph",
            "Popular Physics": "pop-ph",
            "Physics and Society": "soc-ph",
            "Space Physics": "space-ph",
        },
    ),
    "Condensed Matter": (
        "cond-mat",
        {
            "Disordered Systems and Neural Networks": "dis-nn",
            "Mesoscale and Nanoscale Physics": "mes-hall",
            "Materials Science": "mtrl-sci",
            "Other Condensed Matter": "other",
            "Other": "other",
            "Quantum Gases": "quant-gas",
            "Soft Condensed Matter": "soft",
            "Statistical Mechanics": "stat-mech",
            "Strongly Correlated Electrons": "str-el",
            "Superconductivity": "supr-con",
        },
    ),
    "Astrophysics": (
        "astro-ph",
        {
            "Cosmology and Nongalactic Astrophysics": "CO",
            "Cosmology and Extragalactic Astrophysics": "CO",
            "Earth and Planetary Astrophysics": "EP",
            "Astrophysics of Galaxies": "GA",
            "Galaxy Astrophysics": "GA",
            "High Energy Astrophysical Phenomena": "HE",
            "Instrumentation and Methods for Astrophysics": "IM",
            "Solar and Stellar Astrophysics": "SR",
        },
    ),
    "Nonlinear Sciences": (
        "nlin",
        {
            "Adaptation and Self-Organizing Systems": "AO",
            "Chaotic Dynamics": "CD",
            "Cellular Automata and Lattice Gases": "CG",
            "Pattern Formation and Solitons": "PS",
            "Exactly Solvable and Integrable Systems": "SI",
        },
    ),
    "Quantitative Biology": (
        "q-bio",
        {
            "Biomolecules": "BM",
            "Cell Behavior": "CB",
            "Genomics": "GN",
            "Molecular Networks": "MN",
            "Neurons and Cognition": "NC",
            "Other Quantitative Biology": "OT",
            "Other": "OT",
            "Populations and Evolution": "PE",
            "Quantitative Methods": "QM",
            "Subcellular Processes": "SC",
            "Tissues and Organs": "TO",
        },
    ),
    "Quantitative Finance": (
        "q-fin",
        {
            "Computational Finance": "CP",
            "Economics": "EC",
            "General Finance": "GN",
            "Mathematical Finance": "MF",
            "Portfolio Management": "PM",
            "Pricing of Securities": "PR",
            "Risk Management": "RM",
            "Statistical Finance": "ST",
            "Trading and Market Microstructure": "TR",
        },
    ),
    "Economics": ("econ", {"Econometrics": "EM", "General Economics": "GN", "Theoretical Economics": "TH"}),
    "Electrical Engineering and Systems Science": (
        "eess",
        {
            "Audio and Speech Processing": "AS",
            "Image and Video Processing": "IV",
            "Signal Processing": "SP",
            "Systems and Control": "SY",
        },
    ),
}

# OAI-PMH's own "nothing to return" answer, which is not a failure.
_EMPTY_RESULT_CODES = {"noRecordsMatch"}


@dataclass(slots=True)
class OaiPage:
    """One OAI-PMH response: its records, and the token that asks for the next page."""

    items: list[ParsedItem] = field(default_factory=list)
    resumption_token: str | None = None
    complete_list_size: int | None = None
    error_code: str | None = None
    error_message: str | None = None


def parse_oai(data: bytes) -> OaiPage:
    """Parse an OAI-PMH response in the ``arXiv`` or ``oai_dc`` metadata format."""
    root = parse_xml(data)
    if local_name(str(root.tag)) != "OAI-PMH":
        raise FormatError(
            f"not an OAI-PMH response: the root element is <{local_name(str(root.tag))}>, expected <OAI-PMH>"
        )
    ns = _O if str(root.tag).startswith(_O) else ""
    error = root.find(f"{ns}error")
    if error is not None:
        code = error.get("code") or "unknown"
        message = clean_whitespace(element_text(error))
        if code not in _EMPTY_RESULT_CODES:
            raise FormatError(f"the OAI-PMH server answered with error {code}: {message or 'no message'}")
        return OaiPage(error_code=code, error_message=message or None)

    page = OaiPage()
    for number, record in enumerate(root.iter(f"{ns}record"), start=1):
        position = f"record {number}"
        header = record.find(f"{ns}header")
        if header is not None and header.get("status") == "deleted":
            continue
        item = _parse_record(record, header, ns, position)
        page.items.append(item)

    token = root.find(f".//{ns}resumptionToken")
    if token is not None:
        page.resumption_token = (token.text or "").strip() or None
        size = token.get("completeListSize")
        page.complete_list_size = int(size) if size and size.strip().isdigit() else None
    return page


def _parse_record(
    record: etree._Element, header: etree._Element | None, ns: str, position: str
) -> ParsedItem:
    header_id = clean_whitespace(element_text(header.find(f"{ns}identifier"))) if header is not None else ""
    metadata = record.find(f"{ns}metadata")
    payload = (
        next((child for child in metadata if isinstance(child.tag, str)), None)
        if metadata is not None
        else None
    )
    if payload is None:
        return Rejected(position, f"record {header_id or '(no identifier)'} has no metadata")
    if payload.tag == f"{_X}arXiv":
        return _arxiv_record(payload, header_id, position)
    if payload.tag == f"{{{OAI_DC_NS}}}dc":
        return _dc_record(payload, header_id, position)
    found = local_name(str(payload.tag))
    return Rejected(
        position, f"unsupported metadata format <{found}>; harvest with metadataPrefix=arXiv or oai_dc"
    )


def _arxiv_record(meta: etree._Element, header_id: str, position: str) -> ParsedItem:
    raw_id = _text(meta, f"{_X}id") or header_id
    arxiv_id = parse_arxiv_id(raw_id) if raw_id else None
    if arxiv_id is None:
        return Rejected(
            position, f"record has no arXiv id (found {raw_id!r})" if raw_id else "record has no id"
        )
    title = clean_title(_text(meta, f"{_X}title"))
    if not title:
        return Rejected(position, f"record {arxiv_id.id} has no title")

    authors: list[str] = []
    for author in meta.iterfind(f"{_X}authors/{_X}author"):
        parts = (_text(author, f"{_X}{part}") for part in ("forenames", "keyname", "suffix"))
        name = latex_to_unicode(" ".join(part for part in parts if part))
        if name:
            authors.append(name)
    abstract = clean_abstract(element_text(meta.find(f"{_X}abstract")))
    comments = _text(meta, f"{_X}comments") or None
    return PaperRecord(
        source=Source.ARXIV_OAI,
        title=title,
        abstract=abstract,
        arxiv_id=arxiv_id.id,
        authors=authors,
        categories=_text(meta, f"{_X}categories").split(),
        published=parse_datetime(_text(meta, f"{_X}created")),
        updated=parse_datetime(_text(meta, f"{_X}updated")),
        comments=comments,
        journal_ref=_text(meta, f"{_X}journal-ref") or None,
        doi=_text(meta, f"{_X}doi") or None,
        license=_text(meta, f"{_X}license") or None,
        code_urls=code_repositories(abstract, comments),
        project_url=project_page(abstract, comments),
        position=position,
    )


def _dc_record(meta: etree._Element, header_id: str, position: str) -> ParsedItem:
    arxiv_id = None
    for identifier in meta.iterfind(f"{_DC}identifier"):
        text = clean_whitespace(element_text(identifier))
        if "arxiv.org/abs/" in text:
            arxiv_id = parse_arxiv_id(text)
            if arxiv_id:
                break
    if arxiv_id is None and header_id:
        arxiv_id = parse_arxiv_id(header_id)
    if arxiv_id is None:
        return Rejected(position, "record has no arxiv.org/abs identifier")
    title = clean_title(_text(meta, f"{_DC}title"))
    if not title:
        return Rejected(position, f"record {arxiv_id.id} has no title")

    abstract = ""
    comments: str | None = None
    for description in meta.iterfind(f"{_DC}description"):
        text = element_text(description)
        stripped = text.strip()
        if stripped.startswith("Comment:"):
            comments = clean_whitespace(stripped.removeprefix("Comment:")) or None
        elif not abstract:
            abstract = clean_abstract(text)
    dates = [clean_whitespace(element_text(date)) for date in meta.iterfind(f"{_DC}date")]
    dates = [value for value in dates if value]
    return PaperRecord(
        source=Source.ARXIV_OAI,
        title=title,
        abstract=abstract,
        arxiv_id=arxiv_id.id,
        authors=[_dc_creator(element_text(creator)) for creator in meta.iterfind(f"{_DC}creator")],
        categories=subjects_to_categories(
            [element_text(subject) for subject in meta.iterfind(f"{_DC}subject")]
        ),
        published=parse_datetime(dates[0]) if dates else None,
        # One date means one version; the arXiv format leaves ``updated`` out in that case too.
        updated=parse_datetime(dates[-1]) if len(dates) > 1 else None,
        comments=comments,
        code_urls=code_repositories(abstract, comments),
        project_url=project_page(abstract, comments),
        position=position,
    )


def subjects_to_categories(subjects: list[str]) -> list[str]:
    """Map oai_dc subject names to arXiv category codes, keeping order; [] if the first is unknown."""
    categories: dict[str, None] = {}
    for index, subject in enumerate(subjects):
        code = subject_to_category(subject)
        if code is None:
            if index == 0:
                return []
            continue
        categories.setdefault(code, None)
    return list(categories)


def subject_to_category(subject: str) -> str | None:
    """``"Computer Science - Learning"`` -> ``"cs.LG"``; ``None`` for names arXiv does not use."""
    subject = clean_whitespace(subject)
    if subject in _WHOLE_ARCHIVES:
        return _WHOLE_ARCHIVES[subject]
    archive, separator, name = subject.partition(" - ")
    if not separator or archive not in _SUBJECT_CLASSES:
        return None
    code, classes = _SUBJECT_CLASSES[archive]
    subject_class = classes.get(name)
    return f"{code}.{subject_class}" if subject_class else None


def _dc_creator(creator: str) -> str:
    """``"Ayache, Stéphane"`` -> ``"Stéphane Ayache"``; names without a comma are kept as they are."""
    last, separator, first = clean_whitespace(creator).partition(",")
    name = f"{first.strip()} {last.strip()}" if separator and first.strip() else last
    return latex_to_unicode(name)


def _text(parent: etree._Element, tag: str) -> str:
    return clean_whitespace(element_text(parent.find(tag)))

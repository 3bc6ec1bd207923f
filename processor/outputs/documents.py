"""December recognition: results -> Word drafts (docxtpl) and PDFs (SPEC §6, DOCUMENT_FORMAT.md).

Per title with at least one recognised entity: a Quyết định with its annex list and a Giấy khen
file (one landscape page per entity); per unit: a Tờ trình and a Biên bản họp bình xét. The
templates are editable .docx files in ``input_templates/`` (built by `outputs.word_templates`);
what fills them comes from `outputs.document_context`. Every value is escaped on the way in
(docxtpl autoescape): without it an `&` in a name silently breaks the document.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import tempfile
import zipfile
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import jinja2
from docx.opc.exceptions import PackageNotFoundError
from docxtpl import DocxTemplate
from lxml import etree
from lxml.etree import XMLSyntaxError

from processor.domain.catalogue import DEFAULT_CATALOGUE, Catalogue
from processor.domain.errors import TemplateError
from processor.outputs import document_context as ctx
from processor.outputs.files import atomic_path
from processor.scoring.score import Results

DEFAULT_TEMPLATES = DEFAULT_CATALOGUE.parent
_W_T = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}t"
_XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"
# A text (its characters never include '<') holding what docxtpl's resolve_listing rewrites.
_LISTING_TEXT = re.compile(r"<w:t(?: [^>]*)?>[^<]*[\t\a\n\f]")
_TC_TAG = re.compile(r"\{%-?\s*tc\s")


class _Template(DocxTemplate):
    """docxtpl whose rendered body moves into the document in linear time.

    docxtpl marks every rendered run `xml:space="preserve"`. lxml, moving the rendered body
    into the document, looks each such attribute's namespace up in a cache that grows by one per
    attribute: quadratic (10,000 certificates: ~10 s, 20,000: ~30 s and climbing). The mark is
    only needed where a text has runs of spaces or spaces at its ends, so drop it elsewhere.
    """

    def map_tree(self, tree: Any) -> None:
        for text in tree.iter(_W_T):
            value = text.text or ""
            if value == value.strip() and "  " not in value:
                text.attrib.pop(_XML_SPACE, None)
        super().map_tree(tree)

    # docxtpl walks every paragraph, run and text of a rendered part with regular expressions
    # (resolve_listing), and every table cell (fix_tables), whatever the document holds: about
    # two thirds of rendering a district's certificates. Both are skipped when they would do
    # nothing: no tab, newline, bell or form feed inside a text, no {%tc %} tag in the template.

    def patch_xml(self, src_xml: str) -> str:
        if _TC_TAG.search(src_xml):
            self._uses_tc = True
        return super().patch_xml(src_xml)

    def resolve_listing(self, xml: str) -> str:
        if _LISTING_TEXT.search(xml) is None:
            return xml
        return super().resolve_listing(xml)

    def fix_tables(self, xml: str) -> Any:
        if getattr(self, "_uses_tc", False):
            return super().fix_tables(xml)
        return etree.fromstring(xml, parser=etree.XMLParser(recover=True))


class _Renderer:
    """Renders the templates of one folder into .docx files."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.env = jinja2.Environment(autoescape=True)

    def _load(self, name: str) -> tuple[_Template, Path]:
        path = self.folder / f"{name}.docx"
        if not path.is_file():
            raise TemplateError(
                f"Không tìm thấy mẫu Word {path}. Tạo lại bộ mẫu bằng "
                f"processor.outputs.word_templates.build_templates(Path('{self.folder}'))."
            )
        return _Template(path), path

    def check(self, name: str, context: dict[str, Any]) -> None:
        """Refuse a template using a tag the data does not provide (it would print nothing)."""
        template, path = self._load(name)
        with _template_errors(path):
            missing = template.get_undeclared_template_variables(self.env, context)
        if missing:
            tags = ", ".join("{{ " + tag + " }}" for tag in sorted(missing))
            raise TemplateError(
                f"Mẫu {path.name} có thẻ không có dữ liệu: {tags}. Sửa lại mẫu; "
                f"các thẻ dùng được: {', '.join(sorted(context))}."
            )

    def render(self, name: str, context: dict[str, Any], out: Path) -> Path:
        template, path = self._load(name)
        with _template_errors(path):
            template.render(context, self.env, autoescape=True)
            with atomic_path(out) as tmp:
                template.save(tmp)
        return out


@contextlib.contextmanager
def _template_errors(path: Path) -> Iterator[None]:
    """A broken template or a render failure becomes one Vietnamese TemplateError."""
    try:
        yield
    except jinja2.TemplateError as exc:
        near = [line.strip() for line in getattr(exc, "docx_context", []) if line.strip()]
        raise TemplateError(
            f"Lỗi khi điền mẫu {path.name}: {exc}"
            + (f" (gần đoạn: {' | '.join(near)})" if near else "")
        ) from exc
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, XMLSyntaxError) as exc:
        raise TemplateError(f"Mẫu {path.name} không phải tệp Word (.docx) đọc được: {exc}") from exc


def _safe(code: str) -> str:
    """A unit code as a file-name part."""
    return re.sub(r"[^\w-]", "_", str(code))


def write_decisions(
    catalogue: Catalogue,
    results: Any,
    year: int,
    out_dir: Path,
    *,
    templates_dir: Path | None = None,
    workers: int | None = None,
) -> list[Path]:
    """Write the December drafts into ``out_dir`` (each file atomically); return their paths.

    ``results`` has DataFrames ``.citizens``, ``.households`` and ``.units`` (one row per
    assessed entity, ``outcome == "Đạt"`` for the recognised). Files:
    ``quyet_dinh_<CD|GD|TDP>_<year>.docx`` per title that someone earned (no decision for
    nobody); Giấy khen, one landscape page each, in ``giay_khen_<CD|GD>_<unit>_<year>.docx``
    (one file per unit) and ``giay_khen_TDP_<year>.docx``; ``to_trinh_<unit>_<year>.docx`` and
    ``bien_ban_<unit>_<year>.docx`` per tổ dân phố and per cơ quan with a recognised member.
    Every template is checked before the first file is written: TemplateError when one is
    missing, unreadable or uses a tag with no data. Files are rendered in ``workers`` processes
    (default: the cores): a district's 1,600 files are CPU-bound work inside docxtpl.
    """
    out_dir = Path(out_dir)
    renderer = _Renderer(Path(templates_dir) if templates_dir else DEFAULT_TEMPLATES)
    ward = ctx.ward_context(catalogue, year)
    jobs: list[tuple[str, dict[str, Any], Path]] = []
    for title in (catalogue.citizen_title, catalogue.household_title, catalogue.unit_title):
        rows = ctx.recognised_rows(catalogue, results, title)
        if rows:
            decision = ctx.decision_context(ward, title, rows)
            jobs.append(("quyet_dinh", decision, out_dir / f"quyet_dinh_{title.code}_{year}.docx"))
            for unit, certificates in ctx.certificate_contexts(decision):
                part = f"_{_safe(unit)}" if unit else ""
                out = out_dir / f"giay_khen_{title.code}{part}_{year}.docx"
                jobs.append(("giay_khen", certificates, out))
    results_of = Results(results.citizens, results.households, results.units).by_unit()
    for code in ctx.units_with_documents(catalogue, results):
        mine = results_of(code)
        for name, proposal in (("to_trinh", True), ("bien_ban", False)):
            context = ctx.unit_context(ward, catalogue, mine, code, proposal=proposal)
            jobs.append((name, context, out_dir / f"{name}_{_safe(code)}_{year}.docx"))
    first = {}
    for name, context, _ in jobs:
        first.setdefault(name, context)
    for name, context in first.items():
        renderer.check(name, context)
    workers = workers if workers is not None else (os.cpu_count() or 1)
    if workers <= 1 or len(jobs) < _PARALLEL_FROM:
        return [renderer.render(name, context, out) for name, context, out in jobs]
    folder = renderer.folder
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(_render_one, folder, *job) for job in jobs]
        return [future.result() for future in futures]


# Below this many files, starting worker processes costs more than it saves.
_PARALLEL_FROM = 12
_RENDERERS: dict[Path, _Renderer] = {}


def _render_one(folder: Path, name: str, context: dict[str, Any], out: Path) -> Path:
    renderer = _RENDERERS.setdefault(folder, _Renderer(folder))
    return renderer.render(name, context, out)


def convert_to_pdf(paths: list[Path], out_dir: Path, *, timeout: float | None = None) -> list[str]:
    """Convert .docx files to PDF in one LibreOffice call; return warnings (Vietnamese).

    One call for the whole batch (SPEC §9: 20 files take ~2.5 s together, ~17 s one by one);
    the files are passed one by one (soffice refuses a folder); a throw-away profile so an open
    LibreOffice or a stale lock cannot block the run. A PDF appears in ``out_dir`` only whole.
    Without LibreOffice nothing is converted and the warning says what to install. The
    default ``timeout`` grows with the size of the files; on timeout the finished PDFs are kept.
    """
    paths = [Path(p) for p in paths]
    if not paths:
        return []
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        return [
            "Không tìm thấy LibreOffice (lệnh soffice) nên chưa tạo bản PDF. Cài LibreOffice "
            "và gói phông fonts-liberation2 rồi chạy lại với --pdf."
        ]
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    # Small files first, so that a timeout costs only the largest ones.
    paths.sort(key=lambda p: p.stat().st_size if p.exists() else 0)
    megabytes = sum(p.stat().st_size for p in paths if p.exists()) / 1e6
    timeout = timeout or round(120 + 2 * len(paths) + 300 * megabytes)
    with (
        tempfile.TemporaryDirectory(prefix="kieumau-lo-") as profile,
        tempfile.TemporaryDirectory(prefix=".pdf.", dir=out_dir) as staging,
    ):
        command = [
            soffice,
            f"-env:UserInstallation={Path(profile).as_uri()}",
            "--headless",
            "--norestore",
            "--convert-to",
            "pdf",
            "--outdir",
            staging,
            *(str(p.resolve()) for p in paths),
        ]
        try:
            said, timed_out = _run_soffice(command, timeout)
        except OSError as exc:
            return [f"Không chạy được LibreOffice ({soffice}): {exc}. Chưa tạo bản PDF."]
        done = [p for p in paths if (Path(staging) / f"{p.stem}.pdf").is_file()]
        if timed_out and done:
            done.pop()  # the file LibreOffice was writing when stopped may be cut short
        for path in done:
            pdf = Path(staging) / f"{path.stem}.pdf"
            os.replace(pdf, out_dir / pdf.name)
    missing = [p.name for p in paths if p not in done]
    if timed_out:
        return [
            f"LibreOffice chưa xong sau {timeout} giây: đã tạo {len(done)} bản PDF, còn "
            f"{len(missing)} tệp chưa chuyển ({', '.join(missing)})."
        ]
    reason = said[-1] if said else "LibreOffice không nói lý do"
    return [f"Không chuyển được {name} sang PDF: {reason}." for name in missing]


def _run_soffice(command: list[str], timeout: float) -> tuple[list[str], bool]:
    """Run soffice; on timeout stop it and its soffice.bin child. -> (output lines, timed out)."""
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, so the whole of it can be stopped
    )
    try:
        out, err = process.communicate(timeout=timeout)
        return (err or out or "").strip().splitlines(), False
    except subprocess.TimeoutExpired:
        if hasattr(os, "killpg"):
            os.killpg(process.pid, signal.SIGKILL)
        else:  # Windows: soffice.exe starts soffice.bin; /T ends the tree
            subprocess.run(["taskkill", "/F", "/T", "/PID", str(process.pid)], check=False)
        process.communicate()
        return [], True

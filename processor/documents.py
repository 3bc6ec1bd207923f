"""December recognition: results -> Word drafts (docxtpl) and PDFs (SPEC §6, DOCUMENT_FORMAT.md).

Per title with at least one recognised entity: a Quyết định with its annex list and a Giấy khen
file (one landscape page per entity); per unit: a Tờ trình and a Biên bản họp bình xét. The
templates are editable .docx files in ``input_templates/`` (built by `processor.word_templates`);
what fills them comes from `processor.document_context`. Every value is escaped on the way in
(docxtpl autoescape): without it an `&` in a name silently breaks the document.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import jinja2
from docx.opc.exceptions import PackageNotFoundError
from docxtpl import DocxTemplate
from lxml.etree import XMLSyntaxError

from processor import document_context as ctx
from processor.catalogue import DEFAULT_CATALOGUE, Catalogue
from processor.errors import TemplateError
from processor.output_files import atomic_path

DEFAULT_TEMPLATES = DEFAULT_CATALOGUE.parent


class _Renderer:
    """Renders the templates of one folder; checks each template's tags once per batch."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.env = jinja2.Environment(autoescape=True)
        self.checked: set[str] = set()

    def render(self, name: str, context: dict[str, Any], out: Path) -> Path:
        path = self.folder / f"{name}.docx"
        if not path.is_file():
            raise TemplateError(
                f"Không tìm thấy mẫu Word {path}. Tạo lại bộ mẫu bằng "
                f"processor.word_templates.build_templates(Path('{self.folder}')).")
        template = DocxTemplate(path)
        try:
            if name not in self.checked:
                self._check(template, path, context)
                self.checked.add(name)
            template.render(context, self.env, autoescape=True)
            with atomic_path(out) as tmp:
                template.save(tmp)
        except jinja2.TemplateError as exc:
            near = [line.strip() for line in getattr(exc, "docx_context", []) if line.strip()]
            raise TemplateError(f"Lỗi khi điền mẫu {path.name}: {exc}"
                                + (f" (gần đoạn: {' | '.join(near)})" if near else "")) from exc
        except (PackageNotFoundError, zipfile.BadZipFile, KeyError, XMLSyntaxError) as exc:
            raise TemplateError(
                f"Mẫu {path.name} không phải tệp Word (.docx) đọc được: {exc}") from exc
        return out

    def _check(self, template: DocxTemplate, path: Path, context: dict[str, Any]) -> None:
        """A tag the data does not provide would print as nothing: refuse before the batch."""
        missing = template.get_undeclared_template_variables(self.env, context)
        if missing:
            tags = ", ".join("{{ " + tag + " }}" for tag in sorted(missing))
            raise TemplateError(f"Mẫu {path.name} có thẻ không có dữ liệu: {tags}. Sửa lại mẫu; "
                                f"các thẻ dùng được: {', '.join(sorted(context))}.")


def write_decisions(catalogue: Catalogue, results: Any, year: int, out_dir: Path, *,
                    templates_dir: Path | None = None) -> list[Path]:
    """Write the December drafts into ``out_dir`` (each file atomically); return their paths.

    ``results`` has DataFrames ``.citizens``, ``.households`` and ``.units`` (one row per
    assessed entity, ``outcome == "Đạt"`` for the recognised). Files:
    ``quyet_dinh_<CD|GD|TDP>_<year>.docx`` and ``giay_khen_<title>_<year>.docx`` per title that
    someone earned (no decision for nobody); ``to_trinh_<unit>_<year>.docx`` and
    ``bien_ban_<unit>_<year>.docx`` per tổ dân phố and per cơ quan with a recognised member.
    Raises TemplateError when a template is missing, unreadable or uses a tag with no data.
    """
    out_dir = Path(out_dir)
    renderer = _Renderer(Path(templates_dir) if templates_dir else DEFAULT_TEMPLATES)
    ward = ctx.ward_context(catalogue, year)
    written: list[Path] = []
    for title in (catalogue.citizen_title, catalogue.household_title, catalogue.unit_title):
        rows = ctx.recognised_rows(catalogue, results, title)
        if not rows:
            continue
        decision = ctx.decision_context(ward, title, rows)
        written.append(renderer.render(
            "quyet_dinh", decision, out_dir / f"quyet_dinh_{title.code}_{year}.docx"))
        written.append(renderer.render(
            "giay_khen", ctx.certificate_context(decision),
            out_dir / f"giay_khen_{title.code}_{year}.docx"))
    for code in ctx.units_with_documents(catalogue, results):
        safe = re.sub(r"[^\w-]", "_", code)
        for name, proposal in (("to_trinh", True), ("bien_ban", False)):
            context = ctx.unit_context(ward, catalogue, results, code, proposal=proposal)
            written.append(renderer.render(name, context, out_dir / f"{name}_{safe}_{year}.docx"))
    return written


def convert_to_pdf(paths: list[Path], out_dir: Path) -> list[str]:
    """Convert .docx files to PDF in one LibreOffice call; return warnings (Vietnamese).

    One call for the whole batch (SPEC §9: 20 files take ~2.5 s together, ~17 s one by one);
    the files are passed one by one (soffice refuses a folder); a throw-away profile so an open
    LibreOffice or a stale lock cannot block the run. A PDF appears in ``out_dir`` only whole.
    Without LibreOffice nothing is converted and the warning says what to install.
    """
    paths = [Path(p) for p in paths]
    if not paths:
        return []
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        return ["Không tìm thấy LibreOffice (lệnh soffice) nên chưa tạo bản PDF. Cài LibreOffice "
                "và gói phông fonts-liberation2 rồi chạy lại với --pdf."]
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    timeout = 120 + 10 * len(paths)
    with tempfile.TemporaryDirectory(prefix="kieumau-lo-") as profile, \
            tempfile.TemporaryDirectory(prefix=".pdf.", dir=out_dir) as staging:
        command = [soffice, f"-env:UserInstallation={Path(profile).as_uri()}", "--headless",
                   "--norestore", "--convert-to", "pdf", "--outdir", staging,
                   *(str(p.resolve()) for p in paths)]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                                  check=False)
        except subprocess.TimeoutExpired:
            return [f"LibreOffice chưa xong sau {timeout} giây nên chưa tạo bản PDF."]
        except OSError as exc:
            return [f"Không chạy được LibreOffice ({soffice}): {exc}. Chưa tạo bản PDF."]
        warnings = []
        for path in paths:
            pdf = Path(staging) / f"{path.stem}.pdf"
            if pdf.is_file():
                os.replace(pdf, out_dir / pdf.name)
            else:
                said = (done.stderr or done.stdout or "").strip().splitlines()
                warnings.append(f"Không chuyển được {path.name} sang PDF: "
                                f"{said[-1] if said else 'LibreOffice không nói lý do'}.")
    return warnings

"""December recognition: results -> Word drafts (docxtpl) and PDFs (SPEC §6, DOCUMENT_FORMAT.md).

Per title the town recognises (sheet Danh hiệu, Cấp công nhận = Xã), with at least one
recognised entity: a Quyết định with its annex list and the certificates it grants (one landscape
page per entity). Per title the district recognises: the town's Tờ trình to the district's
chairman with the list. Per unit: a Tờ trình and a Biên bản họp bình xét of its Ban Vận động.
The templates are editable .docx files in ``input_templates/`` (built by
`outputs.word_templates`); what fills them comes from `outputs.document_context`.

Templates render in Jinja's sandbox with no globals: a tag reaches only the documented
variables, and one reaching for anything else (``''.__class__``…) is refused before any file
is written. Every value is escaped on the way in (autoescape): without it an `&` in a name
silently breaks the document.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd
from docx import Document
from docx.opc.exceptions import PackageNotFoundError
from docx.oxml.ns import qn
from docx.shared import Mm
from docxtpl import DocxTemplate, InlineImage
from jinja2.sandbox import SandboxedEnvironment
from lxml.etree import XMLSyntaxError

from processor.domain import schema as S
from processor.domain.catalogue import DEFAULT_CATALOGUE, REGISTER_CHOICES, Catalogue, Title
from processor.domain.errors import KieumauError, TemplateError
from processor.domain.vietnamese import fold
from processor.outputs import document_context as ctx
from processor.outputs import docx_lists
from processor.outputs.workers import worker_pool
from processor.scoring.score import Results

DEFAULT_TEMPLATES = DEFAULT_CATALOGUE.parent
_TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}")
_BLOCK_PREFIX = re.compile(r"^\{%-?\s*(?:p|tr|tc|r)\s")


class Sandbox(SandboxedEnvironment):
    """Jinja's sandbox with autoescape and no globals (range, cycler, namespace, lipsum…):
    a template sees the documented variables and nothing else.

    It compiles a template's source once: docxtpl hands the same source over for every file of
    a template, and compiling was a third of rendering a small paper.
    """

    def __init__(self) -> None:
        super().__init__(autoescape=True)
        self.globals.clear()
        self._compiled: dict[str, jinja2.Template] = {}

    def from_string(self, source, globals=None, template_class=None):  # type: ignore[override]
        if globals or template_class or not isinstance(source, str):
            return super().from_string(source, globals, template_class)
        if source not in self._compiled:
            self._compiled[source] = super().from_string(source)
        return self._compiled[source]


@dataclass(frozen=True)
class Picture:
    """A PNG for a template's ``{{ tag }}`` (alone in its paragraph), ``width`` mm wide: the
    renderer makes it a docxtpl InlineImage, which needs the template it goes into."""

    png: bytes
    width: float

    def __str__(self) -> str:  # how the renderer's cache key sees it
        return f"Picture({hashlib.sha256(self.png).hexdigest()}, {self.width})"


def _pictures(template: DocxTemplate, context: dict[str, Any]) -> dict[str, Any]:
    return {
        key: InlineImage(template, BytesIO(value.png), width=Mm(value.width))
        if isinstance(value, Picture)
        else value
        for key, value in context.items()
    }


def _paragraph_texts(path: Path) -> list[str]:
    """The text of every paragraph of a template, table cells, headers and footers included."""
    document = Document(str(path))
    parts = [document.element.body]
    for section in document.sections:
        for part in (section.header, section.footer, section.first_page_header):
            if not part.is_linked_to_previous:
                parts.append(part._element)
    return [
        "".join(t.text or "" for t in p.iter(qn("w:t")))
        for part in parts
        for p in part.iter(qn("w:p"))
    ]


def _unsafe(env: jinja2.Environment, tag: str) -> bool:
    """Whether a tag reaches past the documented variables: a name or an attribute starting
    with `_`, a string naming a dunder, or the `attr` filter (how sandbox escapes begin)."""
    source = _BLOCK_PREFIX.sub("{% ", tag)
    tokens = list(env.lex(source))
    for i, (_, kind, value) in enumerate(tokens):
        if kind == "name" and (value.startswith("_") or value == "attr"):
            return True
        if kind == "string" and "__" in value:
            return True
        after = str(tokens[i + 1][2]) if i + 1 < len(tokens) else ""
        if kind == "operator" and value == "." and after.startswith("_"):
            return True
    return False


def _syntax_problem(env: jinja2.Environment, paragraph: str) -> str | None:
    """What is wrong with the tags of one paragraph, in Vietnamese; None when they are fine."""
    for opener, closer in (("{{", "}}"), ("{%", "%}")):
        position = 0
        while (start := paragraph.find(opener, position)) >= 0:
            end = paragraph.find(closer, start + 2)
            nested = paragraph.find(opener, start + 2)
            if end < 0 or 0 <= nested < end:
                return f"thẻ “{paragraph[start : start + 40]}” thiếu dấu đóng {closer}"
            position = end + 2
    for tag in _TAG.findall(paragraph):
        source = _BLOCK_PREFIX.sub("{% ", tag)
        try:
            tokens = list(env.lex(source))
            if tag.startswith("{{"):
                env.parse(source)
        except jinja2.TemplateSyntaxError:
            return f"thẻ “{tag}” viết sai cú pháp"
        if tag.startswith("{%") and not any(kind == "name" for _, kind, _ in tokens):
            return f"thẻ “{tag}” không có lệnh"
    return None


class _Renderer:
    """Renders the templates of one folder into .docx files, in the sandbox."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        # Its own sandbox: the templates a renderer compiles are kept for its files only.
        self.env = Sandbox()
        # The last marked render: a title's certificates differ only in their rows.
        self._last: tuple[str, bytes] = ("", b"")

    def _path(self, name: str) -> Path:
        path = self.folder / f"{name}.docx"
        if not path.is_file():
            raise TemplateError(
                f"Không tìm thấy mẫu Word {path}. Tạo lại bộ mẫu bằng "
                f"processor.outputs.word_templates.build_templates(Path('{self.folder}'))."
            )
        return path

    def check(self, name: str, context: dict[str, Any]) -> None:
        """Refuse a template that is broken, reaches past its variables, or uses a tag the
        data does not provide (it would print nothing), naming the paragraph and the tag."""
        path = self._path(name)
        with _template_errors(path):
            paragraphs = _paragraph_texts(path)
        for paragraph in paragraphs:
            problem = _syntax_problem(self.env, paragraph)
            if problem:
                raise TemplateError(
                    f"Mẫu {path.name} có {problem}, ở đoạn “{paragraph.strip()[:120]}”. Mỗi thẻ "
                    "phải có dạng {{ tên }} hoặc {% lệnh %}; sửa lại mẫu rồi chạy lại."
                )
            for tag in _TAG.findall(paragraph):
                if _unsafe(self.env, tag):
                    raise TemplateError(
                        f"Mẫu {path.name} có thẻ không được phép: {tag} (ở đoạn "
                        f"“{paragraph.strip()[:120]}”). Thẻ chỉ được dùng các biến của văn "
                        f"bản: {', '.join(sorted(context))}."
                    )
        with _template_errors(path):
            missing = DocxTemplate(path).get_undeclared_template_variables(self.env, context)
        missing -= {"loop"}
        if missing:
            tags = ", ".join("{{ " + tag + " }}" for tag in sorted(missing))
            raise TemplateError(
                f"Mẫu {path.name} có thẻ không có dữ liệu: {tags}. Sửa lại mẫu; "
                f"các thẻ dùng được: {', '.join(sorted(context))}."
            )

    def render(self, name: str, context: dict[str, Any], out: Path) -> Path:
        """Render ``context`` into ``out``: docxtpl renders the template with each long list
        cut to one marked row, then `docx_lists.expand` writes the rows (see its docstring)."""
        path = self._path(name)
        small, lists = docx_lists.marked(context)
        key = name + json.dumps(small, sort_keys=True, default=str, ensure_ascii=False)
        if self._last[0] != key:
            template = DocxTemplate(path)
            buffer = BytesIO()
            with _template_errors(path):
                template.render(_pictures(template, small), self.env, autoescape=True)
                template.save(buffer)
            self._last = (key, buffer.getvalue())
        # Straight into place: the set is built in a folder of its own (see staged_folder).
        docx_lists.expand(self._last[1], lists, out)
        return out


# Jinja's messages for what a clerk's edit most often breaks, in Vietnamese.
_JINJA_MESSAGES = (
    ("unexpected end of template", "thiếu thẻ đóng ({% endif %} hoặc {% endfor %})"),
    ("unknown tag", "có lệnh không tồn tại"),
    ("unexpected", "có ký tự không đúng chỗ"),
    ("expected token", "viết sai cú pháp"),
    ("is unsafe", "dùng thuộc tính không được phép"),
    ("undefined", "dùng biến không có dữ liệu"),
)


@contextlib.contextmanager
def _template_errors(path: Path) -> Iterator[None]:
    """A broken template or a render failure becomes one Vietnamese TemplateError."""
    try:
        yield
    except jinja2.TemplateError as exc:
        text = str(exc).lower()
        what = next((vi for en, vi in _JINJA_MESSAGES if en in text), "không điền được")
        lines = [line.strip() for line in getattr(exc, "docx_context", []) or []]
        lineno = getattr(exc, "lineno", None)
        near = lines[min(3, (lineno or 1) - 1)] if lines else ""
        raise TemplateError(
            f"Mẫu {path.name} {what}" + (f", ở đoạn “{near[:120]}”" if near else "") + ". "
            "Sửa lại mẫu rồi chạy lại."
        ) from exc
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, XMLSyntaxError) as exc:
        raise TemplateError(
            f"Mẫu {path.name} không phải tệp Word (.docx) đọc được ({type(exc).__name__}). "
            "Mở lại bằng Word và lưu dạng .docx, hoặc tạo lại bộ mẫu."
        ) from exc


def _safe(code: str) -> str:
    """A unit code as a file-name part."""
    return re.sub(r"[^\w-]", "_", str(code))


Job = tuple[str, dict[str, Any], str]  # template, context, file name


def _instrument_file(instrument: str) -> str:
    """The certificate's file name says what is printed in it: ``giay_cong_nhan`` or ``giay_khen``.

    The template keeps one name (``giay_khen.docx``) whatever the title's instrument, so a ward's
    edited template is not lost when the Ban Chỉ đạo changes the setting.
    """
    return _safe("_".join(fold(instrument).split()))


def _title_files(
    ward: dict[str, Any],
    catalogue: Catalogue,
    title: Title,
    year: int,
    first: int,
    genders: dict[tuple[str, str], str] | None,
    recognised: pd.DataFrame,
) -> Iterator[Job]:
    """A title's papers from its ``recognised`` entities: the town's Tờ trình to the district,
    or the decision and its certificates, their register numbers from ``first``."""
    rows = ctx.annex_rows(catalogue, title, recognised, genders)
    if title.by_district:
        context = ctx.district_context(ward, title, rows)
        yield ("to_trinh_huyen", context, f"to_trinh_huyen_{title.code}_{year}.docx")
        return
    decision = ctx.title_context(ward, title, rows)
    yield ("quyet_dinh", decision, f"quyet_dinh_{title.code}_{year}.docx")
    for unit, certificates in ctx.certificate_contexts(decision, first):
        part = f"_{_safe(unit)}" if unit else ""
        name = f"{_instrument_file(title.certificate)}_{title.code}{part}_{year}.docx"
        yield ("giay_khen", certificates, name)


def _unit_files(
    ward: dict[str, Any], catalogue: Catalogue, year: int, units: list[tuple[str, Results]]
) -> Iterator[Job]:
    """Each unit's Tờ trình and Biên bản, from that unit's results."""
    for code, mine in units:
        for name, proposal in (("to_trinh", True), ("bien_ban", False)):
            context = ctx.unit_context(ward, catalogue, mine, code, proposal=proposal)
            yield (name, context, f"{name}_{_safe(code)}_{year}.docx")


def _given(jobs: list[Job]) -> Iterator[Job]:
    yield from jobs


@dataclass(frozen=True)
class Task:
    """Papers made and rendered together, where the task runs (a worker process): each
    paper's context is made beside its render and dropped after it, so that no process holds
    a district's whole set of contexts (they were a gigabyte).

    ``make(*args, items)`` yields the jobs; ``items`` (a title's recognised entities, units,
    ready jobs) cut to one gives contexts with the same tags, which the templates are checked
    against."""

    make: Callable[..., Iterator[Job]]
    args: tuple
    items: list | pd.DataFrame

    def jobs(self) -> Iterator[Job]:
        return self.make(*self.args, self.items)

    def sample(self) -> Iterator[Job]:
        return self.make(*self.args, self.items[:1])


_UNITS_A_TASK = 8  # the catalogue goes to a worker once for them


def _title_tasks(catalogue: Catalogue, results: Any, year: int) -> list[Task]:
    """Per title with someone recognised: its decision and certificates (town), or the Tờ
    trình (district). Register numbers run on across titles unless each title has its own.
    The annex rows are made in the task: a district's were seconds of this process's time
    before any worker had work, and hundreds of megabytes."""
    ward = ctx.ward_context(catalogue, year)
    shared = fold(catalogue.setting("so_vao_so", REGISTER_CHOICES[0])) == fold(REGISTER_CHOICES[0])
    register = 1
    tasks: list[Task] = []
    for title in (catalogue.citizen_title, catalogue.household_title, catalogue.unit_title):
        recognised = ctx.recognised(results, title)
        if recognised.empty:
            continue
        heads = ctx.genders(results) if title.level == S.LEVEL_HOUSEHOLD else None
        first = register if shared else 1
        tasks.append(Task(_title_files, (ward, catalogue, title, year, first, heads), recognised))
        if not title.by_district:
            register = first + len(recognised)  # an annex has a row per entity
    return tasks


def _unit_tasks(catalogue: Catalogue, results: Any, year: int, codes: list[str]) -> Iterator[Task]:
    """The papers of units ``codes``, a few units a task, each unit's results cut out as its
    task is made (cut all at once they were a second copy of the results)."""
    ward = ctx.ward_context(catalogue, year)
    results_of = Results(results.citizens, results.households, results.units).by_unit()
    for i in range(0, len(codes), _UNITS_A_TASK):
        units = [(code, results_of(code)) for code in codes[i : i + _UNITS_A_TASK]]
        yield Task(_unit_files, (ward, catalogue, year), units)


def render_all(
    jobs: list[Job], out_dir: Path, templates: Path, workers: int | None = None
) -> list[Path]:
    """Check each template once against its first context, then render every job into
    ``out_dir``, in ``workers`` processes (default: the cores when there are many jobs)."""
    size = max(1, len(jobs) // (4 * (os.cpu_count() or 1)))
    tasks = [Task(_given, (), jobs[i : i + size]) for i in range(0, len(jobs), size)]
    if workers is None:
        workers = (os.cpu_count() or 1) if len(jobs) >= _PARALLEL_FROM else 1
    return render_tasks(tasks, [], out_dir, templates, workers)


def render_tasks(
    checked: list[Task],
    rest: Iterable[Task],
    out_dir: Path,
    templates: Path,
    workers: int | None = 1,
    pool: ProcessPoolExecutor | None = None,
) -> list[Path]:
    """Check each template once against the first sample context using it in ``checked`` (a
    task of each kind), then render the jobs of ``checked`` and ``rest`` into ``out_dir``: in
    this process, in ``pool`` (of ``workers`` processes), or in a new pool of ``workers``.
    ``checked`` is emptied as its tasks are handed over."""
    checker = _Renderer(templates)
    first: dict[str, dict[str, Any]] = {}
    for task in checked:
        for name, context, _ in task.sample():
            first.setdefault(name, context)
    for name, context in first.items():
        checker.check(name, context)
    tasks = itertools.chain(_handed_over(checked), rest)
    workers = workers or os.cpu_count() or 1
    if pool is None and workers <= 1:
        return [path for task in tasks for path in _render_task(templates, out_dir, task)]
    owned = worker_pool(workers) if pool is None else contextlib.nullcontext(pool)
    with owned as running:
        return _in_pool(running, tasks, out_dir, templates, 4 * workers)


def _handed_over(tasks: list[Task]) -> Iterator[Task]:
    """The tasks in order, each taken out of ``tasks`` as it goes: a district's decision rows
    are not kept here after its task is done."""
    tasks.reverse()
    while tasks:
        yield tasks.pop()


def _in_pool(
    pool: ProcessPoolExecutor, tasks: Iterable[Task], out_dir: Path, templates: Path, window: int
) -> list[Path]:
    """The tasks rendered in ``pool``, at most ``window`` handed over and not done: a task
    waiting holds its results, so they are not all cut out at once. Paths in the tasks'
    order."""
    done: dict[int, list[Path]] = {}
    pending: dict[Future, int] = {}
    for number, task in enumerate(tasks):
        while len(pending) >= window:
            _collect(pending, done)
        pending[pool.submit(_render_task, templates, out_dir, task)] = number
    while pending:
        _collect(pending, done)
    return [path for number in sorted(done) for path in done[number]]


def _collect(pending: dict[Future, int], done: dict[int, list[Path]]) -> None:
    finished, _ = wait(pending, return_when=FIRST_COMPLETED)
    for future in finished:
        done[pending.pop(future)] = future.result()


def render_one(name: str, context: dict[str, Any], out: Path, templates: Path) -> Path:
    """Check template ``name`` against ``context`` and render it into ``out`` (in place: the
    caller writes to a temporary path and moves it)."""
    renderer = _Renderer(templates)
    renderer.check(name, context)
    return renderer.render(name, context, out)


def write_decisions(
    catalogue: Catalogue,
    results: Any,
    year: int,
    out_dir: Path,
    *,
    templates_dir: Path | None = None,
    workers: int | None = None,
    pool: ProcessPoolExecutor | None = None,
) -> list[Path]:
    """Write the December drafts into ``out_dir``; return their paths.

    ``results`` has DataFrames ``.citizens``, ``.households`` and ``.units`` (one row per
    assessed entity, ``outcome == "Đạt"`` for the recognised). Files:
    ``quyet_dinh_<title>_<year>.docx`` per title the town recognises that someone earned, with
    its certificates ``giay_cong_nhan_<title>_<unit>_<year>.docx`` (one file per unit) or
    ``giay_cong_nhan_<title>_<year>.docx`` (``giay_khen_…`` where the title's instrument is Giấy
    khen) for a unit title; ``to_trinh_huyen_<title>_<year>.docx``
    per title the district recognises; ``to_trinh_<unit>_<year>.docx`` and
    ``bien_ban_<unit>_<year>.docx`` per tổ dân phố and per cơ quan with a recognised member.
    Every template is checked before the first file is written: TemplateError when one is
    missing, unreadable, unsafe or uses a tag with no data. The papers are made in ``pool``
    when given (of ``workers`` processes), else in ``workers`` new processes (default: the
    cores when there are many).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    templates = Path(templates_dir) if templates_dir else DEFAULT_TEMPLATES
    codes = ctx.units_with_documents(catalogue, results)
    units = _unit_tasks(catalogue, results, year, codes)
    # The titles first: a district's decision is the longest task.
    first = [*_title_tasks(catalogue, results, year), *itertools.islice(units, 1)]
    if workers is None and pool is None:
        many = len(first) + 2 * len(codes) >= _PARALLEL_FROM
        workers = (os.cpu_count() or 1) if many else 1
    return render_tasks(first, units, out_dir, templates, workers, pool)


@contextlib.contextmanager
def forked_pool(workers: int | None) -> Iterator[tuple[ProcessPoolExecutor | None, int]]:
    """A pool of ``workers`` processes (default: the cores) and its size, its processes started
    now: call it before loading the results, so that a worker forked on Linux does not start
    with a copy of them (counted in its memory). ``(None, 1)`` for one process."""
    workers = workers or os.cpu_count() or 1
    if workers <= 1:
        yield None, 1
        return
    with worker_pool(workers) as pool:
        pool.submit(int).result()  # with fork, the first task starts every process
        yield pool, workers


# Below this many files, starting worker processes costs more than it saves.
_PARALLEL_FROM = 12


def _render_task(folder: Path, out_dir: Path, task: Task) -> list[Path]:
    renderer = _Renderer(folder)
    return [renderer.render(name, context, out_dir / file) for name, context, file in task.jobs()]


# --- the set of drafts, replaced whole ------------------------------------------------------


@dataclass
class DraftSet:
    """What a `quyet-dinh` left in its folder, and what the clerk must know about it."""

    folder: Path
    files: list[Path]
    warnings: list[str]


def replace_folder(staging: Path, target: Path) -> None:
    """Put a finished ``staging`` folder in the place of ``target``, whole or not at all.

    Two renames in one folder: the old set steps aside, the new one steps in, the old is
    removed. Killed between the two, the old set waits whole beside the place, and
    `recover_folder` puts it back before the next run.
    """
    old = target.parent / f".{target.name}.cu"
    if old.exists():
        shutil.rmtree(old)
    try:
        if target.exists():
            os.replace(target, old)
        os.replace(staging, target)
    except OSError as exc:
        if old.exists() and not target.exists():
            os.replace(old, target)
        shutil.rmtree(staging, ignore_errors=True)
        raise KieumauError(
            f"Không thay được bộ văn bản trong {target} ({exc.strerror or exc}): có thể một tệp "
            "trong thư mục đang mở trong Word. Hãy đóng tệp đó rồi chạy lại; bộ văn bản cũ "
            "vẫn còn nguyên."
        ) from exc
    shutil.rmtree(old, ignore_errors=True)


def recover_folder(target: Path) -> None:
    """Undo what a killed run left: the old set back in place, half-made sets removed."""
    old = target.parent / f".{target.name}.cu"
    if old.exists() and not target.exists():
        os.replace(old, target)
    elif old.exists():
        shutil.rmtree(old, ignore_errors=True)
    if target.parent.is_dir():
        for stale in target.parent.glob(f".{target.name}.moi-*"):
            shutil.rmtree(stale, ignore_errors=True)


@contextlib.contextmanager
def staged_folder(target: Path, *, keep: bool = False) -> Iterator[Path]:
    """A new folder beside ``target`` to fill (holding a copy of ``target``'s files when
    ``keep``: a few files are made again); on success it replaces ``target`` whole."""
    target.parent.mkdir(parents=True, exist_ok=True)
    recover_folder(target)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.moi-", dir=target.parent))
    if keep and target.is_dir():
        for path in target.iterdir():
            if path.is_file():
                shutil.copy2(path, staging / path.name)
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    replace_folder(staging, target)


def find_soffice(
    environ: Mapping[str, str] | None = None, platform: str | None = None
) -> str | None:
    """LibreOffice's soffice: KIEUMAU_SOFFICE, then PATH, then where the installers put it
    (Windows: Program Files, whose folder is not on PATH; macOS: /Applications)."""
    environ = os.environ if environ is None else environ
    platform = sys.platform if platform is None else platform
    chosen = environ.get("KIEUMAU_SOFFICE")
    if chosen and Path(chosen).is_file():
        return chosen
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if found:
        return found
    places: list[Path] = []
    if platform.startswith("win"):
        for variable in ("ProgramFiles", "ProgramW6432", "ProgramFiles(x86)", "LOCALAPPDATA"):
            root = environ.get(variable)
            if root:
                places += [Path(root) / "LibreOffice" / "program" / "soffice.exe"]
                places += sorted(Path(root).glob("LibreOffice*/program/soffice.exe"))
    elif platform == "darwin":
        places.append(Path("/Applications/LibreOffice.app/Contents/MacOS/soffice"))
    return next((str(p) for p in places if p.is_file()), None)


def convert_to_pdf(paths: list[Path], out_dir: Path, *, timeout: float | None = None) -> list[str]:
    """Convert .docx files to PDF in one LibreOffice call; return warnings (Vietnamese).

    One call for the whole batch (SPEC §9; far faster than one call a file: benchmarks/README.md);
    the files are passed one by one (soffice refuses a folder); a throw-away profile so an open
    LibreOffice or a stale lock cannot block the run. A PDF appears in ``out_dir`` only whole.
    Without LibreOffice nothing is converted and the warning says what to install. The
    default ``timeout`` grows with the size of the files; on timeout the finished PDFs are kept.
    """
    paths = [Path(p) for p in paths]
    if not paths:
        return []
    soffice = find_soffice()
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

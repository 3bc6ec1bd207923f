"""Adding a criterion kind is one class (issue 22): a kind the project does not ship, written in
another file as processor/domain/kinds.py says, reaches the catalogue's Loại dropdown, its check,
the unit's form, the reader and the scoring, with no other module changed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_a_new_kind_is_one_class(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "new_kind.py"), str(tmp_path)],
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "KIEUMAU_CAU_HINH": str(tmp_path / "cau_hinh")},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert any("co_khong" in (f or "") for f in seen["catalogue_dropdown"])
    # Đăng ký and CD08 take Có/Không, the seven other criteria Đạt/Chưa đạt.
    assert seen["form_validations"].count('"Có,Không"') == 2
    assert seen["form_validations"].count('"Đạt,Chưa đạt"') == 7
    assert not [i for i in seen["issues"] if "CD08" in i]
    outcomes = seen["outcomes"]
    assert outcomes["Hà Văn Có"][:2] == ["Đạt", "Đạt"]
    assert outcomes["Hà Thị Không"] == [
        "Chưa đạt",
        "Chưa đạt",
        "Không đạt: CD08 - Nếp sống văn minh (bắt buộc)",
    ]
    assert outcomes["Hà Văn Trống"] == [
        "Chưa đủ điều kiện",
        "",
        "Chưa đủ dữ liệu: CD08 - Nếp sống văn minh: ô trống",
    ]

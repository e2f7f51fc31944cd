"""The output folder of a run: checked before any work, written complete or not at all.

- `--out` must not be an existing file, must not lie inside the evidence package (nor contain it), and, when it
  exists and holds files, must be a folder this suite wrote earlier (it carries the MARKER file); anything else is
  refused, so a mistyped --out never deletes a vendor's files.
- The reports are written into a fresh temporary folder beside --out and moved into place only when complete:
  a crashed run leaves the previous output untouched, and two runs into one folder never mix their files (the last
  to finish wins, whole).
"""
from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import tempfile
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

MARKER = ".vnqr-conformance-output"


class OutputError(Exception):
    def __init__(self, message_en: str, message_vi: str):
        self.message_en, self.message_vi = message_en, message_vi
        super().__init__(message_en)


def slugify(name: str) -> str:
    """A folder name from a candidate or campaign name: ASCII letters, digits and '-', at most 60 characters."""
    s = name.replace("Đ", "D").replace("đ", "d")
    s = unicodedata.normalize("NFKD", s)
    s = "".join(ch for ch in s if unicodedata.category(ch) != "Mn")
    s = re.sub(r"[^A-Za-z0-9]+", "-", s).strip("-").lower()[:60].strip("-")
    return s or "candidate"


def default_out(name: str, prefix: str = "") -> Path:
    """The report folder when no --out is given: reports/<prefix><slug of name>-<YYYYmmdd-HHMMSS>, in Vietnam time
    like the report's own date (conformance/clock.py)."""
    from conformance.clock import vietnam_tz

    stamp = dt.datetime.now(vietnam_tz()).strftime("%Y%m%d-%H%M%S")
    return Path("reports") / f"{prefix}{slugify(name)[:40 if prefix else 60]}-{stamp}"


def _inside(child: Path, parent: Path) -> bool:
    try:
        child.relative_to(parent)
        return True
    except ValueError:
        return False


def check_out(out: Path, package_root: Path | None = None) -> None:
    """Refuse an --out that cannot or must not be written (OutputError names the folder and the problem)."""
    out_abs = Path(os.path.abspath(out))
    if out_abs.exists() and not out_abs.is_dir():
        raise OutputError(f"--out {out}: is an existing file, not a folder",
                          f"--out {out}: là một tệp đã có, không phải thư mục")
    if package_root is not None:
        pkg = Path(os.path.abspath(package_root))
        real_out, real_pkg = out_abs.resolve(), pkg.resolve()
        if _inside(real_out, real_pkg):
            raise OutputError(f"--out {out}: is inside the evidence package {package_root}; choose a folder outside it",
                              f"--out {out}: nằm trong gói bằng chứng {package_root}; hãy chọn thư mục bên ngoài gói")
        if _inside(real_pkg, real_out):
            raise OutputError(f"--out {out}: contains the evidence package {package_root}; choose another folder",
                              f"--out {out}: chứa gói bằng chứng {package_root}; hãy chọn thư mục khác")
    if out_abs.is_dir() and any(out_abs.iterdir()) and not (out_abs / MARKER).is_file():
        raise OutputError(f"--out {out}: the folder holds files this suite did not write; choose an empty or new folder",
                          f"--out {out}: thư mục có các tệp không do bộ kiểm thử tạo ra; hãy chọn thư mục trống hoặc "
                          "thư mục mới")
    parent = out_abs.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"--out {out}: cannot write in {parent}", f"--out {out}: không ghi được vào {parent}")


@contextmanager
def staged_output(out: Path, package_root: Path | None = None) -> Iterator[Path]:
    """Yield a fresh temporary folder beside `out`; on success it replaces `out` whole, on error it is removed."""
    check_out(out, package_root)
    out_abs = Path(os.path.abspath(out))
    out_abs.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_abs.name}.tmp-", dir=out_abs.parent))
    umask = os.umask(0)
    os.umask(umask)
    tmp.chmod(0o777 & ~umask)  # an ordinary folder once published (mkdtemp makes it private)
    try:
        yield tmp
        from conformance import __version__

        (tmp / MARKER).write_text(json.dumps({"suite_version": __version__}) + "\n", encoding="utf-8")
        old = None
        if out_abs.exists():
            check_out(out, package_root)  # still ours (another run may have replaced it meanwhile)
            old = Path(tempfile.mkdtemp(prefix=f".{out_abs.name}.old-", dir=out_abs.parent))
            old.rmdir()
            os.replace(out_abs, old)
        os.replace(tmp, out_abs)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)

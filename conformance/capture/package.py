"""Load an evidence package: candidate.json plus the files it names.

A malformed candidate.json raises PackageError (the run stops, exit code 2). Problems with single evidence items
(missing file, path escaping the package, unknown subject) never raise: the item carries an error and the rest of
the package is still assessed.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance.specs import SpecError, parse_json_text, validate

MANIFEST = "candidate.json"
MAX_MANIFEST_BYTES = 5_000_000


class PackageError(Exception):
    def __init__(self, message_en: str, message_vi: str, file: str, json_path: str = "$"):
        self.message_en, self.message_vi, self.file, self.json_path = message_en, message_vi, file, json_path
        super().__init__(f"{file}: {json_path}: {message_en}")


@dataclass
class EvidenceItem:
    index: int
    file: str
    kind: str
    mode: str
    subject: str
    path: Path | None = None
    sha256: str | None = None
    error_en: str | None = None
    error_vi: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """Stable identifier used in test IDs and reports (file names can repeat in odd packages)."""
        return self.file

    def set_error(self, en: str, vi: str) -> None:
        self.error_en, self.error_vi = en, vi


@dataclass
class Package:
    root: Path
    manifest: dict[str, Any]
    candidate: dict[str, Any]
    device: dict[str, Any]
    subjects: dict[str, dict[str, Any]]
    evidence: list[EvidenceItem]
    live: dict[str, Any] | None
    manifest_sha256: str
    # where reports say the package is, when it is read from elsewhere (a live capture read in the staging folder
    # that becomes OUT/package once the run is complete); None: root
    shown_root: Path | None = None

    @property
    def ppi(self) -> float | None:
        return self.device.get("ppi")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def resolve_inside(root: Path, rel: str) -> tuple[Path | None, tuple[str, str] | None]:
    """Resolve a manifest file reference; refuse absolute paths, '..' escapes and symlinks leading out."""
    if not rel or "\x00" in rel:
        return None, ("empty or invalid file name", "tên tệp rỗng hoặc không hợp lệ")
    if os.path.isabs(rel) or rel.startswith(("/", "\\")) or (len(rel) > 1 and rel[1] == ":"):
        return None, (f"absolute path {rel!r} is not allowed; paths are relative to the package folder",
                      f"không cho phép đường dẫn tuyệt đối {rel!r}; đường dẫn phải tương đối so với thư mục gói")
    candidate = root / rel
    try:
        real = candidate.resolve(strict=False)
    except (OSError, RuntimeError) as exc:
        return None, (f"cannot resolve {rel!r}: {exc}", f"không phân giải được {rel!r}: {exc}")
    root_real = root.resolve()
    if real != root_real and root_real not in real.parents:
        return None, (f"{rel!r} points outside the package folder (via '..' or a symbolic link); refused",
                      f"{rel!r} trỏ ra ngoài thư mục gói (qua '..' hoặc liên kết tượng trưng); bị từ chối")
    if not real.exists():
        return None, (f"file {rel!r} does not exist in the package", f"tệp {rel!r} không có trong gói")
    if not real.is_file():
        return None, (f"{rel!r} is not a regular file", f"{rel!r} không phải là tệp thông thường")
    return real, None


def load_package(path: str | Path) -> Package:
    root = Path(path)
    manifest_path = root / MANIFEST if root.is_dir() else root
    if root.is_file():
        root = root.parent
    shown = str(manifest_path)
    if not root.exists():
        raise PackageError(f"package folder {str(root)!r} does not exist",
                           f"thư mục gói {str(root)!r} không tồn tại", str(root))
    if not manifest_path.is_file():
        raise PackageError(f"no {MANIFEST} in {str(root)!r}", f"không có {MANIFEST} trong {str(root)!r}", shown)
    raw = manifest_path.read_bytes()
    if len(raw) > MAX_MANIFEST_BYTES:
        raise PackageError("candidate.json is larger than 5 MB", "candidate.json lớn hơn 5 MB", shown)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise PackageError("candidate.json is not UTF-8 text", "candidate.json không phải văn bản UTF-8", shown) from None
    try:  # duplicate keys, NaN/Infinity and hostile nesting are errors too (conformance/specs.py)
        manifest = parse_json_text(text, shown)
    except SpecError as exc:
        raise PackageError(exc.message, exc.message_vi, shown, exc.json_path) from None
    try:
        validate(manifest, "candidate.schema.json", shown)
    except SpecError as exc:
        raise PackageError(exc.message, exc.message_vi, shown, exc.json_path) from None  # printed with file and path

    subjects: dict[str, dict[str, Any]] = {}
    for i, s in enumerate(manifest["subjects"]):
        if s["id"] in subjects:
            raise PackageError(f"duplicate subject id {s['id']!r}", f"trùng mã người dùng {s['id']!r}", shown,
                               f"$.subjects[{i}].id")
        subjects[s["id"]] = s

    items: list[EvidenceItem] = []
    known = {"file", "kind", "mode", "subject"}
    for i, e in enumerate(manifest["evidence"]):
        item = EvidenceItem(index=i, file=e["file"], kind=e["kind"], mode=e.get("mode", ""), subject=e["subject"],
                            extra={k: v for k, v in e.items() if k not in known})
        if e["subject"] not in subjects:
            item.set_error(f"evidence[{i}] names subject {e['subject']!r}, which is not in subjects[]",
                           f"evidence[{i}] tham chiếu người dùng {e['subject']!r} không có trong subjects[]")
        real, err = resolve_inside(root, e["file"])
        if err and not item.error_en:
            item.set_error(f"{e['file']}: {err[0]}", f"{e['file']}: {err[1]}")
        if real is not None:
            item.path = real
            try:
                item.sha256 = _sha256(real)
            except OSError as exc:
                item.set_error(f"{e['file']}: cannot read: {exc.strerror}", f"{e['file']}: không đọc được: {exc.strerror}")
        items.append(item)

    return Package(root=root.resolve(), manifest=manifest, candidate=manifest["candidate"],
                   device=manifest.get("device") or {}, subjects=subjects, evidence=items,
                   live=manifest.get("live"), manifest_sha256=hashlib.sha256(raw).hexdigest())

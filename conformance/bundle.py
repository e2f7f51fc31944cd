"""`bundle` and `verify`: one archive an assessment centre files, signs and can re-verify years later.

    vnqr-conformance bundle PKG --out FILE.zip [assess options] [--sign-key KEY.pem]
    vnqr-conformance verify FILE.zip [--pubkey KEY.pub.pem]

The archive holds:

    evidence/                 candidate.json and every file it names (the evidence package as assessed)
    results.json report.html report.pdf junit.xml
    profile/<name>            the assessment profile used (its bytes)
    catalogue/requirements.yaml   the requirement catalogue used
    SHA256SUMS                `sha256sum` lines of every file above (sorted by path)
    SHA256SUMS.sig            with --sign-key: the Ed25519 signature of SHA256SUMS (raw 64 bytes)

Keys: private key PKCS#8 PEM, public key SubjectPublicKeyInfo PEM (README: "Filing, signing and verifying").
`bundle` exits with the verdict's code (0 / 1 / 3), 2 when the input cannot be used.

`verify` reads the archive as adversarial input (bounded size, member count and member sizes; absolute paths,
'..', symbolic links, duplicate and non-regular members refused), checks every hash and, with --pubkey, the
signature; then re-runs the assessment from the archived evidence with the archived profile on the archived
validation date and compares the verdict, every requirement status and every evidence item status with the
archived results.json. Exit 0 identical, 1 a status differs (each difference listed), 2 tampered or unusable (the
file named).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import stat
import tempfile
import unicodedata
import zipfile
import zlib
from pathlib import Path, PurePosixPath
from typing import Any

EVIDENCE_DIR = "evidence"
SUMS = "SHA256SUMS"
SIG = "SHA256SUMS.sig"
REPORT_FILES = ("results.json", "report.html", "report.pdf", "junit.xml")

# bounds on an archive given to `verify`
MAX_ARCHIVE_BYTES = 4_000_000_000
MAX_MEMBERS = 100_000
MAX_MEMBER_BYTES = 1_000_000_000
MAX_TOTAL_BYTES = 8_000_000_000
MAX_RATIO = 1_000  # uncompressed / compressed, for members above 1 MB (a zip bomb is refused, not inflated)
MAX_NAME_CHARS = 1_024

EXIT_OK, EXIT_DIFFERS, EXIT_UNUSABLE = 0, 1, 2


class BundleError(Exception):
    """The archive or an input cannot be used: names the file and the problem (exit 2)."""

    def __init__(self, message_en: str, message_vi: str):
        self.message_en, self.message_vi = message_en, message_vi
        super().__init__(message_en)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _sha256_file(path: Path) -> str:
    from conformance.reports.filing import sha256_file

    return sha256_file(path)


# -- keys ----------------------------------------------------------------------------------------------------------
def load_private_key(path: str | Path) -> Any:
    """An Ed25519 private key from a PKCS#8 PEM file (passphrase from $VNQR_SIGN_KEY_PASSPHRASE when encrypted)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise BundleError(f"{p}: cannot read the signing key: {exc.strerror}",
                          f"{p}: không đọc được khoá ký: {exc.strerror}") from None
    pw = os.environ.get("VNQR_SIGN_KEY_PASSPHRASE")
    try:
        key = load_pem_private_key(data, password=pw.encode("utf-8") if pw else None)
    except TypeError:
        raise BundleError(f"{p}: the key is encrypted: set VNQR_SIGN_KEY_PASSPHRASE",
                          f"{p}: khoá đã được mã hoá: hãy đặt biến VNQR_SIGN_KEY_PASSPHRASE") from None
    except (ValueError, Exception) as exc:  # noqa: BLE001 - any parse failure is an unusable key file
        raise BundleError(f"{p}: not a PKCS#8 PEM private key ({type(exc).__name__})",
                          f"{p}: không phải khoá riêng PKCS#8 PEM ({type(exc).__name__})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise BundleError(f"{p}: not an Ed25519 key", f"{p}: không phải khoá Ed25519")
    return key


def load_public_key(path: str | Path) -> Any:
    """An Ed25519 public key from a SubjectPublicKeyInfo PEM file."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise BundleError(f"{p}: cannot read the public key: {exc.strerror}",
                          f"{p}: không đọc được khoá công khai: {exc.strerror}") from None
    try:
        key = load_pem_public_key(data)
    except Exception as exc:  # noqa: BLE001
        raise BundleError(f"{p}: not a SubjectPublicKeyInfo PEM public key ({type(exc).__name__})",
                          f"{p}: không phải khoá công khai SubjectPublicKeyInfo PEM ({type(exc).__name__})") from None
    if not isinstance(key, Ed25519PublicKey):
        raise BundleError(f"{p}: not an Ed25519 key", f"{p}: không phải khoá Ed25519")
    return key


# -- bundle --------------------------------------------------------------------------------------------------------
def sums_text(files: dict[str, bytes | Path]) -> str:
    """SHA256SUMS of the archive members (name -> bytes or a file to read), sorted by name."""
    lines = []
    for name in sorted(files):
        v = files[name]
        lines.append(f"{_sha256(v) if isinstance(v, bytes) else _sha256_file(v)}  {name}\n")
    return "".join(lines)


def package_members(package: Any) -> dict[str, Path]:
    """evidence/<name> -> file, for candidate.json and every readable file it names inside the package."""
    from conformance.capture.package import MANIFEST, resolve_inside

    root = Path(package.root)
    out: dict[str, Path] = {f"{EVIDENCE_DIR}/{MANIFEST}": root / MANIFEST}
    names = [it.file for it in package.evidence if it.path is not None]
    log = (package.manifest or {}).get("capture_log")
    if isinstance(log, str) and log:
        names.append(log)
    for name in names:
        real, err = resolve_inside(root, name)
        if real is None or err is not None:
            continue  # an unreadable item is an error in the results, and stays one when re-assessed
        norm = PurePosixPath(name.replace("\\", "/"))
        if norm.is_absolute() or ".." in norm.parts:
            continue
        out.setdefault(f"{EVIDENCE_DIR}/{norm.as_posix()}", real)
    return out


def write_bundle(out: Path, members: dict[str, bytes | Path], key: Any = None) -> dict[str, Any]:
    """Write the archive atomically (temporary file beside it, then renamed). Returns {files, signed}."""
    sums = sums_text(members).encode("utf-8")
    all_members: dict[str, bytes | Path] = {**members, SUMS: sums}
    if key is not None:
        all_members[SIG] = key.sign(sums)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    os.close(fd)
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as z:
            for name in sorted(all_members):
                v = all_members[name]
                info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = (stat.S_IFREG | 0o644) << 16
                z.writestr(info, v if isinstance(v, bytes) else Path(v).read_bytes())
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return {"files": len(all_members), "signed": key is not None}


def cmd_bundle(ns: argparse.Namespace) -> int:
    from conformance.cli import EXIT_UNUSABLE as CLI_UNUSABLE
    from conformance.cli import (
        assess_into,
        err,
        exit_code_of,
        load_inputs,
        print_summary,
        report_metadata,
        report_unusable,
        unusable_errors,
    )
    from conformance.reports import ALL_FORMATS
    from conformance.specs import SPECS_DIR

    out = Path(ns.out)
    if out.suffix.lower() != ".zip":
        err(f"--out {out}: the bundle is a .zip file", f"--out {out}: gói lưu trữ phải là tệp .zip")
        return CLI_UNUSABLE
    if out.is_dir():
        err(f"--out {out}: is a folder, not a .zip file", f"--out {out}: là thư mục, không phải tệp .zip")
        return CLI_UNUSABLE
    ns.check, ns.item, ns.waivers, ns.out = None, None, None, None
    try:
        key = load_private_key(ns.sign_key) if ns.sign_key else None
    except BundleError as exc:
        err(exc.message_en, exc.message_vi)
        return CLI_UNUSABLE
    loaded = load_inputs(ns)
    if isinstance(loaded, int):
        return loaded
    plan, _ = loaded
    if out.resolve().is_relative_to(Path(plan.package.root).resolve()):
        err(f"--out {out}: lies inside the evidence package {plan.package.root}; write the bundle elsewhere",
            f"--out {out}: nằm trong gói bằng chứng {plan.package.root}; hãy ghi gói lưu trữ ra chỗ khác")
        return CLI_UNUSABLE
    stage = Path(tempfile.mkdtemp(prefix=".vnqr-bundle-", dir=out.resolve().parent if out.resolve().parent.exists()
                                  else None))
    try:
        try:
            shown = assess_into(plan, stage, show_pii=ns.show_pii, workers=ns.workers, quiet=ns.quiet,
                                metadata=report_metadata(ns), formats=ALL_FORMATS + ("pdf",))
        except unusable_errors() as exc:
            return report_unusable(exc)
        members: dict[str, bytes | Path] = dict(package_members(plan.package))
        for name in REPORT_FILES:
            members[name] = stage / name
        prof = plan.profile.get("_path")
        members[f"profile/{Path(prof).name if prof else 'profile.json'}"] = (
            Path(prof) if prof else json.dumps({k: v for k, v in plan.profile.items() if not k.startswith("_")},
                                               ensure_ascii=False, indent=2).encode("utf-8"))
        members["catalogue/requirements.yaml"] = SPECS_DIR / "requirements.yaml"
        try:
            info = write_bundle(out, members, key)
        except OSError as exc:
            err(f"--out {out}: cannot write the bundle: {exc.strerror or exc}",
                f"--out {out}: không ghi được gói lưu trữ: {exc.strerror or exc}")
            return CLI_UNUSABLE
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    ns.out = str(out)
    if not ns.quiet:
        print_summary(shown, out, ns)
        signed = "signed / đã ký (SHA256SUMS.sig)" if info["signed"] else "not signed / chưa ký"
        print(f"bundle / gói lưu trữ: {out} ({info['files']} files / tệp, {signed})")
    return exit_code_of(shown)


# -- verify --------------------------------------------------------------------------------------------------------
def _safe_name(name: str) -> str | None:
    """The problem with an archive member's name, or None when it is a plain relative path."""
    if not name or len(name) > MAX_NAME_CHARS:
        return "empty or too long name"
    if any(unicodedata.category(c) in ("Cc", "Cf") for c in name) or "\\" in name:
        return "control character or backslash in the name"
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return "absolute path"
    parts = name.rstrip("/").split("/")
    if any(p in ("", ".", "..") for p in parts):
        return "'..', '.' or an empty part in the path"
    return None


def extract_archive(path: Path, dest: Path) -> dict[str, Path]:
    """Extract a bundle into `dest` with every bound checked; name -> extracted file. Raises BundleError."""
    shown = path.name
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise BundleError(f"{shown}: cannot read: {exc.strerror}", f"{shown}: không đọc được: {exc.strerror}") from None
    if size > MAX_ARCHIVE_BYTES:
        raise BundleError(f"{shown}: larger than {MAX_ARCHIVE_BYTES} bytes", f"{shown}: lớn hơn {MAX_ARCHIVE_BYTES} byte")
    try:
        z = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise BundleError(f"{shown}: not a readable zip archive ({exc})",
                          f"{shown}: không phải tệp zip đọc được ({exc})") from None
    out: dict[str, Path] = {}
    seen: set[str] = set()
    total = 0
    with z:
        infos = z.infolist()
        if len(infos) > MAX_MEMBERS:
            raise BundleError(f"{shown}: more than {MAX_MEMBERS} members", f"{shown}: hơn {MAX_MEMBERS} tệp thành phần")
        for info in infos:
            name = info.filename
            problem = _safe_name(name)
            if problem:
                raise BundleError(f"{shown}: {name!r}: refused ({problem})", f"{shown}: {name!r}: bị từ chối ({problem})")
            key = unicodedata.normalize("NFC", name.rstrip("/"))
            if key in seen:
                raise BundleError(f"{shown}: {name}: the name appears twice in the archive",
                                  f"{shown}: {name}: tên xuất hiện hai lần trong tệp lưu trữ")
            seen.add(key)
            mode = (info.external_attr >> 16) & 0xFFFF
            if info.is_dir():
                continue
            if stat.S_IFMT(mode) not in (0, stat.S_IFREG):  # no type bits (many zip writers) or a regular file
                raise BundleError(f"{shown}: {name}: a symbolic link or special file; refused",
                                  f"{shown}: {name}: là liên kết tượng trưng hoặc tệp đặc biệt; bị từ chối")
            if info.flag_bits & 0x1:
                raise BundleError(f"{shown}: {name}: encrypted member; refused", f"{shown}: {name}: tệp mã hoá; bị từ chối")
            if info.file_size > MAX_MEMBER_BYTES or (info.file_size > 1_000_000 and
                                                      info.file_size > MAX_RATIO * max(1, info.compress_size)):
                raise BundleError(f"{shown}: {name}: too large or too compressed ({info.file_size} bytes); refused",
                                  f"{shown}: {name}: quá lớn hoặc nén quá mức ({info.file_size} byte); bị từ chối")
            target = dest.joinpath(*name.split("/"))
            if not target.resolve().is_relative_to(dest.resolve()):
                raise BundleError(f"{shown}: {name}: leaves the extraction folder; refused",
                                  f"{shown}: {name}: trỏ ra ngoài thư mục giải nén; bị từ chối")
            target.parent.mkdir(parents=True, exist_ok=True)
            written = 0
            try:
                with z.open(info) as src, open(target, "xb") as dst:
                    while True:
                        chunk = src.read(1 << 20)
                        if not chunk:
                            break
                        written += len(chunk)
                        total += len(chunk)
                        if written > info.file_size or written > MAX_MEMBER_BYTES or total > MAX_TOTAL_BYTES:
                            raise BundleError(f"{shown}: {name}: inflates beyond its declared size; refused",
                                              f"{shown}: {name}: giải nén vượt kích thước khai báo; bị từ chối")
                        dst.write(chunk)
            except FileExistsError:
                raise BundleError(f"{shown}: {name}: the name appears twice in the archive",
                                  f"{shown}: {name}: tên xuất hiện hai lần trong tệp lưu trữ") from None
            except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
                raise BundleError(f"{shown}: {name}: damaged member ({exc})",
                                  f"{shown}: {name}: tệp thành phần bị hỏng ({exc})") from None
            out[name] = target
    return out


def check_sums(shown: str, files: dict[str, Path], pubkey: Any = None) -> tuple[bool, list[str]]:
    """Every member listed in SHA256SUMS with its hash, nothing more, nothing less; the signature when a key is
    given. Returns (signature checked, notes). Raises BundleError naming the file."""
    if SUMS not in files:
        raise BundleError(f"{shown}: no {SUMS} in the archive", f"{shown}: tệp lưu trữ không có {SUMS}")
    sums = files[SUMS].read_bytes()
    notes: list[str] = []
    listed: dict[str, str] = {}
    try:
        text = sums.decode("utf-8")
    except UnicodeDecodeError:
        raise BundleError(f"{shown}: {SUMS}: not UTF-8 text", f"{shown}: {SUMS}: không phải văn bản UTF-8") from None
    for n, line in enumerate(text.splitlines(), 1):
        digest, sep, name = line.partition("  ")
        if not sep or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest) or not name:
            raise BundleError(f"{shown}: {SUMS}: line {n} is not '<sha256>  <file>'",
                              f"{shown}: {SUMS}: dòng {n} không có dạng '<sha256>  <tệp>'")
        if name in listed:
            raise BundleError(f"{shown}: {SUMS}: {name} is listed twice", f"{shown}: {SUMS}: {name} được liệt kê hai lần")
        listed[name] = digest
    if pubkey is not None:
        from cryptography.exceptions import InvalidSignature

        if SIG not in files:
            raise BundleError(f"{shown}: {SIG}: missing: the archive is not signed, and --pubkey was given",
                              f"{shown}: {SIG}: không có: tệp lưu trữ chưa được ký, trong khi có --pubkey")
        try:
            pubkey.verify(files[SIG].read_bytes(), sums)
        except InvalidSignature:
            raise BundleError(f"{shown}: {SIG}: the signature does not match {SUMS} with this public key (wrong key, "
                              f"or {SUMS} changed after signing)",
                              f"{shown}: {SIG}: chữ ký không khớp với {SUMS} theo khoá công khai này (sai khoá, hoặc "
                              f"{SUMS} bị thay đổi sau khi ký)") from None
    elif SIG in files:
        notes.append(f"{SIG} present but not checked (no --pubkey) / có {SIG} nhưng chưa kiểm tra (không có --pubkey)")
    for name in sorted(files):
        if name in (SUMS, SIG):
            continue
        if name not in listed:
            raise BundleError(f"{shown}: {name}: not listed in {SUMS} (added after bundling)",
                              f"{shown}: {name}: không có trong {SUMS} (được thêm sau khi lập gói)")
        if _sha256_file(files[name]) != listed[name]:
            raise BundleError(f"{shown}: {name}: SHA-256 differs from {SUMS} (changed after bundling)",
                              f"{shown}: {name}: SHA-256 khác với {SUMS} (bị thay đổi sau khi lập gói)")
    for name in sorted(set(listed) - set(files)):
        raise BundleError(f"{shown}: {name}: listed in {SUMS} but missing from the archive",
                          f"{shown}: {name}: có trong {SUMS} nhưng không có trong tệp lưu trữ")
    return pubkey is not None, notes


def compare(archived: dict[str, Any], fresh: dict[str, Any]) -> list[str]:
    """Every status that differs: verdict, requirements (by ID), evidence items (by index)."""
    diffs = []
    if archived.get("verdict") != fresh.get("verdict"):
        diffs.append(f"verdict / kết luận: archived {archived.get('verdict')} -> re-run {fresh.get('verdict')}")
    a_req = {r.get("id"): r.get("status") for r in archived.get("requirements") or [] if isinstance(r, dict)}
    f_req = {r.get("id"): r.get("status") for r in fresh.get("requirements") or []}
    for rid in sorted(set(a_req) | set(f_req)):
        if a_req.get(rid) != f_req.get(rid):
            diffs.append(f"{rid}: archived {a_req.get(rid)} -> re-run {f_req.get(rid)}")
    a_ev = {e.get("index"): e.get("status") for e in archived.get("evidence") or [] if isinstance(e, dict)}
    f_ev = {e.get("index"): e.get("status") for e in fresh.get("evidence") or []}
    for idx in sorted(set(a_ev) | set(f_ev), key=lambda x: (x is None, x if isinstance(x, int) else -1)):
        if a_ev.get(idx) != f_ev.get(idx):
            diffs.append(f"evidence item / bằng chứng #{idx}: archived {a_ev.get(idx)} -> re-run {f_ev.get(idx)}")
    return diffs


def verify_bundle(path: Path, pubkey_path: str | None = None, workers: int | None = None,
                  say: Any = print) -> tuple[int, list[str]]:
    """(exit code, differences). Raises BundleError for a tampered or unusable archive."""
    from conformance.capture.package import PackageError, load_package
    from conformance.engine import UsageError, assess
    from conformance.reports.filing import package_manifest
    from conformance.specs import SPECS_DIR, SpecError, load_profile

    shown = path.name
    pubkey = load_public_key(pubkey_path) if pubkey_path else None
    tmp = Path(tempfile.mkdtemp(prefix=".vnqr-verify-"))
    try:
        files = extract_archive(path, tmp)
        signed, notes = check_sums(shown, files, pubkey)
        for n in notes:
            say(f"note / ghi chú: {n}")
        say(f"hashes / mã băm: {len(files) - (2 if SIG in files else 1)} files match {SUMS} / "
            f"{len(files) - (2 if SIG in files else 1)} tệp khớp {SUMS}"
            + ("; signature valid / chữ ký hợp lệ" if signed else ""))
        if "results.json" not in files:
            raise BundleError(f"{shown}: results.json: missing", f"{shown}: results.json: không có")
        try:
            archived = json.loads(files["results.json"].read_text(encoding="utf-8"))
            if not isinstance(archived, dict):
                raise ValueError("not an object")
        except (UnicodeDecodeError, ValueError) as exc:
            raise BundleError(f"{shown}: results.json: not a results document ({exc})",
                              f"{shown}: results.json: không phải tài liệu kết quả ({exc})") from None
        profiles = [n for n in files if n.startswith("profile/")]
        if len(profiles) != 1:
            raise BundleError(f"{shown}: profile/: expected one profile file, found {len(profiles)}",
                              f"{shown}: profile/: cần đúng một tệp hồ sơ, có {len(profiles)}")
        try:
            profile = load_profile(files[profiles[0]])
        except SpecError as exc:
            raise BundleError(f"{shown}: {profiles[0]}: {exc.json_path}: {exc.message}",
                              f"{shown}: {profiles[0]}: {exc.json_path}: {exc.message_vi}") from None
        cat = files.get("catalogue/requirements.yaml")
        if cat is not None and _sha256_file(cat) != _sha256_file(SPECS_DIR / "requirements.yaml"):
            say("note / ghi chú: the archived requirement catalogue differs from this suite's; statuses are judged "
                "with this suite's catalogue / danh mục yêu cầu lưu trữ khác với danh mục của bộ kiểm thử này")
        from conformance import __version__

        if archived.get("suite_version") != __version__:
            say(f"note / ghi chú: archived with suite {archived.get('suite_version')}, re-run with {__version__} / "
                f"lưu trữ bằng phiên bản {archived.get('suite_version')}, chạy lại bằng {__version__}")
        pkg_dir = tmp / EVIDENCE_DIR
        try:
            package = load_package(pkg_dir)
        except PackageError as exc:
            raise BundleError(f"{shown}: {EVIDENCE_DIR}/candidate.json: {exc.json_path}: {exc.message_en}",
                              f"{shown}: {EVIDENCE_DIR}/candidate.json: {exc.json_path}: {exc.message_vi}") from None
        # the evidence the results describe is the evidence in the archive (results.json `package.sha256`)
        a_pkg = (archived.get("package") or {}).get("sha256")
        if a_pkg and a_pkg != package_manifest(package)["sha256"]:
            a_ev = {e.get("index"): e.get("sha256") for e in archived.get("evidence") or [] if isinstance(e, dict)}
            changed = [f"{EVIDENCE_DIR}/{it.file}" for it in package.evidence if a_ev.get(it.index) != it.sha256]
            what = ", ".join(dict.fromkeys(changed)) or f"{EVIDENCE_DIR}/candidate.json"
            raise BundleError(f"{shown}: {what}: differs from the evidence results.json describes (package SHA-256)",
                              f"{shown}: {what}: khác với bằng chứng mà results.json mô tả (SHA-256 của gói)")
        try:
            assessment = assess(package, profile=profile, today=archived.get("validation_date"), workers=workers)
        except (UsageError, SpecError) as exc:  # e.g. a bad validation date in a forged results.json
            raise BundleError(f"{shown}: the archived evidence cannot be re-assessed: {exc}",
                              f"{shown}: không đánh giá lại được bằng chứng lưu trữ: {exc}") from None
        # any other error is the suite's own (exit 5 from the command line), never called tampering
        fresh = assessment.to_dict()
        diffs = compare(archived, fresh)
        return (EXIT_DIFFERS if diffs else EXIT_OK), diffs
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def cmd_verify(ns: argparse.Namespace) -> int:
    from conformance.cli import err, printable

    path = Path(ns.archive)
    try:
        code, diffs = verify_bundle(path, ns.pubkey, workers=ns.workers, say=lambda s: print(printable(s)))
    except BundleError as exc:
        err(f"TAMPERED OR UNUSABLE: {exc.message_en}", f"BỊ SỬA ĐỔI HOẶC KHÔNG DÙNG ĐƯỢC: {exc.message_vi}")
        return EXIT_UNUSABLE
    if diffs:
        print(printable(f"DIFFERS / KHÁC: {len(diffs)} status(es) differ from the archived results / "
                        f"{len(diffs)} kết quả khác với kết quả lưu trữ:"))
        for d in diffs:
            print(printable(f"  {d}"))
    else:
        print("IDENTICAL / TRÙNG KHỚP: the re-run gives every archived status / chạy lại cho đúng mọi kết quả đã lưu")
    return code


def register(subparsers: Any) -> None:
    from conformance.cli import _workers, add_assess_options

    b = subparsers.add_parser("bundle", help="assess a package and write one archive to file: evidence, reports "
                                             "(incl. report.pdf), profile, catalogue, SHA256SUMS [and signature]")
    b.add_argument("path", metavar="PKG", help="evidence package folder containing candidate.json")
    b.add_argument("--out", required=True, help="the archive to write (FILE.zip)")
    add_assess_options(b)
    b.add_argument("--sign-key", help="Ed25519 private key (PKCS#8 PEM) to sign SHA256SUMS with")
    b.set_defaults(func=cmd_bundle)
    v = subparsers.add_parser("verify", help="check a bundle's hashes and signature, re-assess its evidence and "
                                             "compare every status (exit 0 identical, 1 differs, 2 tampered)")
    v.add_argument("archive", metavar="FILE.zip")
    v.add_argument("--pubkey", help="Ed25519 public key (SubjectPublicKeyInfo PEM): the signature must be valid")
    v.add_argument("--workers", type=_workers, help="processes for the evidence items (default: usable cores, or $VNQR_CONFORMANCE_WORKERS)")
    v.set_defaults(func=cmd_verify)


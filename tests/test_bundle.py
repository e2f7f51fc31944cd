"""`bundle` and `verify`: the filed archive re-verifies, and any change to it is found and named.

One real bundle of the example candidate (real assessment, real report.pdf, real Ed25519 key pair made with the
`cryptography` package) is made per module; tampered copies are rewritten from it. Hostile archives (absolute paths,
'..', symbolic links, duplicate names, zip bombs) are refused before anything is extracted outside the temporary
folder."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conformance import bundle
from conformance.bundle import SIG, SUMS, BundleError, extract_archive

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "fixtures" / "candidates" / "example"
TODAY = "2026-06-01"


def cli(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "conformance", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=900, env={**os.environ, "PYTHONPATH": str(REPO)})


def keypair(folder: Path, name: str) -> tuple[Path, Path]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    priv, pub = folder / f"{name}.pem", folder / f"{name}.pub.pem"
    priv.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    pub.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                  serialization.PublicFormat.SubjectPublicKeyInfo))
    return priv, pub


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    d = tmp_path_factory.mktemp("bundle")
    priv, pub = keypair(d, "centre")
    _, other_pub = keypair(d, "other")
    out = d / "example.zip"
    p = cli("bundle", str(EXAMPLE), "--out", str(out), "--today", TODAY, "--report-number", "TT-2026-0042",
            "--assessor", "Kiểm định viên A", "--organisation", "Trung tâm thử nghiệm (hư cấu)", "--sign-key",
            str(priv), "--quiet")
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    return {"zip": out, "pub": pub, "other_pub": other_pub, "dir": d}


def rewrite(src: Path, dst: Path, change: dict[str, bytes | None], *, resum: bool = False) -> Path:
    """A copy of an archive with members replaced (None: removed); resum: SHA256SUMS recomputed (no signature)."""
    with zipfile.ZipFile(src) as z:
        members = {n: z.read(n) for n in z.namelist()}
    for name, data in change.items():
        if data is None:
            members.pop(name, None)
        else:
            members[name] = data
    if resum:
        members.pop(SIG, None)
        members[SUMS] = "".join(f"{hashlib.sha256(members[n]).hexdigest()}  {n}\n"
                                for n in sorted(members) if n not in (SUMS, SIG)).encode()
    with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as z:
        for name in sorted(members):
            z.writestr(name, members[name])
    return dst


def test_bundle_holds_everything_and_sums_cover_it(made):
    with zipfile.ZipFile(made["zip"]) as z:
        names = set(z.namelist())
        sums = z.read(SUMS).decode()
        results = json.loads(z.read("results.json"))
        pdf = z.read("report.pdf")
    man = json.loads((EXAMPLE / "candidate.json").read_text(encoding="utf-8"))
    for e in man["evidence"]:
        assert f"evidence/{e['file']}" in names
    for n in ("evidence/candidate.json", "results.json", "report.html", "report.pdf", "junit.xml",
              "profile/profile.default.yaml", "catalogue/requirements.yaml", SUMS, SIG):
        assert n in names, n
    listed = {line.split("  ", 1)[1] for line in sums.splitlines()}
    assert listed == names - {SUMS, SIG}
    assert pdf.startswith(b"%PDF-")
    assert results["report"]["report_number"] == "TT-2026-0042"
    assert results["report"]["issued_at"].endswith("+07:00")
    assert results["validation_date"] == TODAY
    # the package digest covers every evidence file
    files = {f["path"] for f in results["package"]["files"]}
    assert len(files) == 1 + len({e["file"] for e in man["evidence"]}) and len(results["package"]["sha256"]) == 64


def test_example_bundle_verifies(made):
    p = cli("verify", str(made["zip"]), "--pubkey", str(made["pub"]))
    assert p.returncode == 0, p.stdout + p.stderr
    assert "IDENTICAL" in p.stdout and "signature valid" in p.stdout


def test_wrong_key_is_exit_2(made):
    p = cli("verify", str(made["zip"]), "--pubkey", str(made["other_pub"]))
    assert p.returncode == 2, p.stdout + p.stderr
    assert "SHA256SUMS.sig" in p.stderr and "wrong key" in p.stderr and "Traceback" not in p.stderr


def test_changed_screenshot_is_exit_2_naming_the_file(made, tmp_path):
    with zipfile.ZipFile(made["zip"]) as z:
        png = bytearray(z.read("evidence/screens/s1-default.png"))
    png[-20] ^= 0xFF
    bad = rewrite(made["zip"], tmp_path / "bad.zip", {"evidence/screens/s1-default.png": bytes(png)})
    p = cli("verify", str(bad), "--pubkey", str(made["pub"]))
    assert p.returncode == 2 and "evidence/screens/s1-default.png" in p.stderr, p.stderr
    # without the key too: the hash list no longer matches
    p = cli("verify", str(bad))
    assert p.returncode == 2 and "evidence/screens/s1-default.png" in p.stderr, p.stderr


def test_changed_screenshot_with_new_sums_is_caught_by_the_package_digest(made, tmp_path):
    import io

    from PIL import Image

    with zipfile.ZipFile(made["zip"]) as z:
        im = Image.open(io.BytesIO(z.read("evidence/screens/s2-default.png"))).convert("RGB")
    im.putpixel((5, 5), (1, 2, 3))
    buf = io.BytesIO()
    im.save(buf, "PNG")
    bad = rewrite(made["zip"], tmp_path / "resummed.zip", {"evidence/screens/s2-default.png": buf.getvalue()},
                  resum=True)
    p = cli("verify", str(bad))
    assert p.returncode == 2, p.stdout + p.stderr
    assert "evidence/screens/s2-default.png" in p.stderr and "package SHA-256" in p.stderr


def test_missing_signature_with_pubkey_is_exit_2(made, tmp_path):
    unsigned = rewrite(made["zip"], tmp_path / "unsigned.zip", {SIG: None})
    p = cli("verify", str(unsigned), "--pubkey", str(made["pub"]))
    assert p.returncode == 2 and "SHA256SUMS.sig" in p.stderr and "missing" in p.stderr


def test_edited_results_are_exit_1_listing_the_difference(made, tmp_path):
    """A results.json whose statuses the evidence does not give (hashes re-made, no signature): exit 1."""
    with zipfile.ZipFile(made["zip"]) as z:
        res = json.loads(z.read("results.json"))
    req = next(r for r in res["requirements"] if r["id"] == "SYMBOL-003")
    req["status"] = "warn"
    res["evidence"][2]["status"] = "fail"
    edited = rewrite(made["zip"], tmp_path / "edited.zip",
                     {"results.json": json.dumps(res, ensure_ascii=False).encode()}, resum=True)
    p = cli("verify", str(edited))
    assert p.returncode == 1, p.stdout + p.stderr
    assert "SYMBOL-003: archived warn -> re-run pass" in p.stdout
    assert "#2: archived fail -> re-run pass" in p.stdout
    # with the centre's key the same archive is tampered (exit 2): the signature no longer matches
    p = cli("verify", str(edited), "--pubkey", str(made["pub"]))
    assert p.returncode == 2


def test_added_member_is_exit_2(made, tmp_path):
    extra = rewrite(made["zip"], tmp_path / "extra.zip", {"evidence/screens/extra.png": b"\x89PNG"})
    with pytest.raises(BundleError, match="evidence/screens/extra.png: not listed"):
        bundle.verify_bundle(extra, say=lambda s: None)


def test_bundle_refuses_bad_key_before_any_work(tmp_path):
    key = tmp_path / "k.pem"
    key.write_text("not a key", encoding="utf-8")
    p = cli("bundle", str(EXAMPLE), "--out", str(tmp_path / "x.zip"), "--sign-key", str(key))
    assert p.returncode == 2 and "k.pem" in p.stderr and "PKCS#8" in p.stderr
    assert not (tmp_path / "x.zip").exists()
    p = cli("bundle", str(EXAMPLE), "--out", str(tmp_path / "x.tar"))
    assert p.returncode == 2 and ".zip" in p.stderr
    # never written into the evidence package itself
    pkg = tmp_path / "pkg"
    shutil.copytree(EXAMPLE, pkg)
    p = cli("bundle", str(pkg), "--out", str(pkg / "b.zip"))
    assert p.returncode == 2 and "inside the evidence package" in p.stderr and "nằm trong gói bằng chứng" in p.stderr
    assert not (pkg / "b.zip").exists()


# -- hostile archives ----------------------------------------------------------------------------------------------
def _zip_with(path: Path, entries: list[tuple[zipfile.ZipInfo | str, bytes]]) -> Path:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about duplicate names: that is the point
        with zipfile.ZipFile(path, "w") as z:
            for info, data in entries:
                z.writestr(info, data)
    return path


def _symlink_info(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


@pytest.mark.parametrize("entries,needle", [
    ([("/etc/passwd", b"x")], "absolute path"),
    ([("evidence/../../escape.txt", b"x")], "'..'"),
    ([("C:/windows.txt", b"x")], "absolute path"),
    ([("a\\b.txt", b"x")], "backslash"),
    ([(_symlink_info("evidence/link.png"), b"/etc/hostname")], "symbolic link"),
    ([("results.json", b"{}"), ("results.json", b"{}")], "twice"),
])
def test_hostile_members_are_refused(tmp_path, entries, needle):
    z = _zip_with(tmp_path / "h.zip", entries)
    dest = tmp_path / "dest"
    dest.mkdir()
    with pytest.raises(BundleError, match=needle.replace("(", r"\(")):
        extract_archive(z, dest)
    assert not (tmp_path / "escape.txt").exists()
    assert not any(p.is_symlink() for p in dest.rglob("*"))


def test_zip_bomb_and_member_count_are_bounded(tmp_path, monkeypatch):
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("results.json", b"\0" * 50_000_000)
    (tmp_path / "d1").mkdir()
    with pytest.raises(BundleError, match="too compressed"):
        extract_archive(bomb, tmp_path / "d1")
    many = _zip_with(tmp_path / "many.zip", [(f"f{i}.txt", b"x") for i in range(30)])
    monkeypatch.setattr(bundle, "MAX_MEMBERS", 20)
    (tmp_path / "d2").mkdir()
    with pytest.raises(BundleError, match="more than 20 members"):
        extract_archive(many, tmp_path / "d2")


def test_not_a_zip_is_exit_2(tmp_path):
    f = tmp_path / "x.zip"
    f.write_bytes(b"PK\x03\x04 garbage")
    p = cli("verify", str(f))
    assert p.returncode == 2 and "x.zip" in p.stderr and "Traceback" not in p.stderr

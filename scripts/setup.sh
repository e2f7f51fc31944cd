#!/usr/bin/env bash
# One-shot set-up on a fresh Debian 12 machine (run as root, or with sudo available).
# Installs Debian packages (zbar, Tesseract with Vietnamese + English data and its library headers, Chromium,
# fonts, poppler-utils) and a Python 3.11 virtualenv in .venv with the pinned packages of requirements.txt; with
# Node present, the npm package `allure` (Allure 3, for --allure-html) into the project-local folder .tools/allure.
# Idempotent: a second run only checks what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

# libtesseract-dev, libleptonica-dev, g++, pkg-config, python3-dev: to build tesserocr against Debian's Tesseract;
# python3-venv: a bare Debian 12 python3 cannot create .venv without it;
# poppler-utils: pdftoppm, to look at report PDFs as pictures
APT_PKGS=(libzbar0 tesseract-ocr tesseract-ocr-eng tesseract-ocr-vie chromium fonts-dejavu-core fonts-liberation2 fonts-noto-core
          libtesseract-dev libleptonica-dev g++ pkg-config python3-dev python3-venv poppler-utils)
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi

missing=()
for p in "${APT_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null 2>&1 || PY=python3
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $PY"
  "$PY" -m venv .venv
fi
stamp=.venv/.requirements.sha256
want=$(sha256sum requirements.txt | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "setup: installing Python packages (requirements.txt)"
  .venv/bin/pip install -q --disable-pip-version-check -r requirements.txt
  echo "$want" > "$stamp"
fi
# The suite itself, editable: the `vnqr-conformance` console script and the pytest plugin entry point.
if [ ! -x .venv/bin/vnqr-conformance ]; then
  echo "setup: installing the suite (pip install -e .)"
  .venv/bin/pip install -q --disable-pip-version-check --no-deps -e .
fi
ALLURE_NPM_VERSION=3.18.0  # conformance/reports/allure_html.py ALLURE_VERSION
if command -v npm >/dev/null 2>&1 && command -v node >/dev/null 2>&1; then
  if [ ! -x .tools/allure/node_modules/.bin/allure ] || \
     ! grep -q "\"version\": \"$ALLURE_NPM_VERSION\"" .tools/allure/node_modules/allure/package.json 2>/dev/null; then
    echo "setup: installing the npm package allure@$ALLURE_NPM_VERSION into .tools/allure (for --allure-html)"
    mkdir -p .tools/allure
    npm install --silent --no-audit --no-fund --prefix .tools/allure "allure@$ALLURE_NPM_VERSION" >/dev/null \
      || echo "setup: npm could not install allure; --allure-html will not be available"
  fi
else
  echo "setup: no Node/npm: --allure-html will not be available (the other reports do not need it)"
fi
echo "setup: ready (.venv/bin/python, $(tesseract --version 2>&1 | head -1), $(chromium --version 2>/dev/null || echo 'no chromium'))"

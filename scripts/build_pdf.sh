#!/usr/bin/env bash
# Build the PDF edition of the book: _build/latex/kazakh-diaspora.pdf (`make pdf`).
# Sphinx's LaTeX builder with xelatex (settings in _config.yml: latex, sphinx.config.latex_elements).
# Installs the Debian LaTeX toolchain and fonts if needed, executes changed notebooks, builds
# strictly, then fails if the PDF lacks a glyph (LaTeX only warns: the character would be missing).
#   usage: bash scripts/build_pdf.sh [path/to/venv/python]
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${1:-.venv/bin/python}
OUT=_build/latex
PDF=$OUT/kazakh-diaspora.pdf
LOG=$OUT/kazakh-diaspora.log

bash scripts/install-system-deps.sh pdf
# CJK font for the Chinese titles in the references (the preamble in _config.yml selects it).
if ! fc-list 'AR PL UMing CN' | grep -q .; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "installing Debian package: fonts-arphic-uming" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends fonts-arphic-uming >/dev/null
fi

"$PY" -m kazdiaspora.execute
rm -f "$PDF"
"$PY" -m kazdiaspora.jb build . --builder pdflatex -W -n --keep-going

test -s "$PDF" || { echo "error: $PDF was not written" >&2; exit 1; }
if grep -q "Missing character" "$LOG"; then
  echo "error: glyphs missing from the PDF's fonts (they print as nothing):" >&2
  grep "Missing character" "$LOG" | sed 's/^Missing character: //' | sort | uniq -c >&2
  exit 1
fi
echo "PDF: $PDF ($(du -h "$PDF" | cut -f1))"

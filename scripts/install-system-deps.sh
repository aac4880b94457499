#!/usr/bin/env bash
# Debian packages the project needs beyond Python: installed here, never by hand.
#   test — chromium (headless browser test of the built book)
#   pdf  — LaTeX (xelatex, latexmk) and fonts for `make pdf`
#   paper — Liberation Sans (metric-compatible with Arial/Helvetica) for `make paper-figures`
set -euo pipefail
what=${1:-test}
case "$what" in
  test) pkgs=(chromium) ; check='command -v chromium || test -x "${CHROMIUM:-}"' ;;  # CHROMIUM: a browser already there (CI)
  pdf)  pkgs=(latexmk texlive-latex-recommended texlive-latex-extra texlive-fonts-recommended tex-gyre
              texlive-xetex xindy fonts-freefont-otf fonts-arphic-uming) ; check="command -v xelatex && command -v latexmk" ;;
  paper) pkgs=(fonts-liberation2) ; check="test -f /usr/share/fonts/truetype/liberation2/LiberationSans-Regular.ttf" ;;
  *) echo "usage: $0 test|pdf|paper" >&2; exit 2 ;;
esac
if bash -c "$check" >/dev/null 2>&1; then exit 0; fi
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "installing Debian packages: ${pkgs[*]}" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null

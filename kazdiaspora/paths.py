"""Where things live in the repository. Every path is absolute and derived from this file."""
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = ROOT / "data"
DATAPACKAGE = DATA_DIR / "datapackage.json"
BIBFILE = ROOT / "references.bib"
NOTEBOOKS_DIR = ROOT / "notebooks"
FIGURES_DIR = ROOT / "figures"
BUILD_DIR = ROOT / "_build"

"""The book's key findings, computed once from data/ for every page that states them.

myst-nb 1.x cannot glue a value from one document into another, so the front page, the chapters'
*Key points* and the conclusion each glue the numbers themselves. They all take them from here, so
a number stated on the front page is the number stated in its chapter.

:func:`key_numbers` returns ``{name: Number}``; each :class:`Number` holds the text shown, the data
rows it was read from (``(table, id, column)``) and whether it is derived (computed by the book).
:func:`glue_all` glues them with their provenance (see :mod:`kazdiaspora.facts`).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from . import data, facts

FAMINE_WAVE = "famine_1930_1933"


@dataclass
class Number:
    text: str
    rows: list = field(default_factory=list)
    derived: bool = False


def fmt(x) -> str:
    return facts.fmt_number(x)


def row_number(table: str, rid: str, column: str | None = None) -> Number:
    """One row's figure: its value, or ``low–high`` when the source prints a range."""
    text, column = facts.row_figure(table, rid, column, fmt)
    return Number(text, [(table, rid, column)])


def is_flagged_error(df: pd.DataFrame) -> pd.Series:
    """Rows flagged as errors: the ``status`` column when present, else the flag in ``note``."""
    if "status" in df.columns:
        return df["status"].isin(["probable_error", "excluded"])
    note = df["note"].fillna("").str.lower()
    return note.str.contains("probably a typo|probable misprint|misreport|evident typo|typo:", regex=True)


def famine_deaths() -> pd.DataFrame:
    """Estimates of the deaths of the famine of 1930–1933 in Kazakhstan over the whole famine
    (not one year, not the whole USSR, not shares)."""
    f = data.load("wave_figures", where=("wave_id", [FAMINE_WAVE]))  # its rows only: see data.load
    d = f[(f["wave_id"] == FAMINE_WAVE) & (f["unit"] == "persons")
          & f["measure"].str.lower().str.startswith("deaths")]
    d = d[~d["geography"].str.startswith("USSR")]
    d = d[~d["period"].str.fullmatch(r"\d{4}")]
    return d


def famine_flight() -> pd.DataFrame:
    """Estimates of the people who left Kazakhstan during the famine (all destinations or abroad
    as a whole, not one region or one town)."""
    f = data.load("wave_figures", where=("wave_id", [FAMINE_WAVE]))  # its rows only: see data.load
    d = f[(f["wave_id"] == FAMINE_WAVE) & (f["unit"] == "persons")]
    words = "refugees$|fled|left for good|migrated outside|left the ussr|left the soviet"
    d = d[d["measure"].str.lower().str.contains(words, regex=True)
          & ~d["measure"].str.lower().str.contains("present in|in orenburg", regex=True)]
    return d


NOT_AN_ESTIMATE = r"^population of|^population alive|^kazakhs in the|camps at"
"""Famine-wave rows that are not estimates of deaths or of flight: populations before and after,
people in camps at railway stations (they stay in the data, cited where the text uses them)."""


def famine_estimates() -> pd.DataFrame:
    """Every estimate in the data of the famine's deaths and of the flight from it (the chapter's
    table): the rows of :func:`famine_deaths` and :func:`famine_flight` and every other famine
    figure in persons that is not a population count, with ``what`` = deaths or flight."""
    f = data.load("wave_figures", where=("wave_id", [FAMINE_WAVE]))  # its rows only: see data.load
    d = f[(f["wave_id"] == FAMINE_WAVE) & (f["unit"] == "persons") & (f["kind"] != "census")
          & ~f["measure"].str.lower().str.contains(NOT_AN_ESTIMATE, regex=True)].copy()
    d["what"] = ["deaths" if m.lower().startswith("deaths") else "flight" for m in d["measure"]]
    # what the source's words say: a figure known only from a summary of the page is not "as printed"
    from .evidence import NOT_IN_PASSAGE

    d["printed"] = [f"\u2014 (not in the passage we could read; summarised as {p})" if NOT_IN_PASSAGE in (n or "")
                    else p for p, n in zip(d["as_printed"], d["status_note"])]
    return d


def _span(df: pd.DataFrame, table: str) -> tuple[Number, Number]:
    lo = df["value"].fillna(df["value_low"])
    hi = df["value"].fillna(df["value_high"])
    rlo, rhi = df.loc[lo.idxmin()], df.loc[hi.idxmax()]
    clo = "value" if pd.notna(rlo["value"]) else "value_low"
    chi = "value" if pd.notna(rhi["value"]) else "value_high"
    return (Number(fmt(lo.min()), [(table, rlo["id"], clo)]), Number(fmt(hi.max()), [(table, rhi["id"], chi)]))


def _size() -> dict[str, Number]:
    """1. The diaspora's size: the association's claim against the sum of census counts (derived);
    2. concentration in China, Uzbekistan and Russia (derived from the map's figures)."""
    from .charts import population as pop

    out: dict[str, Number] = {}
    pe = pop.table()
    out["wak_total"] = row_number("population_estimates", "askhat_wak_xdi_5m_present")
    tot = pop.diaspora_totals_data(pe).set_index("id")
    offi = pop.official_by_country(pe)
    offi = offi[offi["basis"] == "official"]
    out["census_sum"] = Number(fmt(tot.at["derived_sum_official", "value"]),
                               [("population_estimates", i, "value") for i in sorted(offi["id"])], derived=True)
    out["n_census_countries"] = Number(str(len(offi)), derived=True)
    sd = pop.shares_data(pe).set_index("id")
    out["top3_map"] = Number(f"{sd.at['derived_top3_map', 'value']:.0f}", derived=True)
    out["top3_claim"] = row_number("population_estimates", "askhat_groups_top3_share")
    return out


def _famine() -> dict[str, Number]:
    """3. The famine: deaths and flight, every estimate."""
    out: dict[str, Number] = {}
    deaths = famine_deaths()
    out["n_famine_death_estimates"] = Number(str(len(deaths)), derived=True)
    out["n_famine_death_sources"] = Number(str(deaths["source_key"].nunique()), derived=True)
    out["famine_deaths_low"], out["famine_deaths_high"] = _span(deaths, "wave_figures")
    flight = famine_flight()
    out["n_famine_flight_estimates"] = Number(str(len(flight)), derived=True)
    out["famine_flight_low"], out["famine_flight_high"] = _span(flight, "wave_figures")
    return out


def _famine_china() -> dict[str, Number]:
    return {"famine_china": row_number("wave_figures", "fam_china_ablazhei")}


def _kashmir() -> dict[str, Number]:
    """4. Kashmir: Elishan Batyr's group."""
    return {"kashmir_start": row_number("wave_figures", "xj_elishan_start_askhat"),
            "kashmir_after": row_number("wave_figures", "xj_elishan_after_askhat")}


def _return() -> dict[str, Number]:
    """5. The return: latest cumulative total; Uzbekistan's share of all returnees."""
    from .charts import iran as ir

    out: dict[str, Number] = {}
    cum, _, _ = ir.cumulative_data()
    last = cum.sort_values("x").iloc[-1]
    out["return_total"] = row_number("repatriation", last["id"])
    out["return_total_period"] = Number(str(last["period"]), [("repatriation", last["id"], "period")])
    rep = data.load("repatriation")
    uz = rep[(rep["series"] == "origin_share_cumulative") & (rep["origin_iso3"] == "UZB")
             & (rep["kind"] == "official_statistics")]
    uz = uz[~is_flagged_error(uz)]
    lo, hi = uz.loc[uz["value"].idxmin()], uz.loc[uz["value"].idxmax()]
    out["uzb_share_low"] = Number(fmt(lo["value"]), [("repatriation", lo["id"], "value")])
    out["uzb_share_high"] = Number(fmt(hi["value"]), [("repatriation", hi["id"], "value")])
    out["uzb_share_sources"] = Number(";".join(sorted(uz["source_key"].unique())), derived=True)
    return out


def _iran() -> dict[str, Number]:
    """6. Iran: the community's size, and the returnees of the 1990s."""
    out: dict[str, Number] = {}
    iran = data.load("iran")
    pers = iran[(iran["series"] == "population") & (iran["unit"] == "persons") & iran["value"].notna()
                & iran["year_end"].notna() & (iran["source_key"] != "iran_kazakhs_article")]
    out["iran_low"], out["iran_high"] = _span(pers.assign(value_low=pd.NA, value_high=pd.NA), "iran")
    ret = iran[(iran["series"] == "returnees") & iran["value"].notna() & (iran["year_start"] < iran["year_end"])]
    r = ret.sort_values("year_end").iloc[-1]
    out["iran_returnees"] = row_number("iran", r["id"])
    out["iran_returnees_period"] = Number(str(r["period"]), [("iran", r["id"], "period")])
    return out


def _kaz_share() -> dict[str, Number]:
    """7. The demographic deficit that motivated the diaspora policy."""
    return {"kaz_share_1989": row_number("population_estimates", "askhat_kaz_1989_share")}


def _zhanaozen() -> dict[str, Number]:
    """8. Zhanaozen 2011: the official toll."""
    return {"zhanaozen_official": row_number("turning_points", "zhanaozen_2011", "toll")}


GROUPS = {
    ("wak_total", "census_sum", "n_census_countries", "top3_map", "top3_claim"): _size,
    ("n_famine_death_estimates", "n_famine_death_sources", "famine_deaths_low", "famine_deaths_high",
     "n_famine_flight_estimates", "famine_flight_low", "famine_flight_high"): _famine,
    ("famine_china",): _famine_china,
    ("kashmir_start", "kashmir_after"): _kashmir,
    ("return_total", "return_total_period", "uzb_share_low", "uzb_share_high", "uzb_share_sources"): _return,
    ("iran_low", "iran_high", "iran_returnees", "iran_returnees_period"): _iran,
    ("kaz_share_1989",): _kaz_share,
    ("zhanaozen_official",): _zhanaozen,
}
"""The key numbers, by the computation that gives them (in the order the front page states them)."""


def key_numbers(names=None) -> dict[str, Number]:
    """The key numbers (``names``: only these, and only what they need is read)."""
    known = [n for group in GROUPS for n in group]
    wanted = known if names is None else list(names)
    unknown = [n for n in wanted if n not in known]
    if unknown:
        raise KeyError(f"no key number {unknown[0]!r}; known: {', '.join(known)}")
    out: dict[str, Number] = {}
    for group, compute in GROUPS.items():
        if any(n in wanted for n in group):
            got = compute()
            if list(got) != list(group):
                raise RuntimeError(f"{compute.__name__} gave {list(got)}, GROUPS lists {list(group)}")
            out.update(got)
    return {n: out[n] for n in known if n in wanted}


def glue_all(prefix: str = "", numbers: dict[str, Number] | None = None, names=None) -> dict[str, Number]:
    """Glue every key number (``names``: only these; a chapter glues those its *Key points* state)
    as ``prefix + name`` with its provenance."""
    numbers = key_numbers(names) if numbers is None else numbers
    for name, n in numbers.items():
        facts.glue(prefix + name, n.text, rows=n.rows, derived=n.derived)
    return numbers

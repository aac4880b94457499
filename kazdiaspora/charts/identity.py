"""Identity chapter figures (temporary smoke test of the figure pipeline)."""
from .. import data, style
from ..figures import register


@register("scripts-count", chapter="04_identity_and_institutions", title="Scripts by number of host countries",
          caption=lambda d: f"Number of host countries per script ({len(d)} countries).",
          alt=lambda d: f"Bar chart of how many of {len(d)} host countries use each script.")
def scripts_count():
    df = data.load("scripts")
    fig, ax = style.new_figure(2.5, layout="constrained")
    c = df.groupby("script").size().sort_index()
    ax.bar(c.index, c.values)
    ax.set_ylabel("Host countries (count)")
    ax.set_title("Scripts")
    return fig, df

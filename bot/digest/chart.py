"""The digest's picture: RAG distribution over the last periods, the risk heatmap and, when
projects have a forecast at completion, a money panel below them (budget against forecast at
completion, per portfolio or for the ten projects with the largest overspend).

`ChartData` is what the digest computes (bot/digest.py); `render_chart` draws it as a PNG and
`alt_text` describes it in words (Slack shows that to screen readers and when images are off).

The PNG is made for Slack on a phone: 1200 x 700 px, taller by the money panel when it has rows
(shown ~380 px wide, so text is drawn large, ticks are few, and the panel's bars are horizontal,
names on the left, amounts at their ends), on a solid white card so it reads in dark mode too.
matplotlib is used through `Figure` + `FigureCanvasAgg` only (no pyplot, no global backend
switch, no rcParams changes): headless, and safe to call from any thread. The same data gives
the same bytes (the PNG carries no version stamp or date; the font is DejaVu Sans, shipped with
matplotlib).
"""

from __future__ import annotations

import math
import re
import threading
from dataclasses import dataclass
from decimal import Decimal
from io import BytesIO

from babel.numbers import format_compact_currency, format_compact_decimal, format_decimal
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle
from matplotlib.text import Text
from matplotlib.ticker import FuncFormatter, MaxNLocator

from bot.slack.gateway import MAX_ALT_TEXT


@dataclass(frozen=True, slots=True)
class PeriodCounts:
    """How many covered projects were red, amber, green or missing at one past digest."""

    label: str  # the period as the language writes it, e.g. "19 Nov"
    red: int
    amber: int
    green: int
    missing: int


@dataclass(frozen=True, slots=True)
class MoneyBar:
    """One row of the money panel: a portfolio's or a project's budget (BAC) and forecast at
    completion (EAC), summed over the projects with a forecast for a portfolio."""

    label: str | None  # a portfolio's name or a project's key; None: the projects in no portfolio
    budget: Decimal
    forecast: Decimal


@dataclass(frozen=True, slots=True)
class LoadCell:
    """One person's month in the capacity panel: their utilisation in percent (None: load
    with no time available at all) and its band (ok, full, over, severe; "none": nothing
    allocated)."""

    percent: int | None
    band: str


@dataclass(frozen=True, slots=True)
class LoadStrip:
    """One row of the capacity panel: a person (their name, as the digest knows it) and
    their months."""

    label: str
    cells: tuple[LoadCell, ...]


@dataclass(frozen=True, slots=True)
class ChartData:
    periods: tuple[PeriodCounts, ...]  # oldest first, at most eight
    heatmap: tuple[tuple[int, ...], ...]  # open risks: heatmap[impact - 1][probability - 1]
    title: str  # e.g. the subscription's name or channel, for the image title
    money: tuple[MoneyBar, ...] = ()  # the money panel's rows, top first (none: no panel)
    currency: str | None = None  # ISO 4217, for the panel's amounts
    # the capacity panel: the people over 100 % (most loaded first) and the months' labels
    loads: tuple[LoadStrip, ...] = ()
    months: tuple[str, ...] = ()


WIDTH_PX, HEIGHT_PX, DPI = 1200, 700, 200  # HEIGHT_PX: without the money panel
MAX_MONEY_ROWS = 10
MONEY_HEAD_PX, MONEY_ROW_PX, MONEY_FOOT_PX = 110, 60, 24
MAX_LOAD_ROWS = 8
LOAD_HEAD_PX, LOAD_ROW_PX, LOAD_FOOT_PX = 130, 48, 24
BUDGET_GREY = "#BDBDBD"
HIGH_SCORE = 15  # probability x impact from which a risk is "high" (as the consistency flag)
MAX_PERIODS = 8
FONT = "DejaVu Sans"

# Colour-blind-safe-ish shades (Okabe-Ito family) that also differ in lightness, so the stack
# still reads in grey: dark red at the bottom, light amber, mid green, hatched grey on top.
RED, AMBER, GREEN, MISSING = "#B2182B", "#E69F00", "#009E73", "#CFCFCF"
INK, SOFT_INK, GRID, BACKGROUND = "#1A1A1A", "#5A5A5A", "#E6E6E6", "#FFFFFF"
# Heatmap cells: pale tints by score zone (1-4, 5-9, 10-14, 15-25); occupied high cells solid.
ZONES = ((4, "#E4F3EB"), (9, "#FFF3CC"), (14, "#FDDFC4"), (25, "#F6CBC2"))
HOT = RED
# The capacity panel's cells by band: the heatmap's tints, the worst one solid (white text).
LOAD_TINTS = {
    "none": "#F4F4F4",
    "ok": "#E4F3EB",
    "full": "#FFF3CC",
    "over": "#F6CBC2",
    "severe": RED,
}

LINE_BREAKS = re.compile(r"[\t\n\r\f\v\x1c-\x1f\x85\u2028\u2029]+")
_LOCK = threading.Lock()  # matplotlib shares font caches between threads: one draw at a time

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "red": "Red",
        "amber": "Amber",
        "green": "Green",
        "missing": "Missing",
        "status": "Project status",
        "risks": "Open risks",
        "impact": "Impact \u2192",
        "probability": "Probability \u2192",
        "no_periods": "No reports yet",
        "no_risks": "No open risks",
        "money": "Budget and forecast at completion",
        "budget": "Budget",
        "within": "Forecast within budget",
        "over": "Forecast over budget",
        "no_portfolio": "No portfolio",
        "loads": "Over 100% in the next three months",
        "band_ok": "\u2264 90%",
        "band_full": "\u2264 100%",
        "band_over": "> 100%",
        "band_severe": "> 120%",
        "no_time": "no time",
    },
    "fr": {
        "red": "Rouge",
        "amber": "Orange",
        "green": "Vert",
        "missing": "Sans rapport",
        "status": "\u00c9tat des projets",
        "risks": "Risques ouverts",
        "impact": "Impact \u2192",
        "probability": "Probabilit\u00e9 \u2192",
        "no_periods": "Aucun rapport pour l\u2019instant",
        "no_risks": "Aucun risque ouvert",
        "money": "Budget et co\u00fbt pr\u00e9vu \u00e0 terminaison",
        "budget": "Budget",
        "within": "Pr\u00e9vu dans le budget",
        "over": "Pr\u00e9vu au-del\u00e0 du budget",
        "no_portfolio": "Sans portefeuille",
        "loads": "Au-del\u00e0 de 100\u00a0% d\u2019ici trois mois",
        "band_ok": "\u2264 90\u00a0%",
        "band_full": "\u2264 100\u00a0%",
        "band_over": "> 100\u00a0%",
        "band_severe": "> 120\u00a0%",
        "no_time": "aucun temps",
    },
}

ALT: dict[str, dict[str, str]] = {
    "en": {
        "intro": "{title}project status over {n} periods ({first} to {last}) and open risks.",
        "intro_one": "{title}project status at {last} and open risks.",
        "intro_none": "{title}no project status reported yet.",
        "latest": "Latest ({last}): {red} red, {amber} amber, {green} green, {missing} missing.",
        "change": "Since {prev}: {moves}.",
        "no_change": "No change since {prev}.",
        "trend": "Red per period: {values}.",
        "risks": "{n} open risks, {high} scored {score} or more (probability \u00d7 impact)",
        "top": "; highest score {top} (impact {impact}, probability {probability})",
        "no_risks": "No open risks.",
        "title": "{title}: ",
        "red": "red",
        "amber": "amber",
        "green": "green",
        "missing": "missing",
        "money": "Budget against forecast at completion: {rows}.",
        "money_row": "{label} {forecast} for {budget}{change}",
        "loads": "People over 100% of their time: {rows}.",
        "load_row": "{label} {cells}",
        "load_cell": "{percent} in {month}",
    },
    "fr": {
        "intro": "{title}\u00e9tat des projets sur {n} p\u00e9riodes (du {first} au {last})"
        " et risques ouverts.",
        "intro_one": "{title}\u00e9tat des projets au {last} et risques ouverts.",
        "intro_none": "{title}aucun \u00e9tat de projet re\u00e7u pour l\u2019instant.",
        "latest": "Derni\u00e8re p\u00e9riode ({last}) : rouge {red}, orange {amber},"
        " vert {green}, sans rapport {missing}.",
        "change": "Depuis le {prev} : {moves}.",
        "no_change": "Aucun changement depuis le {prev}.",
        "trend": "Rouges par p\u00e9riode : {values}.",
        "risks": "Risques ouverts : {n}, dont {high} avec un score de {score} ou plus"
        " (probabilit\u00e9 \u00d7 impact)",
        "top": " ; score le plus \u00e9lev\u00e9 {top} (impact {impact},"
        " probabilit\u00e9 {probability})",
        "no_risks": "Aucun risque ouvert.",
        "title": "{title} : ",
        "red": "rouge",
        "amber": "orange",
        "green": "vert",
        "missing": "sans rapport",
        "money": "Budget et co\u00fbt pr\u00e9vu \u00e0 terminaison : {rows}.",
        "money_row": "{label} {forecast} pour {budget}{change}",
        "loads": "Personnes au-del\u00e0 de 100\u00a0% de leur temps\u00a0: {rows}.",
        "load_row": "{label} {cells}",
        "load_cell": "{percent} en {month}",
    },
}


def _lang(language: str) -> str:
    """ "fr", "fr-FR", "fr_CA" -> "fr"; anything without labels here -> "en"."""
    code = (language or "en").replace("-", "_").split("_", 1)[0].lower()
    return code if code in LABELS else "en"


def _grid(data: ChartData) -> list[list[int]]:
    """The heatmap as 5 x 5 non-negative counts, [impact - 1][probability - 1], whatever the
    shape it came in (an empty tuple is an empty heatmap)."""
    grid = [[0] * 5 for _ in range(5)]
    for i, row in enumerate(data.heatmap[:5]):
        for p, count in enumerate(row[:5]):
            grid[i][p] = max(0, int(count))
    return grid


def _counts(period: PeriodCounts) -> tuple[int, int, int, int]:
    """Red, amber, green, missing (bottom to top of a bar), never negative."""
    return (
        max(0, period.red),
        max(0, period.amber),
        max(0, period.green),
        max(0, period.missing),
    )


def _periods(data: ChartData) -> tuple[PeriodCounts, ...]:
    return data.periods[-MAX_PERIODS:]


def _plain(text: str) -> str:
    """Text drawn as typed: matplotlib would read `$...$` as mathematics."""
    return text.replace("$", r"\$")


def _clip(text: str, limit: int) -> str:
    """`text` on one line (line breaks and tabs become spaces; no-break spaces stay), cut to
    `limit` characters with an ellipsis."""
    text = LINE_BREAKS.sub(" ", text).strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "\u2026"


def _number(value: int, lang: str) -> str:
    return format_decimal(value, locale=lang)


def _signed(value: int, lang: str) -> str:
    return ("+" if value > 0 else "\u2212") + _number(abs(value), lang)


# ---------------------------------------------------------------------------------------------
# The PNG


def render_chart(data: ChartData, language: str = "en") -> bytes:
    """The digest's picture as a PNG WIDTH_PX wide and `chart_height(data)` high: stacked RAG
    bars over the periods (left) and the 5 x 5 heatmap of open risks (right), then the money
    panel when there is one. The same data gives the same bytes."""
    lang = _lang(language)
    words = LABELS[lang]
    rows = data.money[:MAX_MONEY_ROWS]
    loads = data.loads[:MAX_LOAD_ROWS]
    total = chart_height(data)
    panel = total - HEIGHT_PX
    below_money = _loads_height(data)  # the capacity panel is at the bottom

    def band(share: float) -> float:
        """A height in the top band (a share of its HEIGHT_PX), as a share of the figure."""
        return share if not panel else (panel + share * HEIGHT_PX) / total

    def span(share: float) -> float:
        return share if not panel else share * HEIGHT_PX / total

    with _LOCK:
        figure = Figure(figsize=(WIDTH_PX / DPI, total / DPI), dpi=DPI, facecolor=BACKGROUND)
        FigureCanvasAgg(figure)
        _title(figure, data.title, top=band(0.965))
        # Square heatmap: its height in pixels, as a share of the width.
        bottom, height = 0.2, 0.56
        side = height * HEIGHT_PX / WIDTH_PX
        bars = figure.add_axes((0.07, band(bottom), 0.505, span(height)))
        heat = figure.add_axes((0.975 - side, band(bottom), side, span(height)))
        header = _draw_heatmap(heat, _grid(data), words, lang)
        _draw_bars(figure, bars, _periods(data), words, lang)
        _legend(figure, words, clear_of=header, top=band(bottom + height * 1.06) - span(0.02))
        if rows:
            _draw_money(figure, rows, words, lang, data.currency, total, base=below_money)
        if loads:
            _draw_loads(figure, loads, data.months, words, lang, total, top=below_money)
        out = BytesIO()
        figure.savefig(
            out,
            format="png",
            dpi=DPI,
            facecolor=BACKGROUND,
            metadata={"Software": None},  # no version stamp: stable bytes across upgrades
        )
    return out.getvalue()


def chart_height(data: ChartData) -> int:
    """The PNG's height in pixels: HEIGHT_PX, and the money panel's and the capacity panel's
    when they have rows."""
    rows = len(data.money[:MAX_MONEY_ROWS])
    money = MONEY_HEAD_PX + rows * MONEY_ROW_PX + MONEY_FOOT_PX if rows else 0
    return HEIGHT_PX + money + _loads_height(data)


def _loads_height(data: ChartData) -> int:
    rows = len(data.loads[:MAX_LOAD_ROWS])
    return LOAD_HEAD_PX + rows * LOAD_ROW_PX + LOAD_FOOT_PX if rows else 0


def _title(figure: Figure, title: str, *, top: float) -> None:
    """The image's title, top left, shortened (with an ellipsis) to the width of the image."""
    text = figure.text(0.018, top, "", fontsize=15, fontweight="bold", color=INK, family=FONT)
    text.set_verticalalignment("top")
    renderer = figure.canvas.get_renderer()  # type: ignore[attr-defined]
    title = _clip(title, 80)
    for length in range(len(title), 0, -1):
        text.set_text(_plain(_clip(title, length)))
        if text.get_window_extent(renderer).x1 <= 0.975 * WIDTH_PX:
            return


def _style(axes: Axes) -> None:
    axes.set_facecolor(BACKGROUND)
    axes.tick_params(labelsize=12, colors=SOFT_INK, length=0, pad=6)
    for label in (*axes.get_xticklabels(), *axes.get_yticklabels()):
        label.set_fontfamily(FONT)


def _header(axes: Axes, text: str) -> Text:
    return axes.text(
        0.5,
        1.05,
        text,
        transform=axes.transAxes,
        fontsize=13,
        fontweight="bold",
        color=INK,
        family=FONT,
        ha="center",
        va="bottom",
    )


def _tick_label(label: str) -> str:
    """ "19 Nov" -> "19\\nNov": two short lines fit eight periods on a phone."""
    head, *tail = re.split("[ \u00a0\u202f]", _clip(label, 14), maxsplit=1)
    return _plain(f"{head}\n{tail[0]}" if tail else head)


SERIES = (  # bottom to top: key, fill, colour of the count drawn on it, hatch
    ("red", RED, "white", ""),
    ("amber", AMBER, INK, ""),
    ("green", GREEN, INK, ""),
    ("missing", MISSING, INK, "///"),
)


def _text_width(figure: Figure, text: str, size: float) -> float:
    """The width in pixels `text` takes in `figure`'s font at `size` points."""
    probe = figure.text(0, 0, text, fontsize=size, family=FONT)
    width = float(probe.get_window_extent(figure.canvas.get_renderer()).width)  # type: ignore[attr-defined]
    probe.remove()
    return width


def _legend(figure: Figure, words: dict[str, str], *, clear_of: Text, top: float) -> None:
    """The RAG legend on one row above the bars (its bottom at `top`), in the largest size
    (12 pt down to 9) that keeps it clear of `clear_of`, the heatmap's header (French words are
    longer)."""
    renderer = figure.canvas.get_renderer()  # type: ignore[attr-defined]
    limit = clear_of.get_window_extent(renderer).x0 - 0.02 * WIDTH_PX
    for size in (12, 11, 10, 9):
        legend = figure.legend(
            handles=[
                Patch(facecolor=color, edgecolor="white" if not hatch else SOFT_INK, hatch=hatch)
                for _, color, _, hatch in SERIES
            ],
            labels=[words[key] for key, *_ in SERIES],
            loc="lower left",
            bbox_to_anchor=(0.018, top),
            ncol=len(SERIES),
            frameon=False,
            handlelength=1.1,
            handleheight=1.1,
            handletextpad=0.4,
            columnspacing=0.9,
            borderaxespad=0.0,
            borderpad=0.0,
            labelcolor=INK,
            prop={"family": FONT, "size": size},
        )
        if legend.get_window_extent(renderer).x1 <= limit or size == 9:
            return
        legend.remove()


def _draw_bars(
    figure: Figure,
    axes: Axes,
    periods: tuple[PeriodCounts, ...],
    words: dict[str, str],
    lang: str,
) -> None:
    """Stacked bars, one per period (oldest left), red at the bottom; counts on the segments
    that have room for them."""
    for side in ("top", "right", "left"):
        axes.spines[side].set_visible(False)
    axes.spines["bottom"].set_color(SOFT_INK)
    slots = max(len(periods), 4)  # a short history does not get fat bars
    axes.set_xlim(-0.6, slots - 0.4)
    if not periods:
        axes.set_ylim(0, 1)
        axes.set_yticks([])
        axes.set_xticks([])
        axes.text(
            0.5,
            0.5,
            words["no_periods"],
            transform=axes.transAxes,
            ha="center",
            va="center",
            fontsize=13,
            color=SOFT_INK,
            family=FONT,
        )
        _style(axes)
        return
    top = max(max(sum(_counts(p)) for p in periods), 1)
    axes.set_ylim(0, top * 1.04)
    axes.yaxis.set_major_locator(MaxNLocator(nbins=4, integer=True, min_n_ticks=2))
    axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _: _number(round(value), lang)))
    # Make room on the left for the widest count on the axis ("2 400" is wider than "24").
    ticks = [t for t in axes.get_yticks() if 0 <= t <= top * 1.04]
    widest = max(_text_width(figure, _number(round(t), lang), 11) for t in ticks)
    box = axes.get_position()
    left = max(box.x0, 0.018 + (widest + 14) / WIDTH_PX)
    axes.set_position((left, box.y0, box.x1 - left, box.height))
    axes.grid(axis="y", color=GRID, linewidth=1.0)
    axes.set_axisbelow(True)
    xs = list(range(len(periods)))
    base = [0] * len(periods)
    for serie in SERIES:
        _, color, text_color, hatch = serie
        values = [_counts(p)[SERIES.index(serie)] for p in periods]
        axes.bar(
            xs,
            values,
            bottom=base,
            width=0.72,
            color=color,
            edgecolor="white" if not hatch else SOFT_INK,
            linewidth=0.8 if not hatch else 0.0,
            hatch=hatch,
        )
        for x, value, below in zip(xs, values, base, strict=True):
            if value and value / top >= 0.085:  # room for the number inside the segment
                axes.text(
                    x,
                    below + value / 2,
                    _number(value, lang),
                    ha="center",
                    va="center",
                    fontsize=11 if value < 100 else 9 if value < 1000 else 7,
                    fontweight="bold",
                    color=text_color,
                    family=FONT,
                    bbox={"boxstyle": "round,pad=0.15", "fc": MISSING, "ec": "none"}
                    if hatch
                    else None,
                )
        base = [b + v for b, v in zip(base, values, strict=True)]
    # Label every period if the labels fit side by side, else every other one (ending on the
    # latest): measured, since "7 janv." is wider than "7 Jan".
    labels = [_tick_label(p.label) for p in periods]
    slot = axes.get_position().width * WIDTH_PX / (slots + 0.2)
    widest = max(_text_width(figure, line, 12) for label in labels for line in label.split("\n"))
    step = max(1, math.ceil((widest + 8) / slot))
    shown = [label if (len(labels) - 1 - i) % step == 0 else "" for i, label in enumerate(labels)]
    axes.set_xticks(xs, shown)
    _style(axes)
    for label in axes.get_yticklabels():
        label.set_fontsize(11)


def _draw_heatmap(axes: Axes, grid: list[list[int]], words: dict[str, str], lang: str) -> Text:
    """The 5 x 5 risk matrix (probability across, impact up) with its counts; returns its
    header, which the legend must stay clear of."""
    axes.set_xlim(0.5, 5.5)
    axes.set_ylim(0.5, 5.5)
    axes.set_aspect("equal")
    for spine in axes.spines.values():
        spine.set_visible(False)
    header = _header(axes, words["risks"])
    for impact in range(1, 6):
        for probability in range(1, 6):
            score = impact * probability
            count = grid[impact - 1][probability - 1]
            tint = next(color for limit, color in ZONES if score <= limit)
            hot = score >= HIGH_SCORE and count > 0
            axes.add_patch(
                Rectangle(
                    (probability - 0.5, impact - 0.5),
                    1,
                    1,
                    facecolor=HOT if hot else tint,
                    edgecolor="white",
                    linewidth=2.0,
                )
            )
            if count:
                axes.text(
                    probability,
                    impact,
                    _number(count, lang),
                    ha="center",
                    va="center",
                    fontsize=14 if count < 100 else 11 if count < 1000 else 9,
                    fontweight="bold",
                    color="white" if hot else INK,
                    family=FONT,
                )
    # Outline the high-score corner (probability x impact >= HIGH_SCORE): a staircase.
    corner: list[tuple[float, float]] = [(5.5, 5.5)]
    for impact in range(5, 0, -1):
        first = next((p for p in range(1, 6) if p * impact >= HIGH_SCORE), None)
        if first is None:
            break
        corner += [(first - 0.5, impact + 0.5), (first - 0.5, impact - 0.5)]
    corner.append((5.5, corner[-1][1]))
    xs, ys = zip(*corner, strict=True)
    axes.plot((*xs, xs[0]), (*ys, ys[0]), color=INK, linewidth=2.2, solid_joinstyle="miter")
    axes.set_xticks(range(1, 6))
    axes.set_yticks(range(1, 6))
    axes.set_xlabel(words["probability"], fontsize=12, color=INK, family=FONT, labelpad=4)
    axes.set_ylabel(words["impact"], fontsize=12, color=INK, family=FONT, labelpad=4)
    _style(axes)
    if not any(any(row) for row in grid):
        axes.text(
            3,
            3,
            words["no_risks"],
            ha="center",
            va="center",
            fontsize=12,
            color=INK,
            family=FONT,
            bbox={"boxstyle": "round,pad=0.4", "fc": "white", "ec": GRID},
        )
    return header


def _money_label(bar: MoneyBar, words: dict[str, str]) -> str:
    return _clip(bar.label if bar.label is not None else words["no_portfolio"], 20)


def _amount(value: Decimal, currency: str | None, lang: str) -> str:
    """An amount in few characters, the language's way ("€1.25M", "1,25 M €"), to three
    significant digits first (Babel's compact form would write 999,999 as "€1000K")."""
    if abs(value) >= 1000:
        digits = len(str(int(abs(value))))
        value = round(value, 3 - digits)
    if currency:
        return str(format_compact_currency(value, currency, locale=lang, fraction_digits=2))
    return str(format_compact_decimal(value, locale=lang, fraction_digits=2))


def _change(bar: MoneyBar, lang: str) -> str:
    """How far the forecast is from the budget, in whole percent ("+25%", "+25 %" in French),
    "" without a budget."""
    if bar.budget <= 0:
        return ""
    percent = round((bar.forecast - bar.budget) / bar.budget * 100)
    sign = "+" if percent > 0 else "\u2212" if percent < 0 else "\u00b1"
    return f"{sign}{abs(percent)}" + ("\u00a0%" if lang == "fr" else "%")


def _panel_head(
    figure: Figure,
    title: str,
    handles: list[Patch],
    labels: list[str],
    *,
    top: float,
    total: int,
) -> None:
    """A panel's title, and its legend in a row under it (the money and capacity panels)."""
    figure.text(
        0.018, top, _plain(title), fontsize=13, fontweight="bold", color=INK, family=FONT, va="top"
    )
    figure.legend(
        handles=handles,
        labels=labels,
        loc="upper left",
        bbox_to_anchor=(0.018, top - 40 / total),
        ncol=len(handles),
        frameon=False,
        handlelength=1.1,
        handleheight=1.1,
        handletextpad=0.4,
        columnspacing=1.2,
        borderaxespad=0.0,
        borderpad=0.0,
        labelcolor=INK,
        prop={"family": FONT, "size": 11},
    )


def _draw_money(
    figure: Figure,
    rows: tuple[MoneyBar, ...],
    words: dict[str, str],
    lang: str,
    currency: str | None,
    total: int,
    *,
    base: int = 0,
) -> None:
    """The money panel, under the top band (its bottom `base` pixels above the figure's): for
    each row (the worst first, at the top), the budget in grey and the forecast at completion
    under it, green within the budget and red over it, each with its amount at its end (and
    the forecast's change); names on the left."""
    n = len(rows)
    renderer = figure.canvas.get_renderer()  # type: ignore[attr-defined]
    head_top = (total - HEIGHT_PX - 18) / total
    handles = [Patch(facecolor=c, edgecolor="none") for c in (BUDGET_GREY, GREEN, RED)]
    labels = [words["budget"], words["within"], words["over"]]
    _panel_head(figure, words["money"], handles, labels, top=head_top, total=total)
    labels = [_plain(_money_label(bar, words)) for bar in rows]
    widest = max(_text_width(figure, label, 12) for label in labels)
    left = 0.018 + (widest + 12) / WIDTH_PX
    axes = figure.add_axes(
        (left, (base + MONEY_FOOT_PX) / total, 0.975 - left, n * MONEY_ROW_PX / total)
    )
    for side in ("top", "right", "bottom"):
        axes.spines[side].set_visible(False)
    axes.spines["left"].set_color(SOFT_INK)
    axes.set_ylim(-0.5, n - 0.5)
    top = max(max(float(bar.budget), float(bar.forecast)) for bar in rows) or 1.0
    axes.set_xlim(0, top)
    ys = [n - 1 - i for i in range(n)]
    budgets = [max(0.0, float(bar.budget)) for bar in rows]
    forecasts = [max(0.0, float(bar.forecast)) for bar in rows]
    colours = [RED if bar.forecast > bar.budget else GREEN for bar in rows]
    axes.barh([y + 0.19 for y in ys], budgets, height=0.36, color=BUDGET_GREY)
    axes.barh([y - 0.19 for y in ys], forecasts, height=0.36, color=colours)
    # Amounts at the bars' ends; the axis is stretched until the longest one fits.
    notes = []
    for y, bar, budget, forecast in zip(ys, rows, budgets, forecasts, strict=True):
        change = _change(bar, lang)
        forecast_note = _amount(bar.forecast, currency, lang) + (f" ({change})" if change else "")
        for at, value, note, bold in (
            (y + 0.19, budget, _amount(bar.budget, currency, lang), False),
            (y - 0.19, forecast, forecast_note, True),
        ):
            notes.append(
                axes.text(
                    value,
                    at,
                    " " + _plain(note),
                    ha="left",
                    va="center",
                    fontsize=10,
                    fontweight="bold" if bold else "normal",
                    color=INK,
                    family=FONT,
                )
            )
    width = axes.get_window_extent(renderer).width
    reach = max(float(n.get_window_extent(renderer).x1) for n in notes)
    x0 = axes.get_window_extent(renderer).x0
    if reach > x0 + width:  # make room: shrink the scale so the widest note ends in the axes
        longest = max(float(n.get_window_extent(renderer).width) for n in notes)
        axes.set_xlim(0, top * width / max(width - longest - 4, width * 0.3))
    axes.set_yticks(ys, labels)
    axes.set_xticks([])
    _style(axes)
    for label in axes.get_yticklabels():
        label.set_fontsize(12)
        label.set_color(INK)


def _percent(cell: LoadCell, words: dict[str, str], lang: str) -> str:
    if cell.band == "none":
        return "\u2013"
    if cell.percent is None:
        return words["no_time"]
    return _number(cell.percent, lang) + ("\u00a0%" if lang == "fr" else "%")


def _draw_loads(
    figure: Figure,
    rows: tuple[LoadStrip, ...],
    months: tuple[str, ...],
    words: dict[str, str],
    lang: str,
    total: int,
    *,
    top: int,
) -> None:
    """The capacity panel, at the bottom (`top` pixels high): for each person over 100 % in
    a month (the most loaded first, at the top), a cell a month on its band's tint with the
    utilisation written in it; names on the left, months above."""
    n, columns = len(rows), max(len(months), 1)
    bands = ("ok", "full", "over", "severe")
    handles = [Patch(facecolor=LOAD_TINTS[b], edgecolor=GRID) for b in bands]
    labels = [words[f"band_{b}"] for b in bands]
    _panel_head(figure, words["loads"], handles, labels, top=(top - 18) / total, total=total)
    labels = [_clip(_plain(row.label), 28) for row in rows]
    widest = max(_text_width(figure, label, 12) for label in labels)
    left = 0.018 + (widest + 12) / WIDTH_PX
    axes = figure.add_axes(
        (left, LOAD_FOOT_PX / total, 0.975 - left, (n * LOAD_ROW_PX + 30) / total)
    )
    axes.set_xlim(0, columns)
    axes.set_ylim(0, n + 30 / LOAD_ROW_PX)
    axes.axis("off")
    for c, month in enumerate(months):
        axes.text(
            c + 0.5,
            n + 0.3,
            _clip(_plain(month), 20),
            ha="center",
            va="center",
            fontsize=11,
            color=SOFT_INK,
            family=FONT,
        )
    for r, row in enumerate(rows):
        y = n - 1 - r
        axes.text(
            -0.03,
            y + 0.5,
            labels[r],
            ha="right",
            va="center",
            fontsize=12,
            color=INK,
            family=FONT,
            transform=axes.transData,
        )
        for c, cell in enumerate(row.cells[:columns]):
            tint = LOAD_TINTS.get(cell.band, LOAD_TINTS["none"])
            axes.add_patch(
                Rectangle((c + 0.03, y + 0.08), 0.94, 0.84, facecolor=tint, edgecolor="none")
            )
            axes.text(
                c + 0.5,
                y + 0.5,
                _percent(cell, words, lang),
                ha="center",
                va="center",
                fontsize=12,
                fontweight="bold" if cell.band in ("over", "severe") else "normal",
                color=BACKGROUND if cell.band == "severe" else INK,
                family=FONT,
            )


# ---------------------------------------------------------------------------------------------
# The words


def alt_text(data: ChartData, language: str = "en") -> str:
    """What the chart shows, in words (at most MAX_ALT_TEXT characters): the latest RAG counts,
    the change since the period before, red over the periods, and the open risks by score."""
    lang = _lang(language)
    words = ALT[lang]
    periods = _periods(data)
    title = words["title"].format(title=_clip(data.title, 100)) if data.title.strip() else ""
    sentences: list[str] = []
    if not periods:
        sentences.append(words["intro_none"].format(title=title))
    else:
        last = periods[-1]
        if len(periods) == 1:
            sentences.append(words["intro_one"].format(title=title, last=_clip(last.label, 30)))
        else:
            sentences.append(
                words["intro"].format(
                    title=title,
                    n=len(periods),
                    first=_clip(periods[0].label, 30),
                    last=_clip(last.label, 30),
                )
            )
        red, amber, green, missing = (_number(n, lang) for n in _counts(last))
        sentences.append(
            words["latest"].format(
                last=_clip(last.label, 30), red=red, amber=amber, green=green, missing=missing
            )
        )
        if len(periods) > 1:
            prev = periods[-2]
            moves = [
                f"{words[key]} {_signed(now - before, lang)}"
                for key, now, before in zip(
                    ("red", "amber", "green", "missing"), _counts(last), _counts(prev), strict=True
                )
                if now != before
            ]
            template = words["change"] if moves else words["no_change"]
            sentences.append(template.format(prev=_clip(prev.label, 30), moves=", ".join(moves)))
            sentences.append(
                words["trend"].format(
                    values=", ".join(_number(_counts(p)[0], lang) for p in periods)
                )
            )
    grid = _grid(data)
    total = sum(sum(row) for row in grid)
    if not total:
        sentences.append(words["no_risks"])
    else:
        high = sum(
            grid[i - 1][p - 1] for i in range(1, 6) for p in range(1, 6) if i * p >= HIGH_SCORE
        )
        impact, probability = max(
            ((i, p) for i in range(1, 6) for p in range(1, 6) if grid[i - 1][p - 1]),
            key=lambda ip: (ip[0] * ip[1], ip[0]),
        )
        sentence = words["risks"].format(
            n=_number(total, lang), high=_number(high, lang), score=HIGH_SCORE
        )
        sentence += words["top"].format(
            top=impact * probability, impact=impact, probability=probability
        )
        sentences.append(sentence + ".")
    if data.money:
        sentences.append(_money_sentence(data, lang))
    if data.loads:
        sentences.append(_loads_sentence(data, lang))
    sentences[0] = sentences[0][:1].upper() + sentences[0][1:]
    return _clip(" ".join(sentences), MAX_ALT_TEXT)


def _money_sentence(data: ChartData, lang: str) -> str:
    words = ALT[lang]
    rows = []
    for bar in data.money[:MAX_MONEY_ROWS]:
        change = _change(bar, lang)
        rows.append(
            words["money_row"].format(
                label=_money_label(bar, LABELS[lang]),
                forecast=_amount(bar.forecast, data.currency, lang),
                budget=_amount(bar.budget, data.currency, lang),
                change=f" ({change})" if change else "",
            )
        )
    return words["money"].format(rows="; ".join(rows))


def _loads_sentence(data: ChartData, lang: str) -> str:
    words, labels = ALT[lang], LABELS[lang]
    rows = []
    for row in data.loads[:MAX_LOAD_ROWS]:
        cells = [
            words["load_cell"].format(percent=_percent(cell, labels, lang), month=month)
            for cell, month in zip(row.cells, data.months, strict=False)
            if cell.band in ("over", "severe")
        ]
        rows.append(words["load_row"].format(label=_clip(row.label, 40), cells=", ".join(cells)))
    return words["loads"].format(rows="; ".join(rows))

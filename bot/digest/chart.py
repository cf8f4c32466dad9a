"""The digest's picture: RAG distribution over the last periods, and the risk heatmap.

`ChartData` is what the digest computes (bot/digest.py); `render_chart` draws it as a PNG and
`alt_text` describes it in words (Slack shows that to screen readers and when images are off).

The PNG is made for Slack on a phone: 1200 x 700 px (shown ~380 px wide, so text is drawn
large and ticks are few), on a solid white card so it reads in dark mode too. matplotlib is used
through `Figure` + `FigureCanvasAgg` only (no pyplot, no global backend switch, no rcParams
changes): headless, and safe to call from any thread. The same data gives the same bytes (the
PNG carries no version stamp or date; the font is DejaVu Sans, shipped with matplotlib).
"""

from __future__ import annotations

import math
import re
import threading
from dataclasses import dataclass
from io import BytesIO

from babel.numbers import format_decimal
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
class ChartData:
    periods: tuple[PeriodCounts, ...]  # oldest first, at most eight
    heatmap: tuple[tuple[int, ...], ...]  # open risks: heatmap[impact - 1][probability - 1]
    title: str  # e.g. the subscription's name or channel, for the image title


WIDTH_PX, HEIGHT_PX, DPI = 1200, 700, 200
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
    """The digest's picture as a PNG of WIDTH_PX x HEIGHT_PX: stacked RAG bars over the periods
    (left) and the 5 x 5 heatmap of open risks (right). The same data gives the same bytes."""
    lang = _lang(language)
    words = LABELS[lang]
    with _LOCK:
        figure = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI, facecolor=BACKGROUND)
        FigureCanvasAgg(figure)
        _title(figure, data.title)
        # Square heatmap: its height in pixels, as a share of the width.
        bottom, height = 0.2, 0.56
        side = height * HEIGHT_PX / WIDTH_PX
        bars = figure.add_axes((0.07, bottom, 0.505, height))
        heat = figure.add_axes((0.975 - side, bottom, side, height))
        header = _draw_heatmap(heat, _grid(data), words, lang)
        _draw_bars(figure, bars, _periods(data), words, lang)
        _legend(figure, words, clear_of=header, top=bottom + height * 1.06)
        out = BytesIO()
        figure.savefig(
            out,
            format="png",
            dpi=DPI,
            facecolor=BACKGROUND,
            metadata={"Software": None},  # no version stamp: stable bytes across upgrades
        )
    return out.getvalue()


def _title(figure: Figure, title: str) -> None:
    """The image's title, top left, shortened (with an ellipsis) to the width of the image."""
    text = figure.text(0.018, 0.965, "", fontsize=15, fontweight="bold", color=INK, family=FONT)
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
    """The RAG legend on one row above the bars, in the largest size (12 pt down to 9) that
    keeps it clear of `clear_of`, the heatmap's header (French words are longer)."""
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
            bbox_to_anchor=(0.018, top - 0.02),
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
    sentences[0] = sentences[0][:1].upper() + sentences[0][1:]
    return _clip(" ".join(sentences), MAX_ALT_TEXT)

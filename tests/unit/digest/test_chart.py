"""The digest's chart: a PNG of a known size, stable bytes, readable when empty, with its money
panel when projects have a forecast at completion, described in words in English and French."""

from __future__ import annotations

import io
import re
import struct
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from decimal import Decimal

import pytest
from PIL import Image

from bot.digest.chart import (
    BUDGET_GREY,
    GREEN,
    HEIGHT_PX,
    HOT,
    LOAD_FOOT_PX,
    LOAD_HEAD_PX,
    LOAD_ROW_PX,
    LOAD_TINTS,
    MONEY_FOOT_PX,
    MONEY_HEAD_PX,
    MONEY_ROW_PX,
    RED,
    WIDTH_PX,
    ZONES,
    ChartData,
    LoadCell,
    LoadStrip,
    MoneyBar,
    PeriodCounts,
    alt_text,
    chart_height,
    render_chart,
)
from bot.slack.gateway import MAX_ALT_TEXT

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
LABELS = ("19 Nov", "26 Nov", "3 Dec", "10 Dec", "17 Dec", "24 Dec", "31 Dec", "7 Jan")
COUNTS = (
    (1, 4, 14, 3),
    (1, 5, 13, 3),
    (2, 5, 13, 2),
    (2, 6, 12, 2),
    (3, 5, 12, 2),
    (3, 6, 11, 2),
    (2, 5, 13, 2),
    (3, 5, 12, 2),
)
# heatmap[impact - 1][probability - 1]: 20 open risks, 6 of them scored 15 or more.
HEATMAP = (
    (2, 1, 0, 0, 0),
    (1, 3, 2, 0, 0),
    (0, 2, 1, 1, 0),
    (0, 1, 0, 2, 1),
    (0, 0, 1, 1, 1),
)
HISTORY = ChartData(
    periods=tuple(PeriodCounts(label, *c) for label, c in zip(LABELS, COUNTS, strict=True)),
    heatmap=HEATMAP,
    title="Leadership · #leadership",
)
EMPTY = ChartData(periods=(), heatmap=(), title="#leadership")


def png_size(png: bytes) -> tuple[int, int]:
    """Width and height from the IHDR chunk, which a PNG must start with."""
    assert png[:8] == PNG_SIGNATURE
    assert png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def pixel(png: bytes, x: int, y: int) -> tuple[int, ...]:
    with Image.open(io.BytesIO(png)) as image:
        return tuple(image.convert("RGBA").getpixel((x, y)))  # type: ignore[arg-type]


def rgba(hex_colour: str) -> tuple[int, int, int, int]:
    return (*(int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)), 255)  # type: ignore[return-value]


def heat_cell_corner(probability: int, impact: int) -> tuple[int, int]:
    """A pixel just inside the lower-left corner of a heatmap cell (clear of its count)."""
    bottom, height = 0.2, 0.56  # the heatmap's axes, as render_chart lays them out
    side = height * HEIGHT_PX / WIDTH_PX
    left = 0.975 - side
    x = (left + side * ((probability - 1) / 5 + 0.03)) * WIDTH_PX
    y = (bottom + height * ((impact - 1) / 5 + 0.03)) * HEIGHT_PX
    return round(x), HEIGHT_PX - round(y)


@pytest.fixture(scope="module")
def english() -> bytes:
    return render_chart(HISTORY, "en")


def test_the_chart_is_a_png_of_the_size_slack_shows_well(english: bytes) -> None:
    assert english.startswith(PNG_SIGNATURE)
    assert png_size(english) == (WIDTH_PX, HEIGHT_PX) == (1200, 700)
    with Image.open(io.BytesIO(english)) as image:
        image.verify()  # a complete, uncorrupted PNG
    with Image.open(io.BytesIO(english)) as image:
        assert image.size == (1200, 700)
        assert image.format == "PNG"


def test_the_chart_has_a_solid_light_background_for_dark_mode(english: bytes) -> None:
    # Not transparent: in Slack's dark mode a transparent chart would draw dark ink on dark.
    for corner in ((0, 0), (WIDTH_PX - 1, 0), (0, HEIGHT_PX - 1), (WIDTH_PX - 1, HEIGHT_PX - 1)):
        assert pixel(english, *corner) == (255, 255, 255, 255)


def test_the_same_data_gives_the_same_bytes(english: bytes) -> None:
    assert render_chart(HISTORY, "en") == english
    assert b"Software" not in english and b"atplotlib" not in english  # no version stamp
    assert b"Creation Time" not in english


def test_rendering_is_thread_safe_and_stays_deterministic(english: bytes) -> None:
    with ThreadPoolExecutor(max_workers=4) as pool:
        renders = list(pool.map(lambda _: render_chart(HISTORY, "en"), range(8)))
    assert all(png == english for png in renders)


def test_the_language_changes_the_labels_only_where_it_should(english: bytes) -> None:
    french = render_chart(HISTORY, "fr")
    assert french != english
    assert png_size(french) == (WIDTH_PX, HEIGHT_PX)
    assert render_chart(HISTORY, "fr-FR") == french  # a Slack locale works as well
    assert render_chart(HISTORY, "de") == english  # no German labels: English


def test_the_high_score_corner_is_emphasised(english: bytes) -> None:
    # Occupied cells scored 15 or more are solid red; others keep their zone's pale tint.
    assert pixel(english, *heat_cell_corner(probability=5, impact=5)) == rgba(HOT)
    assert pixel(english, *heat_cell_corner(probability=3, impact=5)) == rgba(HOT)
    assert pixel(english, *heat_cell_corner(probability=5, impact=3)) == rgba(ZONES[3][1])
    assert pixel(english, *heat_cell_corner(probability=1, impact=1)) == rgba(ZONES[0][1])


def test_an_empty_history_still_renders() -> None:
    for data in (EMPTY, ChartData((), tuple((0,) * 5 for _ in range(5)), "")):
        for language in ("en", "fr"):
            png = render_chart(data, language)
            assert png_size(png) == (WIDTH_PX, HEIGHT_PX)
            assert png == render_chart(data, language)
            assert pixel(png, *heat_cell_corner(probability=5, impact=5)) != rgba(HOT)


@pytest.mark.parametrize(
    "data",
    [
        ChartData(  # one period, huge counts, a heatmap of the wrong shape, negative noise
            (PeriodCounts("2026-W48", 1200, 300, 1000, -4),),
            ((0, 0), (0, 0, 0, 0, 0, 9), (), (0, 0, 0, 0, 130), (0, 0, 0, 0, 1500)),
            "x" * 500,
        ),
        ChartData(  # text matplotlib would read as (broken) mathematics, or as nothing
            tuple(PeriodCounts(f"$\\frac{{{i} $", i, 1, 1, 0) for i in range(12)),
            HEATMAP,
            "Budget $5M {x} \\frac{ $ ^_^ $",
        ),
        ChartData((PeriodCounts("", 0, 0, 0, 0),), HEATMAP, ""),
    ],
)
def test_odd_data_renders(data: ChartData) -> None:
    png = render_chart(data, "fr")
    assert png_size(png) == (WIDTH_PX, HEIGHT_PX)


def test_rendering_leaves_pyplot_alone() -> None:
    """Headless without touching global state: no pyplot, no backend switch."""
    code = (
        "import sys, matplotlib\n"
        "backend = matplotlib.rcParams._get_backend_or_none()\n"
        "from bot.digest.chart import ChartData, render_chart\n"
        "render_chart(ChartData((), (), 't'))\n"
        "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot imported'\n"
        "assert matplotlib.rcParams._get_backend_or_none() == backend, 'backend changed'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


# ---------------------------------------------------------------------------------------------
# alt text


def test_alt_text_gives_the_key_figures_in_english() -> None:
    text = alt_text(HISTORY, "en")
    assert text.startswith("Leadership · #leadership: project status over 8 periods")
    assert "(19 Nov to 7 Jan)" in text
    assert "Latest (7 Jan): 3 red, 5 amber, 12 green, 2 missing." in text
    assert "Since 31 Dec: red +1, green \u22121." in text
    assert "Red per period: 1, 1, 2, 2, 3, 3, 2, 3." in text
    assert "20 open risks, 6 scored 15 or more" in text
    assert "highest score 25 (impact 5, probability 5)" in text
    assert len(text) <= MAX_ALT_TEXT


def test_alt_text_gives_the_key_figures_in_french() -> None:
    text = alt_text(HISTORY, "fr")
    assert "état des projets sur 8 périodes (du 19 Nov au 7 Jan)" in text
    assert "Dernière période (7 Jan) : rouge 3, orange 5, vert 12, sans rapport 2." in text
    assert "Depuis le 31 Dec : rouge +1, vert \u22121." in text
    assert "Rouges par période : 1, 1, 2, 2, 3, 3, 2, 3." in text
    assert "Risques ouverts : 20, dont 6 avec un score de 15 ou plus" in text
    assert "score le plus élevé 25 (impact 5, probabilité 5)" in text
    assert alt_text(HISTORY, "fr-FR") == text
    assert len(text) <= MAX_ALT_TEXT


def test_alt_text_formats_numbers_for_the_language() -> None:
    data = ChartData((PeriodCounts("W1", 1234, 0, 0, 0),), ((0,) * 5,) * 4 + ((0,) * 4 + (1,),), "")
    assert "1,234 red" in alt_text(data, "en")
    assert re.search(r"rouge 1[\u00a0\u202f]234,", alt_text(data, "fr"))  # CLDR's space


def test_alt_text_without_a_title() -> None:
    data = ChartData((PeriodCounts("W1", 1, 0, 0, 0),), (), " ")
    assert alt_text(data, "en").startswith("Project status at W1 and open risks.")
    assert alt_text(data, "fr").startswith("État des projets au W1 et risques ouverts.")


def test_alt_text_of_an_empty_history() -> None:
    assert alt_text(EMPTY, "en") == "#leadership: no project status reported yet. No open risks."
    assert alt_text(EMPTY, "fr") == (
        "#leadership : aucun état de projet reçu pour l\u2019instant. Aucun risque ouvert."
    )


def test_alt_text_says_when_nothing_changed() -> None:
    same = ChartData((PeriodCounts("A", 1, 2, 3, 0), PeriodCounts("B", 1, 2, 3, 0)), (), "t")
    assert "No change since A." in alt_text(same, "en")
    assert "Aucun changement depuis le A." in alt_text(same, "fr")


def test_alt_text_stays_within_slack_limits_for_maximal_input() -> None:
    data = ChartData(
        tuple(PeriodCounts("L" * 500, 10**9, 10**9, 10**9, 10**9) for _ in range(20)),
        tuple((10**9,) * 5 for _ in range(5)),
        "T" * 5000,
    )
    for language in ("en", "fr"):
        text = alt_text(data, language)
        assert 0 < len(text) <= MAX_ALT_TEXT


# ---------------------------------------------------------------------------------------------
# the money panel

MONEY = (
    MoneyBar("Operations", Decimal(5_150_000), Decimal(5_794_637)),  # over budget: red
    MoneyBar("Digital", Decimal(2_700_000), Decimal(2_430_000)),  # within: green
    MoneyBar(None, Decimal(900_000), Decimal(900_000)),  # the projects in no portfolio
)
WITH_MONEY = replace(HISTORY, money=MONEY, currency="EUR")


def panel_colours(png: bytes) -> set[tuple[int, ...]]:
    """The colours of the money panel's bars (under its header and legend)."""
    with Image.open(io.BytesIO(png)) as image:
        top = HEIGHT_PX + MONEY_HEAD_PX
        panel = image.convert("RGBA").crop((0, top, WIDTH_PX, image.size[1]))
        return {colour for _, colour in panel.getcolors(maxcolors=1_000_000) or ()}


def test_the_money_panel_adds_its_rows_under_the_top_band() -> None:
    png = render_chart(WITH_MONEY, "en")
    assert png_size(png) == (WIDTH_PX, chart_height(WITH_MONEY))
    assert chart_height(WITH_MONEY) == HEIGHT_PX + MONEY_HEAD_PX + 3 * MONEY_ROW_PX + MONEY_FOOT_PX
    assert render_chart(WITH_MONEY, "en") == png  # the same bytes
    # The top band is drawn as without the panel: the heatmap's cells are where they were.
    corner = heat_cell_corner(probability=5, impact=5)
    assert pixel(png, *corner) == rgba(HOT)
    colours = panel_colours(png)
    assert {rgba(BUDGET_GREY), rgba(RED), rgba(GREEN)} <= colours
    within = replace(WITH_MONEY, money=MONEY[1:])
    assert rgba(RED) not in panel_colours(render_chart(within, "en"))  # nothing over budget


def test_the_money_panel_holds_ten_rows_at_most_and_odd_amounts() -> None:
    many = tuple(
        MoneyBar(f"$\\frac{{{i}}} {'x' * 60}", Decimal(10**12 if i else 0), Decimal(-5 * i))
        for i in range(14)
    )
    data = replace(HISTORY, money=many, currency=None)
    for language in ("en", "fr"):
        png = render_chart(data, language)
        assert png_size(png) == (WIDTH_PX, HEIGHT_PX + MONEY_HEAD_PX + 10 * MONEY_ROW_PX + 24)
    assert png_size(render_chart(replace(EMPTY, money=many[:1]), "en"))[1] > HEIGHT_PX


def test_alt_text_reads_the_money_panel() -> None:
    assert alt_text(WITH_MONEY, "en").endswith(
        "Budget against forecast at completion: Operations €5.79M for €5.15M (+13%);"
        " Digital €2.43M for €2.7M (\u221210%); No portfolio €900K for €900K (\u00b10%)."
    )
    assert (
        "Budget et coût prévu à terminaison : Operations 5,79\u00a0M\u00a0€ pour"
        " 5,15\u00a0M\u00a0€ (+13\u00a0%)" in alt_text(WITH_MONEY, "fr")
    )
    assert "Budget against" not in alt_text(HISTORY, "en")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal(999_999), "€1M"),
        (Decimal(1_254_999), "€1.25M"),
        (Decimal(416_667), "€417K"),
        (Decimal(950), "€950"),
        (Decimal(-2_430_000), "-€2.43M"),
    ],
)
def test_the_panels_amounts_are_short_and_never_1000k(value: Decimal, expected: str) -> None:
    data = replace(HISTORY, money=(MoneyBar("X", value, value),), currency="EUR")
    assert f"X {expected} for {expected}" in alt_text(data, "en")


# ---------------------------------------------------------------------------------------------
# the capacity panel

LOADS = (
    LoadStrip("Jordan Lee", (LoadCell(80, "ok"), LoadCell(150, "severe"), LoadCell(95, "full"))),
    LoadStrip("Dana", (LoadCell(None, "none"), LoadCell(110, "over"), LoadCell(None, "severe"))),
)
WITH_LOADS = replace(HISTORY, loads=LOADS, months=("Dec 2026", "Jan 2027", "Feb 2027"))


def test_the_capacity_panel_adds_a_row_per_person_over_under_everything() -> None:
    png = render_chart(WITH_LOADS, "en")
    assert png_size(png) == (WIDTH_PX, HEIGHT_PX + LOAD_HEAD_PX + 2 * LOAD_ROW_PX + LOAD_FOOT_PX)
    assert render_chart(WITH_LOADS, "en") == png
    corner = heat_cell_corner(probability=5, impact=5)
    assert pixel(png, *corner) == rgba(HOT)  # the top band is where it was
    with Image.open(io.BytesIO(png)) as image:
        panel = image.convert("RGBA").crop((0, HEIGHT_PX + LOAD_HEAD_PX, WIDTH_PX, image.size[1]))
        colours = {colour for _, colour in panel.getcolors(maxcolors=1_000_000) or ()}
    assert {rgba(LOAD_TINTS[band]) for band in ("ok", "full", "over", "severe")} <= colours
    # under the money panel when both are drawn
    both = replace(WITH_LOADS, money=MONEY, currency="EUR")
    expected = HEIGHT_PX + MONEY_HEAD_PX + 3 * MONEY_ROW_PX + MONEY_FOOT_PX
    expected += LOAD_HEAD_PX + 2 * LOAD_ROW_PX + LOAD_FOOT_PX
    assert chart_height(both) == expected == png_size(render_chart(both, "fr"))[1]


def test_the_capacity_panel_holds_eight_people_at_most_with_any_names() -> None:
    many = tuple(
        LoadStrip(f"$\\frac{{{i}}} {'x' * 80}", (LoadCell(10**6, "severe"),) * 3) for i in range(12)
    )
    data = replace(EMPTY, loads=many, months=("M" * 300,) * 3)
    for language in ("en", "fr"):
        png = render_chart(data, language)
        assert png_size(png)[1] == HEIGHT_PX + LOAD_HEAD_PX + 8 * LOAD_ROW_PX + LOAD_FOOT_PX
        assert 0 < len(alt_text(data, language)) <= MAX_ALT_TEXT


def test_alt_text_reads_the_capacity_panel() -> None:
    assert alt_text(WITH_LOADS, "en").endswith(
        "People over 100% of their time: Jordan Lee 150% in Jan 2027;"
        " Dana 110% in Jan 2027, no time in Feb 2027."
    )
    assert "Jordan Lee 150\u00a0% en Jan 2027" in alt_text(WITH_LOADS, "fr")

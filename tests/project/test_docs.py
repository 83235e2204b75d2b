"""The documentation: the README and docs/ pages link to what exists, and the flag tables
name every flag their mode takes."""

import re
from pathlib import Path

import pytest

from srgan import cli
from srgan.cli import modes
from tests.helpers import ROOT

PAGES = [ROOT / "README.md", ROOT / "CHANGELOG.md", ROOT / "bench" / "README.md",
         *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)|src=\"([^\"]+)\"")


def anchors(page: Path) -> set[str]:
    """GitHub's anchor for each heading of `page`: lower case, punctuation but hyphens
    dropped, spaces as hyphens."""
    text = re.sub(r"^```.*?^```", "", page.read_text(), flags=re.M | re.S)
    return {re.sub(r"[^\w\- ]", "", heading.replace("`", "").strip().lower()).replace(" ", "-")
            for heading in re.findall(r"^#+ (.+)$", text, re.M)}


def links(page: Path) -> list[str]:
    text = re.sub(r"^```.*?^```", "", page.read_text(), flags=re.M | re.S)
    return [first or second for first, second in LINK.findall(text)]


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.relative_to(ROOT).as_posix())
def test_every_relative_link_resolves(page):
    broken = []
    for target in links(page):
        if target.startswith(("http://", "https://", "mailto:")):
            continue
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        if not linked.exists():
            broken.append(f"{target}: no such file")
        elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
            broken.append(f"{target}: no such heading")
    assert not broken, broken


def test_the_readme_is_a_front_page():
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= 200
    # The first screen: the quick start, the quick tests and the scores.
    first_screen = readme[: readme.index("## Modes")]
    assert "## Quick start" in first_screen and '-m "not slow"' in first_screen
    assert "PSNR-Y" in first_screen


@pytest.mark.parametrize("mode, page, title", [("train", "docs/TRAINING.md", "Training flags"),
                                               ("upscale", "docs/USAGE.md", "Upscale flags")])
def test_the_flag_tables_name_every_flag_of_their_mode(mode, page, title):
    section = (ROOT / page).read_text().split(f"## {title}\n", 1)[1].split("\n#", 1)[0]
    documented = set(re.findall(r"^\| `(--[a-z_]+)`", section, re.MULTILINE))
    taken = {action.option_strings[0] for action in cli.build_parser(mode)._actions
             if action.option_strings and action.option_strings[0] not in ("-h", "--mode")}
    assert documented == taken, (f"undocumented: {sorted(taken - documented)}; "
                                 f"no such flag: {sorted(documented - taken)}")


def test_the_readmes_modes_table_names_every_mode():
    section = (ROOT / "README.md").read_text().split("## Modes\n", 1)[1].split("\n#", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    named = {name for row in rows for name in re.findall(r"`([a-z]+)`", row.split("|")[1])}
    assert named == set(modes.MODES), f"the table names {sorted(named)}"

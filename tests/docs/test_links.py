"""The docs say only what is there: links, anchors, make targets, CLI subcommands; a short README.

Reads README.md, CONTRIBUTING.md, CHANGELOG.md and docs/*.md. Every relative link must name a
file or folder of the repository, every #anchor a heading of the target page (GitHub's slugs);
every `make TARGET` in code must be a Makefile target, and every `vertex-triggers SUBCOMMAND`
in code a subcommand of the CLI's own parser, with options that subcommand takes. No network.
"""

import argparse
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote

import pytest

REPO = Path(__file__).resolve().parents[2]
TOP_PAGES = ("README.md", "CONTRIBUTING.md", "CHANGELOG.md")
PAGES = sorted([*(REPO / name for name in TOP_PAGES), *(REPO / "docs").glob("*.md")])
README_MAX_BYTES = 15_000  # "at most 15 KB": the README is the front page, the docs hold the rest

FENCE = re.compile(r"^\s*(```|~~~)")
CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.DOTALL)
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)", re.MULTILINE)
HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
MAKE = re.compile(r"(?:^|[\s;&|(])make\s+([^\s;&|)`#,]*[^\s;&|)`#,.:])")
CLI = re.compile(r"(?:^|[\s/;&|(])vertex-triggers\s+([a-z][a-z0-9_-]*)([^|;&#`\n]*)")
OPTION = re.compile(r"(?:^|\s|\[)(--[a-z][a-z0-9-]*)")


def rel(path: Path) -> str:
    """Name a file as the failure messages do: relative to the repository."""
    return str(path.relative_to(REPO))


def without_fences(text: str) -> tuple[str, list[tuple[int, str]]]:
    """Return the text with fenced code blocks blanked (lines kept), and their lines by number."""
    prose_lines, code = [], []
    in_fence = False
    for number, line in enumerate(text.split("\n"), 1):
        if FENCE.match(line):
            in_fence = not in_fence
            prose_lines.append("")
        elif in_fence:
            code.append((number, line))
            prose_lines.append("")
        else:
            prose_lines.append(line)
    return "\n".join(prose_lines), code


def split_code(text: str) -> tuple[str, list[tuple[int, str]]]:
    """Return the prose (all code blanked out, line numbers kept) and each piece of code by line."""
    prose, code = without_fences(text)
    for span in CODE_SPAN.finditer(prose):
        code.append((line_of(prose, span.start()), span.group(2)))
    blanked = CODE_SPAN.sub(lambda span: re.sub(r"[^\n]", "x", span.group(0)), prose)
    return blanked, code


def line_of(text: str, offset: int) -> int:
    """Return the 1-based line number of a character offset."""
    return text.count("\n", 0, offset) + 1


def heading_text(markdown: str) -> str:
    """Return a heading as GitHub renders it: code, links and emphasis reduced to their text."""
    text = CODE_SPAN.sub(lambda span: span.group(2), markdown)
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"<[^>]+>", "", text)
    return text.replace("*", "")


def slug(text: str) -> str:
    """GitHub's anchor for a heading: lowercase, punctuation but '-' and '_' gone, spaces to '-'."""
    return re.sub(r"[^\w\- ]", "", heading_text(text).strip().lower()).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """Return the anchors of a Markdown file's headings; repeats get -1, -2, ... as on GitHub."""
    seen: dict[str, int] = {}
    found = set()
    prose, _ = without_fences(path.read_text(encoding="utf-8"))
    for line in prose.split("\n"):
        heading = HEADING.match(line)
        if not heading:
            continue
        base = slug(heading.group(2))
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return found


def links(path: Path) -> Iterator[tuple[int, str]]:
    """Yield (line, target) for each inline or reference link outside code."""
    prose, _ = split_code(path.read_text(encoding="utf-8"))
    for pattern in (LINK, REFERENCE):
        for match in pattern.finditer(prose):
            yield line_of(prose, match.start()), match.group(1)


def link_problem(page: Path, target: str) -> str | None:
    """Say what is wrong with one link of a page, or None when it resolves."""
    if SCHEME.match(target):
        return None  # a URL: not checked here (no network)
    path_part, _, anchor = target.partition("#")
    resolved = (page.parent / unquote(path_part)).resolve() if path_part else page
    if REPO not in resolved.parents and resolved != REPO:
        return f"{resolved} is outside the repository"
    if not resolved.exists():
        return f"no such file or folder {rel(resolved)}"
    if not anchor:
        return None
    if resolved.suffix != ".md":
        return f"anchor #{anchor} into {rel(resolved)}, which is not a Markdown page"
    if anchor not in anchors(resolved):
        return f"{rel(resolved)} has no heading whose anchor is #{anchor}"
    return None


def makefile_targets() -> set[str]:
    """Return the Makefile's targets (rule heads), with $(VAR) in their names expanded."""
    text = (REPO / "Makefile").read_text(encoding="utf-8")
    variables = dict(re.findall(r"^(\w+)\s*[:?]?=\s*(.*?)\s*$", text, re.MULTILINE))
    targets = set()
    for line in text.splitlines():
        head, colon, tail = line.partition(":")
        if not colon or line.startswith(("\t", " ", "#")) or "=" in head or tail.startswith("="):
            continue
        while "$(" in head:  # variables may name variables: $(STAMP) is $(VENV)/.installed
            head = re.sub(r"\$\((\w+)\)", lambda var: variables.get(var.group(1), ""), head)
        targets.update(head.split())
    return targets - {".PHONY"}


class _ParsedError(Exception):
    """Raised in place of parsing, to carry the parser out of the CLI's main()."""

    def __init__(self, parser: argparse.ArgumentParser) -> None:
        super().__init__()
        self.parser = parser


@pytest.fixture(scope="module")
def cli_subcommands() -> dict[str, set[str]]:
    """Subcommand -> its options, read from the parser the CLI's main() builds."""
    from triggers_cli import main as cli

    def stop(parser: argparse.ArgumentParser, *args: object, **kwargs: object) -> None:
        raise _ParsedError(parser)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(argparse.ArgumentParser, "parse_args", stop)
        with pytest.raises(_ParsedError) as parsed:
            cli.main([])
    parser = parsed.value.parser
    (commands,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return {
        name: {option for action in sub._actions for option in action.option_strings}
        for name, sub in commands.choices.items()
    }


def page_id(page: Path) -> str:
    """Name a parametrized case by its page."""
    return rel(page)


def test_makefile_targets_are_read_with_their_variables() -> None:
    assert {"lint", "test", "demo", "up", "bench", "compile", "tf-check"} <= makefile_targets()
    assert ".venv/.installed" in makefile_targets()


def test_the_pages_exist() -> None:
    for name in (*TOP_PAGES, "LICENSE"):
        assert (REPO / name).is_file(), f"{name} is missing"
    assert len(PAGES) > 3, "docs/ has no pages"


def test_readme_is_short() -> None:
    size = (REPO / "README.md").stat().st_size
    assert size <= README_MAX_BYTES, (
        f"README.md is {size:,} bytes, more than {README_MAX_BYTES:,}: move detail to docs/"
    )


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_relative_links_and_anchors_resolve(page: Path) -> None:
    problems = [
        f"{rel(page)}:{line}: link {target!r}: {problem}"
        for line, target in links(page)
        if (problem := link_problem(page, target))
    ]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_every_make_target_named_exists(page: Path) -> None:
    targets = makefile_targets()
    _, code = split_code(page.read_text(encoding="utf-8"))
    problems = [
        f"{rel(page)}:{line}: `make {target}`: the Makefile has no target {target!r}"
        for line, piece in code
        for target in MAKE.findall(piece)
        if not target.startswith("-") and target not in targets
    ]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_every_cli_subcommand_named_exists(
    page: Path, cli_subcommands: dict[str, set[str]]
) -> None:
    _, code = split_code(page.read_text(encoding="utf-8"))
    problems = []
    for line, piece in code:
        for match in CLI.finditer(piece):
            name, rest = match.groups()
            where = f"{rel(page)}:{line}: `vertex-triggers {name}`"
            if name not in cli_subcommands:
                known = ", ".join(sorted(cli_subcommands))
                problems.append(f"{where}: no such subcommand (the CLI has {known})")
                continue
            problems.extend(
                f"{where}: the subcommand takes no option {option}"
                for option in OPTION.findall(rest)
                if option not in cli_subcommands[name]
            )
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    ("heading", "anchor"),
    [
        ("Run outcomes (`on_run_state`)", "run-outcomes-on_run_state"),
        ("Pub/Sub: Google's emulator", "pubsub-googles-emulator"),
        (
            "Environment variables (read only in `functions/main.py`)",
            "environment-variables-read-only-in-functionsmainpy",
        ),
        ("Why no aiplatform SDK on the hot path", "why-no-aiplatform-sdk-on-the-hot-path"),
        ("0.2.0 — unreleased", "020--unreleased"),
    ],
)
def test_anchors_follow_githubs_slug_rules(heading: str, anchor: str) -> None:
    assert slug(heading) == anchor


def test_repeated_headings_get_numbered_anchors(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("# A\n\n## Notes\n\n```\n## Notes\n```\n\n## Notes\n\n### Notes\n")
    assert anchors(page) == {"a", "notes", "notes-1", "notes-2"}


def test_a_broken_link_is_named_with_what_is_wrong() -> None:
    page = REPO / "docs" / "design.md"
    assert link_problem(page, "nowhere.md") == "no such file or folder docs/nowhere.md"
    assert link_problem(page, "#no-such-heading") == (
        "docs/design.md has no heading whose anchor is #no-such-heading"
    )
    assert link_problem(page, "../Makefile#lint") == (
        "anchor #lint into Makefile, which is not a Markdown page"
    )
    assert link_problem(page, "https://example.com/#x") is None

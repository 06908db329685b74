"""The chain graph of ``run_ended`` routes: every upstream known, no cycle, no chain too deep.

A link runs from the routes whose runs a ``run_ended`` route follows to that route: its ``after``
route, or (once templates are read) every route whose template is the ``after`` pipeline.
"""

from collections.abc import Mapping
from dataclasses import dataclass

from vertex_trigger.config.model import EventKind, Route

ARROW = " → "


@dataclass(frozen=True)
class ChainProblem:
    """What is wrong with the chains, and the route and key to name."""

    route: str
    key: str
    problem: str


def chain_problem(
    routes: tuple[Route, ...], max_depth: int, pipelines: Mapping[str, str] | None = None
) -> ChainProblem | None:
    """Return the first problem of the chain graph, or None.

    ``pipelines`` maps route names to their templates' pipeline names; without it a ``pipeline:``
    upstream links to nothing (the loader's check, before templates are read).
    """
    names = [route.name for route in routes]
    for route in routes:
        if route.after and route.after.route and route.after.route not in names:
            known = ", ".join(names)
            return ChainProblem(
                route.name, "after.route", f"no route named {route.after.route!r} (routes: {known})"
            )
    links = upstreams(routes, pipelines or {})
    cycle = _cycle(links)
    if cycle:
        return ChainProblem(
            cycle[-1],
            "after",
            f"chain cycle {ARROW.join(cycle)}: each run's end would launch the next for ever",
        )
    return _too_deep(routes, links, max_depth)


def upstreams(routes: tuple[Route, ...], pipelines: Mapping[str, str]) -> dict[str, list[str]]:
    """Return each route's upstream routes (the routes whose runs' ends launch it)."""
    links: dict[str, list[str]] = {route.name: [] for route in routes}
    for route in routes:
        if route.event is not EventKind.RUN_ENDED or route.after is None:
            continue
        if route.after.route:
            links[route.name].append(route.after.route)
        else:
            links[route.name] += [n for n, p in pipelines.items() if p == route.after.pipeline]
    return links


def _cycle(links: Mapping[str, list[str]]) -> list[str]:
    """Return a cycle as [a, b, ..., a] following runs downstream, or []."""
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> list[str]:
        if name in path:
            found = [*path[path.index(name) :], name]
            return list(reversed(found))  # upstream first: a → b means a's end launches b
        if name in done:
            return []
        for upstream in links.get(name, []):
            cycle = visit(upstream, [*path, name])
            if cycle:
                return cycle
        done.add(name)
        return []

    for name in links:
        cycle = visit(name, [])
        if cycle:
            return cycle
    return []


def _too_deep(
    routes: tuple[Route, ...], links: Mapping[str, list[str]], max_depth: int
) -> ChainProblem | None:
    """Return the first route more than ``max_depth`` links from its chain's source, or None."""
    for route in routes:
        chain = longest_chain(route.name, links)
        if len(chain) - 1 > max_depth:
            return ChainProblem(
                route.name,
                "after",
                f"link {len(chain) - 1} of the chain {ARROW.join(chain)}, deeper than "
                f"max_chain_depth {max_depth}",
            )
    return None


def longest_chain(name: str, links: Mapping[str, list[str]]) -> list[str]:
    """Return the longest chain of routes ending at ``name``, source first (acyclic graph)."""
    longest: list[str] = []
    for upstream in links.get(name, []):
        chain = longest_chain(upstream, links)
        if len(chain) > len(longest):
            longest = chain
    return [*longest, name]

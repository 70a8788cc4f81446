"""The shape of the house: layers, no cycles, modules split by job, one channel registry.

* ``stegnet`` (the product core) never imports ``stegnet_research`` (the research wing);
  the only exception is the CLI's research sub-app (``stegnet.cli.research``), which is the
  shell over both and imports the wing lazily inside its commands.
* ``stegnet_research`` never imports the CLI.
* No import cycles among the modules of both packages, counting imports inside functions.
* No module over 400 lines unless its docstring says why (a line starting "Why this
  module is long:").
* Only ``stegnet.channels`` knows the channel modules: the rest of the product core (the
  API, the CLI) reaches a channel through ``stegnet.channels`` (its registry), never by
  importing ``stegnet.channels.pixel`` and the like. (The research wing may: it studies a
  channel's internals, e.g. trains the robust codec on its slot layout.)
* The extraction order (a sequence of channel names) is written in one place: the registry.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("stegnet", "stegnet_research")
MAX_LINES = 400
LONG_REASON = "Why this module is long:"
CHANNEL_FRONT = {"stegnet.channels", "stegnet.channels.base", "stegnet.channels.registry",
                 "stegnet.channels.dispatch"}
SHELL = {"stegnet.cli.research", "stegnet.cli.train"}  # may import the research wing (lazily)


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """Internal modules ``name`` imports, anywhere in the file."""
    is_package = path.name == "__init__.py"
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".") if is_package else name.split(".")[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                       for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name:
                out.add(target)
    return out


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(name, path, modules) for name, path in modules.items()}


def test_the_core_never_imports_the_research_wing() -> None:
    offenders = sorted(f"{src} -> {dst}" for src, dsts in _graph().items() for dst in dsts
                       if src.split(".")[0] == "stegnet" and src not in SHELL
                       and dst.split(".")[0] == "stegnet_research")
    assert offenders == []


def test_the_research_wing_never_imports_the_cli() -> None:
    offenders = sorted(f"{src} -> {dst}" for src, dsts in _graph().items() for dst in dsts
                       if src.startswith("stegnet_research")
                       and (dst == "stegnet.cli" or dst.startswith("stegnet.cli.")))
    assert offenders == []


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return components


def test_no_import_cycles() -> None:
    assert _cycles(_graph()) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_module_over_400_lines_without_a_reason() -> None:
    long = {}
    for name, path in _modules().items():
        text = path.read_text()
        lines = len(text.splitlines())
        docstring = ast.get_docstring(ast.parse(text)) or ""
        if lines > MAX_LINES and LONG_REASON not in docstring:
            long[name] = lines
    assert long == {}


def _channel_modules() -> set[str]:
    from stegnet.channels import ORDER

    return {f"stegnet.channels.{name}" for name in ORDER}


def test_only_the_channels_package_knows_the_channel_modules() -> None:
    channel_modules = _channel_modules()
    offenders = sorted(
        f"{src} -> {dst}" for src, dsts in _graph().items() for dst in dsts
        if src.split(".")[0] == "stegnet" and not src.startswith("stegnet.channels")
        and (dst in channel_modules or any(dst.startswith(m + ".") for m in channel_modules)))
    assert offenders == []


def test_every_channel_module_is_named_as_its_channel() -> None:
    from stegnet.channels import ORDER, get

    for name in ORDER:
        channel = get(name)
        assert channel.name == name and channel.model_task in (None, name)
        assert channel.medium in ("pixels", "jpeg") and channel.summary and channel.survives
    modules = {p.stem if p.suffix == ".py" else p.name
               for p in (ROOT / "stegnet" / "channels").iterdir()
               if not p.name.startswith("_") and p.name != "__pycache__"}
    assert modules - {"base", "registry", "dispatch"} == set(ORDER)


def test_the_extraction_order_is_written_only_in_the_registry() -> None:
    """No sequence literal of two or more channel names outside the registry (the CLI,
    --help, the API and reveal's hint all read :data:`stegnet.channels.ORDER`)."""
    from stegnet.channels import ORDER

    names = set(ORDER)
    found = []
    for name, path in _modules().items():
        if name == "stegnet.channels.registry":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.Tuple, ast.List)) and len(node.elts) >= 2 and all(
                    isinstance(e, ast.Constant) and e.value in names for e in node.elts):
                found.append(f"{name}:{node.lineno}")
    assert found == []

"""The layering rules of docs/DESIGN.md ("Layers"):

- core never imports gradio;
- the packages form one-way layers, checked on the import graph built from the source (ast):
  nets/data -> core base (checkpoint, registry, device) -> metrics -> train, pipelines -> eval
  -> demos -> app; a package imports only from layers below its own, never from a peer or above,
  so the graph has no cycle;
- demos reach core only through core.pipelines and core.registry, with one exception: the admin
  tab (demos/admin.py) starts, watches and stops training processes, so it imports the runner and
  what describes a run (core.train.runner, core.train.config, core.train.events). No other tab may.
"""
import ast
import graphlib
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Lowest first. A package may import only from layers before its own.
LAYERS = [("core.nets", "core.data", "core.playground"), ("core base",), ("core.metrics",),
          ("core.train", "core.pipelines"), ("core.eval",), ("demos",), ("app",)]
RANK = {pkg: i for i, layer in enumerate(LAYERS) for pkg in layer}
DEMO_MAY_IMPORT = ("core.pipelines", "core.registry")
ADMIN_MAY_ALSO_IMPORT = ("core.train.runner", "core.train.config", "core.train.events")


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(name: str) -> bool:
    p = ROOT.joinpath(*name.split("."))
    return p.with_suffix(".py").exists() or (p / "__init__.py").exists()


def _imports(path: Path) -> set[str]:
    """Absolute names of every module `path` imports, anywhere in the file (also inside functions);
    relative imports resolved; `from pkg import mod` gives pkg.mod when mod is a module."""
    package = _module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            for a in node.names:
                names.add(f"{module}.{a.name}" if _is_module(f"{module}.{a.name}") else module)
    return names


def _package(module: str) -> str | None:
    """The layer-table package of a project module (None: stdlib, third party, bench, tests)."""
    parts = module.split(".")
    if parts[0] in ("app", "demos"):
        return parts[0]
    if parts[0] != "core":
        return None
    sub = ".".join(parts[:2])
    return sub if sub in RANK else "core base"


def _sources() -> list[Path]:
    return [ROOT / "app.py", *sorted((ROOT / "demos").rglob("*.py")), *sorted((ROOT / "core").rglob("*.py"))]


def package_graph() -> dict[str, dict[str, set[str]]]:
    """{importing package: {imported package: {"file -> module", ...}}} for edges between packages."""
    graph: dict[str, dict[str, set[str]]] = {}
    for path in _sources():
        src = _package(_module_name(path))
        for name in _imports(path):
            dst = _package(name)
            if dst is not None and dst != src:
                graph.setdefault(src, {}).setdefault(dst, set()).add(f"{path.relative_to(ROOT)} -> {name}")
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    try:
        graphlib.TopologicalSorter(graph).prepare()
    except graphlib.CycleError as e:
        return e.args[1]
    return None


def test_every_core_package_has_a_layer():
    packages = {f"core.{p.name}" for p in (ROOT / "core").iterdir() if (p / "__init__.py").exists()}
    assert packages <= set(RANK), f"place {sorted(packages - set(RANK))} in LAYERS"


def test_the_cycle_check_can_fail():
    assert _cycle({"core.eval": {"core.pipelines"}, "core.pipelines": {"core.train"}, "core.train": {"core.eval"}})
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_the_graph_sees_relative_and_local_imports():
    graph = package_graph()
    assert "core.pipelines" in graph["core.eval"]  # from ..pipelines.sketch2photo import ...
    assert "core.metrics" in graph["core.train"]  # imported inside _MetricsFactory.__call__


def test_packages_form_one_way_layers():
    graph = package_graph()
    assert _cycle({src: set(dsts) for src, dsts in graph.items()}) is None
    upward = [f"{src} -> {dst}: {sorted(why)}" for src, dsts in graph.items() for dst, why in dsts.items()
              if RANK[dst] >= RANK[src]]
    assert not upward, "imports against the layers (peer or higher):\n" + "\n".join(upward)


def test_demos_use_only_pipelines_and_the_registry():
    for p in (ROOT / "demos").glob("*.py"):
        allowed = DEMO_MAY_IMPORT + (ADMIN_MAY_ALSO_IMPORT if p.name == "admin.py" else ())
        for name in _imports(p):
            if name == "core" or name.startswith("core."):
                assert name.startswith(allowed), f"{p.name} imports {name}"


def test_core_never_imports_gradio():
    offenders = [str(p) for p in (ROOT / "core").rglob("*.py")
                 if any(n == "gradio" or n.startswith("gradio.") or n.startswith("gradio_client") for n in _imports(p))]
    assert not offenders


def test_importing_all_of_core_does_not_load_gradio():
    modules = sorted(".".join(p.relative_to(ROOT).with_suffix("").parts) for p in (ROOT / "core").rglob("*.py")
                     if p.name != "__main__.py")
    code = "import sys\n" + "".join(f"import {m}\n" for m in modules) + "assert 'gradio' not in sys.modules, 'gradio loaded'\n"
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


def test_nets_do_no_io_and_pick_no_devices():
    for p in (ROOT / "core" / "nets").glob("*.py"):
        text = p.read_text()
        for banned in ("open(", ".cuda(", "torch.device", "optim", "safetensors"):
            assert banned not in text, f"{p.name} uses {banned}"

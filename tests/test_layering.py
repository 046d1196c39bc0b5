"""The layering rule: core never imports gradio; demos reach core only through pipelines/registry."""
import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def test_core_never_imports_gradio():
    offenders = [str(p) for p in (ROOT / "core").rglob("*.py")
                 if any(n == "gradio" or n.startswith("gradio.") or n.startswith("gradio_client") for n in _imports(p))]
    assert not offenders


def test_importing_all_of_core_does_not_load_gradio():
    modules = sorted(".".join(p.relative_to(ROOT).with_suffix("").parts) for p in (ROOT / "core").rglob("*.py")
                     if p.name != "__main__.py")
    code = "import sys\n" + "".join(f"import {m}\n" for m in modules) + "assert 'gradio' not in sys.modules, 'gradio loaded'\n"
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


def test_demos_use_only_pipelines_and_the_registry():
    for p in (ROOT / "demos").glob("*.py"):
        for name in _imports(p):
            if name.startswith("core"):
                assert name.startswith(("core.pipelines", "core.registry")), f"{p.name} imports {name}"


def test_nets_do_no_io_and_pick_no_devices():
    for p in (ROOT / "core" / "nets").glob("*.py"):
        text = p.read_text()
        for banned in ("open(", ".cuda(", "torch.device", "optim", "safetensors"):
            assert banned not in text, f"{p.name} uses {banned}"

"""Public namespaces hold the API and nothing else (issue #11): no imported helper modules
(`np`, `math`) and no `annotations` from `from __future__ import annotations` leak into a module
a user tab-completes."""

from __future__ import annotations
import __future__

import importlib
import pkgutil
import types

import mytensor

# The modules a user reaches through the API (as torch.nn.functional, torch.optim.lr_scheduler):
# every public package, plus these leaf modules. Implementation modules (mytensor.ops.conv,
# mytensor.nn.linear, ...) are reached through them and may import what they like.
_PUBLIC_LEAVES = [
    "mytensor.nn.functional",
    "mytensor.nn.init",
    "mytensor.data.transforms",
    "mytensor.optim.lr_scheduler",
    "mytensor.testing",
    "mytensor.backends",
    "mytensor.functional",
]


def _public_modules() -> list[str]:
    names = ["mytensor", *_PUBLIC_LEAVES]
    for info in pkgutil.walk_packages(mytensor.__path__, "mytensor."):
        if info.ispkg and not any(part.startswith("_") for part in info.name.split(".")):
            names.append(info.name)
    return names


def test_public_modules_leak_no_imports():
    leaks = []
    for name in _public_modules():
        module = importlib.import_module(name)
        for attr, value in vars(module).items():
            if attr.startswith("_"):
                continue
            foreign_module = isinstance(value, types.ModuleType) and not value.__name__.startswith(
                "mytensor."
            )
            if foreign_module or isinstance(value, __future__._Feature):
                leaks.append(f"{name}.{attr}")
    assert not leaks, f"imports leaked into public namespaces: {leaks}"


def test_all_lists_only_existing_names():
    for name in _public_modules():
        module = importlib.import_module(name)
        for attr in getattr(module, "__all__", []):
            assert hasattr(module, attr), f"{name}.__all__ names {attr!r}, which does not exist"


def test_no_module_is_shadowed_by_an_attribute():
    # mytensor.dtype used to be both a module and the dtype class on the package, so that
    # `import mytensor.dtype` gave the module and `mytensor.dtype` the class (issue #11); the
    # module is now mytensor._dtype.
    shadowed = []
    for info in pkgutil.walk_packages(mytensor.__path__, "mytensor."):
        module = importlib.import_module(info.name)
        parent, _, leaf = info.name.rpartition(".")
        value = getattr(importlib.import_module(parent), leaf, module)
        if value is not module:
            shadowed.append(f"{info.name} (shadowed by {type(value).__name__})")
    assert not shadowed, f"modules hidden by a package attribute of the same name: {shadowed}"


def test_tensor_methods_are_defined_in_its_class_body():
    # Editors and type checkers read Tensor's methods from the source (issue #11): none may be
    # attached at import time with setattr.
    import ast
    import inspect

    from mytensor._tensor import Tensor

    source = ast.parse(inspect.getsource(Tensor))
    (cls,) = source.body
    in_body = set()
    for stmt in cls.body:
        if isinstance(stmt, ast.FunctionDef):
            in_body.add(stmt.name)
        elif isinstance(stmt, (ast.Assign, ast.AnnAssign)):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            in_body.update(t.id for t in targets if isinstance(t, ast.Name))
    attached = sorted(set(vars(Tensor)) - in_body - {"__module__", "__qualname__", "__doc__"})
    attached = [name for name in attached if not name.startswith("__") or name in vars(object)]
    assert not attached, f"Tensor attributes not defined in its class body: {attached}"

"""Every public function, class and Tensor method has a docstring (issue #11).

Walks the namespaces a user reaches: ``mytensor``, ``mytensor.nn.functional`` (= ``mytensor.
functional``), ``mytensor.nn``, ``mytensor.optim``, ``mytensor.optim.lr_scheduler``,
``mytensor.nn.init``, ``mytensor.data``, ``mytensor.cuda`` and ``mytensor.testing``, then the
public methods and properties of ``Tensor`` and of the classes found there. A method that
overrides a documented one of a base class inherits its docstring (as ``inspect.getdoc`` reads
it), so ``forward`` of a layer need not repeat ``Module.forward``.
"""

from __future__ import annotations

import importlib
import inspect

import mytensor as mt

_NAMESPACES = [
    "mytensor",
    "mytensor.nn.functional",
    "mytensor.nn",
    "mytensor.nn.init",
    "mytensor.optim",
    "mytensor.optim.lr_scheduler",
    "mytensor.data",
    "mytensor.cuda",
    "mytensor.testing",
]


def _public(namespace):
    names = getattr(namespace, "__all__", None) or [n for n in vars(namespace) if n[0] != "_"]
    for name in names:
        value = getattr(namespace, name)
        if inspect.isfunction(value) or inspect.isclass(value) or inspect.isbuiltin(value):
            yield name, value


def _members(cls):
    """The public methods and properties that cls itself defines."""
    for name, value in vars(cls).items():
        if name.startswith("_"):
            continue
        if isinstance(value, (staticmethod, classmethod)):
            value = value.__func__
        if inspect.isfunction(value) or isinstance(value, property):
            yield name, getattr(cls, name)


def _undocumented() -> list[str]:
    missing = []
    classes = {mt.Tensor: "mytensor.Tensor"}
    for module_name in _NAMESPACES:
        module = importlib.import_module(module_name)
        for name, value in _public(module):
            where = f"{module_name}.{name}"
            if not inspect.getdoc(value):
                missing.append(where)
            if inspect.isclass(value) and value.__module__.startswith("mytensor."):
                classes.setdefault(value, where)
    for cls, where in classes.items():
        for name, member in _members(cls):
            if not inspect.getdoc(member if not isinstance(member, property) else member.fget):
                if inspect.getdoc(_inherited(cls, name)):
                    continue
                missing.append(f"{where}.{name}")
    return sorted(set(missing))


def _inherited(cls, name):
    for base in cls.__mro__[1:]:
        if name in vars(base):
            return getattr(base, name)
    return None


def test_every_public_object_has_a_docstring():
    missing = _undocumented()
    assert not missing, f"{len(missing)} public objects have no docstring: {missing}"

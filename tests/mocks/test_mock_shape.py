"""Each mock service keeps the one shape of the house (DESIGN §2): `__init__.py` holds only `create_app`;
Flask only in `views`, `admin` and the factory; blueprints built at module level; every `/_admin/<service>/`
route in the `admin` blueprint; error classes constructed as `ServiceError` is (message, field=...);
the model object under one key, `app.extensions[<service name>]`."""

from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path

import pytest

from cutover.services import SERVICES
from mocks.core.errors import ServiceError

ROOT = Path(__file__).resolve().parents[2]
SHAPED = {"portal": "national_portal", "payment": "payment_gw", "docaxis": "docaxis", "ca": "ca"}  # service -> package under mocks/
FLASK_MODULES = {"__init__.py", "views.py", "admin.py"}


def modules(package: str) -> dict[str, ast.Module]:
    return {p.name: ast.parse(p.read_text(encoding="utf-8")) for p in sorted((ROOT / "mocks" / package).glob("*.py"))}


def imports(tree: ast.Module) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


@pytest.mark.parametrize("package", sorted(SHAPED.values()))
def test_the_factory_module_holds_only_create_app(package: str) -> None:
    tree = modules(package)["__init__.py"]
    defined = [n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))]
    assigned = [t.id for n in tree.body if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)]
    assert defined == ["create_app"] and set(assigned) <= {"__all__"}, (defined, assigned)


@pytest.mark.parametrize("package", sorted(SHAPED.values()))
def test_flask_stays_in_views_and_admin_and_blueprints_are_module_level(package: str) -> None:
    for name, tree in modules(package).items():
        if name not in FLASK_MODULES:
            assert not any(m == "flask" or m.startswith("flask.") for m in imports(tree)), f"{package}/{name}"
        for fn in (n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))):
            calls = [c for c in ast.walk(fn) if isinstance(c, ast.Call) and isinstance(c.func, ast.Name)]
            assert not [c for c in calls if c.func.id == "Blueprint"], f"{package}/{name}: {fn.name} builds a blueprint"


@pytest.mark.parametrize("package", sorted(SHAPED.values()))
def test_every_error_class_takes_the_message_first(package: str) -> None:
    errors = importlib.import_module(f"mocks.{package}.errors")
    classes = [c for _, c in inspect.getmembers(errors, inspect.isclass)
               if issubclass(c, ServiceError) and c.__module__ == errors.__name__]
    assert classes
    for cls in classes:
        assert cls.__init__ is ServiceError.__init__, f"{cls.__name__} has its own argument order"
        err = cls("the message", field="the_field")
        assert (err.message, err.field) == ("the message", "the_field")


@pytest.mark.parametrize("service", sorted(SHAPED))
def test_admin_routes_live_in_the_admin_blueprint_and_the_model_has_one_handle(service: str, tmp_path: Path) -> None:
    app = SERVICES[service].load_factory()({"DATABASE_URL": f"sqlite:///{tmp_path / 'm.db'}",
                                            "PAYMENT_PROVISION": False})
    admin_bp = f"{service}_admin"
    for rule in app.url_map.iter_rules():
        own_admin = rule.rule.startswith(f"/_admin/{service}/")
        assert own_admin == rule.endpoint.startswith(f"{admin_bp}."), (rule.rule, rule.endpoint)
    ctx = app.extensions["cutover"]
    assert ctx.name == service and app.extensions[service] is not None and ctx.backend is None

"""Binds every feature file in this folder to its step definitions (features/conftest.py).

Every scenario runs once per selected province (`province` is parametrized in conftest.py).
"""

import pytest
from pytest_bdd import scenarios

pytestmark = pytest.mark.usefixtures("province")

scenarios(".")

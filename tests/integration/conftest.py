"""Fixtures shared by the integration tests: a registered customer and its api key."""

import pytest

from tests.integration.helpers import new_customer


@pytest.fixture
def customer(api) -> tuple[str, str]:
    """A newly registered customer: (customerId, apiKey)."""
    return new_customer(api)


@pytest.fixture
def key(customer) -> str:
    return customer[1]

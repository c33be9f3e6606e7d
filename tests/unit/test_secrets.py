import pytest
from cryptography.exceptions import InvalidTag

from shared.domain.secrets import (
    api_key_customer,
    hash_secret,
    new_api_key,
    new_id,
    new_session_token,
    seal,
    secret_matches,
    session_token_address,
    unseal,
)


def test_api_key_names_its_customer_and_matches_only_its_hash():
    customer = new_id()
    key = new_api_key(customer)
    assert api_key_customer(key) == customer
    assert secret_matches(key, hash_secret(key))
    assert not secret_matches(key + "x", hash_secret(key))
    assert not secret_matches(key, None)
    assert key not in hash_secret(key)


@pytest.mark.parametrize("bad", ["", "lgk.", "lgk.abc.def", "' or 1 eq 1", "lgk." + "0" * 32 + ".short"])
def test_malformed_api_keys_name_no_customer(bad):
    assert api_key_customer(bad) is None


def test_session_tokens_are_unique_and_carry_their_subject():
    customer, guid = new_id(), "0f8fad5b-d9cb-469f-a165-70867728950e"
    tokens = {new_session_token(customer, guid) for _ in range(100)}
    assert len(tokens) == 100
    address = session_token_address(tokens.pop())
    assert address is not None and (address.customer_id, address.correlation_id) == (customer, guid)
    assert session_token_address("lgs.x.y.z") is None


def test_sealed_text_opens_only_with_its_key_and_context():
    key = b"k" * 32
    sealed = seal(key, "face-token", "session-1")
    assert "face-token" not in sealed
    assert unseal(key, sealed, "session-1") == "face-token"
    with pytest.raises(InvalidTag):
        unseal(key, sealed, "session-2")
    with pytest.raises(InvalidTag):
        unseal(b"j" * 32, sealed, "session-1")

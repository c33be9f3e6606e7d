import pytest
from cryptography.exceptions import InvalidTag

from shared.domain.keys import ADDRESS, END_USER_IP, SEAL, SUBJECT, Keyring, UnknownKey
from shared.domain.secrets import (
    api_key_customer,
    hash_secret,
    new_api_key,
    new_id,
    new_session_token,
    secret_matches,
    session_token_address,
    subject_ref,
    subject_refs,
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


OLD, NEW = "old-secret-of-at-least-32-characters!!", "new-secret-of-at-least-32-characters!!"


def test_sealed_text_opens_only_with_its_key_and_context():
    keys = Keyring(NEW)
    sealed = keys.seal("face-token", "session-1")
    assert "face-token" not in sealed and sealed.startswith(f"k2.{keys.kid}.")
    assert keys.unseal(sealed, "session-1") == "face-token"
    with pytest.raises(InvalidTag):
        keys.unseal(sealed, "session-2")
    with pytest.raises(UnknownKey):
        Keyring(OLD).unseal(sealed, "session-1")


def test_each_purpose_has_its_own_key():
    keys = Keyring(NEW)
    digests = {keys.pseudonym(p, "same text").split(".")[1] for p in (SUBJECT, ADDRESS, END_USER_IP)}
    assert len(digests) == 3
    assert all(len(keys._current.keys[p]) == 32 for p in (SEAL, SUBJECT, ADDRESS, END_USER_IP))
    assert len(set(keys._current.keys.values())) == 4


def test_after_a_rotation_old_values_still_open_and_match():
    before = Keyring(OLD)
    sealed = before.seal("face-token", "session-1")
    ref = subject_ref(before, "c" * 32, "0f8fad5b-d9cb-469f-a165-70867728950e")
    rotated = Keyring(NEW, [OLD])
    assert rotated.unseal(sealed, "session-1") == "face-token"  # a replay in flight still works
    assert rotated.seal("x", "s").startswith(f"k2.{rotated.kid}.") and rotated.kid != before.kid
    refs = subject_refs(rotated, "c" * 32, "0f8fad5b-d9cb-469f-a165-70867728950e")
    assert refs[0] != ref and ref in refs  # new entries use the new key; old entries are still found
    with pytest.raises(UnknownKey):
        Keyring(NEW).unseal(sealed, "session-1")  # once the old secret is dropped, it is gone


def test_values_from_before_key_ids_still_open():
    """Rows written by the earlier release: AES-GCM under SHA-256 of the secret, untagged pseudonyms."""
    import hashlib
    import hmac
    import secrets

    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    legacy = hashlib.sha256(OLD.encode()).digest()
    nonce = secrets.token_bytes(12)
    sealed = (nonce + AESGCM(legacy).encrypt(nonce, b"face-token", b"session-1")).hex()
    assert Keyring(NEW, [OLD]).unseal(sealed, "session-1") == "face-token"
    text = f"{'c' * 32}|0f8fad5b-d9cb-469f-a165-70867728950e"
    old_ref = "subject:" + hmac.new(legacy + b"|audit-subject", text.encode(), hashlib.sha256).hexdigest()[:32]
    assert old_ref in subject_refs(Keyring(OLD), "c" * 32, "0f8fad5b-d9cb-469f-a165-70867728950e")

"""The telemetry redactor cannot be fooled (issue 25): every textual form of an IPv4 or IPv6 address
or a GUID, inside arbitrary text, leaves no trace in what is exported."""

from __future__ import annotations

import ipaddress
import uuid

from hypothesis import given
from hypothesis import strategies as st

from shared import telemetry
from shared.domain.secrets import new_id

TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30)
AFTER = st.sampled_from([" ", ".", ",", ";", ")", "]", "\n", "'", '"', "/", ". ", "!"])
BEFORE = st.sampled_from([" ", "(", "[", "'", '"', "=", "\n", "/", "@"])


def v6_forms(ip: ipaddress.IPv6Address) -> list[str]:
    forms = [str(ip), ip.exploded, str(ip).upper(), ip.exploded.upper()]
    forms.append(":".join(f"{int(g, 16):x}" for g in ip.exploded.split(":")))  # every group, unpadded: 0:0:0:8888
    if ip.ipv4_mapped is not None:
        forms.append(f"::ffff:{ip.ipv4_mapped}")
    return forms


def guid_forms(g: uuid.UUID) -> list[str]:
    return [str(g), str(g).upper(), g.hex, g.hex.upper(), "{" + str(g) + "}", g.urn, g.urn.upper()]


def survives(value: str, before: str, after: str, head: str, tail: str) -> bool:
    return value in telemetry.redact(f"{head}{before}{value}{after}{tail}")


@given(st.ip_addresses(v=4), BEFORE, AFTER, TEXT, TEXT)
def test_no_ipv4_address_survives(ip, before, after, head, tail):
    assert not survives(str(ip), before, after, head, tail)


@given(st.ip_addresses(v=6), st.data(), BEFORE, AFTER, TEXT, TEXT)
def test_no_ipv6_form_survives(ip, data, before, after, head, tail):
    form = data.draw(st.sampled_from(v6_forms(ip)))
    assert not survives(form, before, after, head, tail)


@given(st.ip_addresses(v=4), BEFORE, AFTER, TEXT, TEXT)
def test_no_ipv4_mapped_or_dotted_tail_survives(ip, before, after, head, tail):
    for form in (f"::ffff:{ip}", f"64:ff9b::{ip}", f"0:0:0:0:0:ffff:{ip}"):
        redacted = telemetry.redact(f"{head}{before}{form}{after}{tail}")
        assert str(ip) not in redacted.replace(head, "").replace(tail, "") or str(ip) in head + tail


@given(st.uuids(), st.data(), BEFORE, AFTER, TEXT, TEXT)
def test_no_guid_form_survives(g, data, before, after, head, tail):
    form = data.draw(st.sampled_from(guid_forms(g)))
    assert not survives(form, before, after, head, tail)


def test_the_known_escapes_are_closed():
    for text in ("2001:4860:4860:0:0:0:0:8888", "from 10.1.2.3.", "id 0f8fad5bd9cb469fa16570867728950e"):
        assert telemetry.redact(text) != text, text


def test_what_operators_need_is_left_alone():
    pseudonym = "subject:k1.0f8fad5bd9cb469fa16570867728950e"
    for text in ("until 2026-11-22T19:07:33+00:00", "took 0.25 s", "version 1.2.3", pseudonym):
        assert telemetry.redact(text) == text, text
    customer = new_id()
    assert telemetry.redact(f"customer {customer}", (customer,)) == f"customer {customer}"  # a kept field

"""SSRF edge forms (docs/api.md, Webhooks): every textual form of an address is judged by what it reaches."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.domain.webhook_urls import UnsafeUrl, check_url

PRIVATE_V4 = st.one_of(
    st.ip_addresses(v=4, network="10.0.0.0/8"),
    st.ip_addresses(v=4, network="172.16.0.0/12"),
    st.ip_addresses(v=4, network="192.168.0.0/16"),
    st.ip_addresses(v=4, network="127.0.0.0/8"),
    st.ip_addresses(v=4, network="169.254.0.0/16"),
    st.ip_addresses(v=4, network="100.64.0.0/10"),
    st.ip_addresses(v=4, network="0.0.0.0/8"),
    st.just(ipaddress.IPv4Address("168.63.129.16")),
)
PUBLIC_V4 = st.sampled_from([ipaddress.IPv4Address(a) for a in ("8.8.8.8", "1.1.1.1", "93.184.216.34", "20.42.0.1")])


def forms(v4: ipaddress.IPv4Address) -> list[str]:
    """IPv6 spellings that embed an IPv4 address: mapped, compatible, NAT64, 6to4, in several casings."""
    hi, lo = int(v4) >> 16, int(v4) & 0xFFFF
    spelled = [
        f"::ffff:{v4}",
        f"::FFFF:{v4}",
        f"::ffff:{hi:x}:{lo:x}",
        f"0:0:0:0:0:ffff:{v4}",
        f"64:ff9b::{v4}",
        f"64:FF9B::{hi:X}:{lo:X}",
        f"2002:{hi:x}:{lo:x}::1",
        f"2002:{hi:04X}:{lo:04X}:0:0:0:0:1",
    ]
    if int(v4) > 1:
        spelled.append(f"::{v4}")
    return spelled + [ipaddress.ip_address(f.lower()).exploded for f in spelled]


def resolving_to(address: str):
    return lambda host, port: [address]


@given(PRIVATE_V4, st.data())
def test_every_form_embedding_a_private_or_platform_ipv4_is_refused(v4, data):
    form = data.draw(st.sampled_from(forms(v4)))
    with pytest.raises(UnsafeUrl):
        check_url("https://hooks.example.test/in", resolve=resolving_to(form))


@given(PUBLIC_V4, st.data())
def test_a_form_embedding_a_public_ipv4_is_judged_by_that_address(v4, data):
    form = data.draw(st.sampled_from(forms(v4)))
    assert check_url("https://hooks.example.test/in", resolve=resolving_to(form)).address == form


@pytest.mark.parametrize("address", ["168.63.129.16", "169.254.169.254", "::ffff:168.63.129.16", "fe80::1%eth0"])
def test_azure_platform_and_link_local_addresses_are_refused(address):
    with pytest.raises(UnsafeUrl):
        check_url("https://hooks.example.test/", resolve=resolving_to(address))


def test_teredo_is_judged_by_the_addresses_it_carries():
    private_client = "2001:0:4136:e378:8000:63bf:f5ff:fffe"  # client 10.0.0.1 (obfuscated)
    with pytest.raises(UnsafeUrl):
        check_url("https://hooks.example.test/", resolve=resolving_to(private_client))


def test_one_unsafe_address_among_several_refuses_the_host():
    with pytest.raises(UnsafeUrl):
        check_url("https://hooks.example.test/", resolve=lambda h, p: ["8.8.8.8", "::ffff:10.1.2.3"])


def test_the_checked_target_names_the_address_to_connect_to():
    target = check_url("https://Hooks.Example.test:8443/in?x=1", resolve=resolving_to("93.184.216.34"))
    assert (target.host, target.port, target.path, target.address) == (
        "hooks.example.test",
        8443,
        "/in?x=1",
        "93.184.216.34",
    )

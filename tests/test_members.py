"""Member names: architecture[@replica][:method], and what they share."""

from __future__ import annotations

import pytest

import duolib as dl
from duolib import members


@pytest.mark.parametrize(
    ("name", "member"),
    [
        ("resnet50", members.Member("resnet50")),
        ("resnet50@3", members.Member("resnet50", 3)),
        ("resnet_small:ivon", members.Member("resnet_small", 0, "ivon")),
        ("resnet50.a1_in1k@2:greedy_soup", members.Member("resnet50.a1_in1k", 2, "greedy_soup")),
    ],
)
def test_member_names_round_trip(name, member):
    assert members.parse(name) == member
    assert member.name == name


@pytest.mark.parametrize("name", ["resnet50:adam", "resnet50@x", "resnet50@-1", "@2", ""])
def test_bad_member_names_are_refused(name):
    with pytest.raises(ValueError):
        members.parse(name)


def test_variants_share_their_architectures_zoo_entry():
    assert dl.zoo.get("lenet@4:ivon") == dl.zoo.get("lenet")
    assert dl.zoo.flops_balance("resnet_small:greedy_soup", "lenet") == pytest.approx(
        dl.zoo.flops_balance("resnet_small", "lenet")
    )
    assert members.replicas("lenet", 3) == ("lenet", "lenet@1", "lenet@2")

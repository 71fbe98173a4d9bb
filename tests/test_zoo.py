"""The zoo registry against torchvision's published metadata and our own FLOPs counter."""

from __future__ import annotations

import csv
import math
from importlib import resources

import pytest
import timm
import torchvision

import duolib as dl
from duolib.flops import count_gflops, count_params


@pytest.mark.parametrize("name", ["resnet50", "vit_b_16", "mnasnet0_75"])
def test_flop_counter_reproduces_torchvision_metadata(name):
    """Our counter (used for timm models) agrees with torchvision's published GFLOPs."""
    entry = torchvision.models.get_model_weights(name).DEFAULT
    model = torchvision.models.get_model(name, weights=None)
    measured = count_gflops(model, (3, 224, 224))
    assert measured == pytest.approx(entry.meta["_ops"], abs=1e-3)
    assert count_params(model) == entry.meta["num_params"]


def test_shipped_timm_table_matches_a_fresh_measurement():
    name = "vit_base_patch16_clip_224.laion2b_ft_in1k"
    path = resources.files("duolib") / "data" / "timm_models.csv"
    with path.open() as f:
        row = next(r for r in csv.DictReader(f) if r["name"] == name)
    model = timm.create_model(name, pretrained=False)
    assert float(row["gflops"]) == pytest.approx(count_gflops(model, (3, 224, 224)), rel=1e-4)
    assert int(row["params"]) == count_params(model)


def test_paper_table1_flops_balances():
    """Section 5.6: ResNet-50 + MNASNet0.75 / ShuffleNetV2 2.0x / EfficientNet-B2 = .05/.14/.27."""
    balances = [
        dl.zoo.flops_balance("resnet50", s)
        for s in ("mnasnet0_75", "shufflenet_v2_x2_0", "efficientnet_b2")
    ]
    assert [round(b, 2) for b in balances] == [0.05, 0.14, 0.27]


def test_registry_entries():
    resnet = dl.zoo.get("resnet50")
    assert (resnet.gflops, resnet.params, resnet.imagenet_top1) == (4.089, 25557032, 80.858)
    assert resnet.weights == "ResNet50_Weights.IMAGENET1K_V2"
    for name in dl.zoo.LARGE_MODELS:
        entry = dl.zoo.get(name)
        assert entry.role == "large" and entry.gflops > 4
    vit = dl.zoo.get("vit_base_patch16_clip_224.laion2b_ft_in1k")
    assert vit.source == "timm" and math.isnan(vit.imagenet_top1) and vit.family == "ViT"
    assert len(set(dl.zoo.names())) == len(dl.zoo.names())


def test_catalog_covers_every_torchvision_classifier():
    catalog = dl.zoo.torchvision_catalog()
    assert len(catalog) == len(torchvision.models.list_models(module=torchvision.models))
    assert catalog[["gflops", "params", "imagenet_top1"]].notna().all().all()
    assert (catalog["family"] != "other").all()
    assert catalog["in_paper_zoo"].sum() >= 25


def test_paper_ensemble_checkpoints_are_resnet50s_at_equal_cost():
    checkpoints = dl.profiles.get("paper").baselines.ensemble_members
    assert len(checkpoints) == 10 and len(set(checkpoints)) == 10
    for name in checkpoints:
        entry = dl.zoo.get(name)
        assert entry.family == "ResNet"
        assert entry.gflops == pytest.approx(4.089, abs=1e-3)  # torchvision's ResNet-50 at 224

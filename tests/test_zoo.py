"""The zoo registry against torchvision's and timm's published metadata and our own FLOPs
counter; pretrained builds from local weight files, and the clear error when a download fails."""

from __future__ import annotations

import csv
import math
import shutil
import urllib.error
from importlib import resources

import numpy as np
import pytest
import timm
import timm.data
import timm.models._hub
import torch
import torch.hub
import torchvision
from torchvision.transforms import CenterCrop, Normalize, Resize

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
    name = "vit_base_patch16_clip_224.laion2b_ft_in12k_in1k"
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
    vit = dl.zoo.get("vit_base_patch16_clip_224.laion2b_ft_in12k_in1k")
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


# --- evaluation preprocessing -------------------------------------------------------------


def _timm_reference(name):
    """Sizes, statistics and interpolation read out of the transform timm itself builds."""
    config = timm.data.resolve_data_config(
        {}, pretrained_cfg=timm.get_pretrained_cfg(name).to_dict()
    )
    steps = timm.data.create_transform(**config).transforms
    (resize,) = [t for t in steps if isinstance(t, Resize)]
    (crop,) = [t for t in steps if isinstance(t, CenterCrop)]
    (normalize,) = [t for t in steps if isinstance(t, Normalize)]
    if isinstance(resize.size, int):  # short side, aspect ratio kept
        resize_size, crop_mode = resize.size, "center"
    else:  # both sides: timm's "squash"
        (resize_size, other), crop_mode = resize.size, "squash"
        assert other == resize_size
    (crop_size, crop_width) = crop.size
    assert crop_width == crop_size
    return dict(
        resize_size=resize_size,
        crop_size=crop_size,
        mean=tuple(normalize.mean.tolist()),
        std=tuple(normalize.std.tolist()),
        interpolation=resize.interpolation.value,
        crop_mode=crop_mode,
    )


def _torchvision_reference(name):
    transform = torchvision.models.get_model_weights(name).DEFAULT.transforms()
    return dict(
        resize_size=transform.resize_size[0],
        crop_size=transform.crop_size[0],
        mean=tuple(transform.mean),
        std=tuple(transform.std),
        interpolation=transform.interpolation.value,
        crop_mode="center",
    )


PAPER_MODELS = tuple(dict.fromkeys(dl.zoo.names() + dl.zoo.ENSEMBLE_CHECKPOINTS))


@pytest.mark.parametrize("name", PAPER_MODELS)
def test_preprocessing_is_the_published_recipe(name):
    expected = _timm_reference(name) if name in dl.zoo.TIMM_MODELS else _torchvision_reference(name)
    got = dl.zoo.preprocessing(name)
    for field in ("resize_size", "crop_size", "interpolation", "crop_mode"):
        assert getattr(got, field) == expected[field], field
    assert got.mean == pytest.approx(expected["mean"], abs=1e-6)  # timm's are float32 tensors
    assert got.std == pytest.approx(expected["std"], abs=1e-6)


@pytest.mark.parametrize(
    "name, resize, crop, interpolation",
    [
        ("resnet50", 232, 224, "bilinear"),  # IMAGENET1K_V2: not the classic 256
        ("efficientnet_b2", 288, 288, "bicubic"),
        ("efficientnet_b3", 320, 300, "bicubic"),
        ("efficientnet_b4", 384, 380, "bicubic"),
        ("swin_v2_b", 272, 256, "bicubic"),
        ("resnet50.a2_in1k", 235, 224, "bicubic"),  # crop_pct 0.95: floor(224 / 0.95)
        ("resnet50.fb_ssl_yfcc100m_ft_in1k", 256, 224, "bilinear"),  # crop_pct 0.875
    ],
)
def test_preprocessing_hand_checked_sizes(name, resize, crop, interpolation):
    got = dl.zoo.preprocessing(name)
    assert (got.resize_size, got.crop_size, got.interpolation) == (resize, crop, interpolation)
    assert (got.mean, got.std, got.crop_mode) == (
        dl.zoo.IMAGENET_MEAN,
        dl.zoo.IMAGENET_STD,
        "center",
    )


def test_preprocessing_of_the_timm_large_models():
    effnet = dl.zoo.preprocessing("tf_efficientnetv2_l.in21k_ft_in1k")
    assert effnet == dl.zoo.Preprocessing(
        384, 384, (0.5, 0.5, 0.5), (0.5, 0.5, 0.5), "bicubic", crop_mode="squash"
    )
    clip = dl.zoo.preprocessing("vit_base_patch16_clip_224.laion2b_ft_in12k_in1k")
    assert clip == dl.zoo.Preprocessing(
        235,  # crop_pct 0.95 in timm's config: floor(224 / 0.95)
        224,
        (0.48145466, 0.4578275, 0.40821073),
        (0.26862954, 0.26130258, 0.27577711),
        "bicubic",
    )


def test_demo_preprocessing_is_32_pixels_with_imagenet_statistics():
    for name in dl.architectures.DEMO_ARCHITECTURES:
        assert dl.zoo.preprocessing(name) == dl.zoo.Preprocessing(
            32, 32, (0.485, 0.456, 0.406), (0.229, 0.224, 0.225), "bilinear", "center"
        )


def test_preprocessing_crop_is_the_zoo_input_size():
    for name in dl.zoo.known_names():
        assert dl.zoo.preprocessing(name).crop_size == dl.zoo.get(name).input_size, name


def test_preprocessing_names_like_get():
    assert dl.zoo.preprocessing("resnet50@2:ivon") == dl.zoo.preprocessing("resnet50")
    for bad in ("resnet5O", "resnet50@x", 50):
        with pytest.raises(ValueError) as from_get:
            dl.zoo.get(bad)
        with pytest.raises(ValueError) as from_preprocessing:
            dl.zoo.preprocessing(bad)
        assert str(from_preprocessing.value) == str(from_get.value)


# --- pretrained weights from DUOLIB_WEIGHTS -----------------------------------------------

LOCAL = ("mnasnet0_5", "resnet50.a2_in1k")  # a torchvision and a timm architecture


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    return dl.zoo.write_weights(tmp_path_factory.mktemp("weights"), LOCAL, seed=3)


def _head_keys(model):
    """The state-dict keys of the classifier's weight and bias."""
    head = dl.zoo.classifier(model)
    (prefix,) = [name for name, module in model.named_modules() if module is head]
    return f"{prefix}.weight", f"{prefix}.bias"


@pytest.mark.parametrize("name", LOCAL)
def test_pretrained_from_local_weights_keeps_the_published_head(name, weights, monkeypatch):
    monkeypatch.setenv("DUOLIB_WEIGHTS", str(weights))
    saved = torch.load(weights / f"{name}.pth", weights_only=True)
    model = dl.zoo.build(name, 1000, pretrained=True)
    state = model.state_dict()
    assert state.keys() == saved.keys()
    assert all(torch.equal(state[key], saved[key]) for key in saved)
    head = dl.zoo.classifier(model)
    weight_key, bias_key = _head_keys(model)
    assert head.out_features == 1000
    assert torch.equal(head.weight, saved[weight_key]) and torch.equal(head.bias, saved[bias_key])


@pytest.mark.parametrize("name", LOCAL)
def test_pretrained_with_another_class_count_gets_a_new_head(name, weights, monkeypatch):
    monkeypatch.delenv("DUOLIB_WEIGHTS", raising=False)
    saved = torch.load(weights / f"{name}.pth", weights_only=True)
    model = dl.zoo.build(name, 257, pretrained=True, weights_dir=weights)
    assert dl.zoo.classifier(model).out_features == 257
    state = model.state_dict()
    head = _head_keys(model)
    assert state.keys() == saved.keys()
    assert all(torch.equal(state[key], saved[key]) for key in saved.keys() - set(head))
    assert all(state[key].shape[0] == 257 for key in head)


def test_weights_dir_wins_over_the_environment(weights, tmp_path, monkeypatch):
    monkeypatch.setenv("DUOLIB_WEIGHTS", str(tmp_path))  # empty
    model = dl.zoo.build("mnasnet0_5@1:ivon", 1000, pretrained=True, weights_dir=weights)
    saved = torch.load(weights / "mnasnet0_5.pth", weights_only=True)
    assert torch.equal(dl.zoo.classifier(model).weight, saved["classifier.1.weight"])


def test_missing_weights_file_names_the_model_and_the_variable(tmp_path, monkeypatch):
    monkeypatch.setenv("DUOLIB_WEIGHTS", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="mnasnet0_5") as err:
        dl.zoo.build("mnasnet0_5", 1000, pretrained=True)
    assert "DUOLIB_WEIGHTS" in str(err.value) and str(tmp_path / "mnasnet0_5.pth") in str(err.value)


def test_weights_of_another_architecture_or_a_damaged_file_are_refused(weights, tmp_path):
    wrong = tmp_path / "shufflenet_v2_x0_5.pth"
    shutil.copy(weights / "mnasnet0_5.pth", wrong)
    with pytest.raises(ValueError, match="shufflenet_v2_x0_5.pth") as err:
        dl.zoo.build("shufflenet_v2_x0_5", 1000, pretrained=True, weights_dir=tmp_path)
    assert "missing" in str(err.value) and "unexpected" in str(err.value)
    wrong.write_bytes(b"not a state dict")
    with pytest.raises(ValueError, match="cannot read .*shufflenet_v2_x0_5.pth"):
        dl.zoo.build("shufflenet_v2_x0_5", 1000, pretrained=True, weights_dir=tmp_path)
    torch.save({"only": torch.zeros(2)}, wrong)
    with pytest.raises(ValueError, match="shufflenet_v2_x0_5.pth does not fit"):
        dl.zoo.build("shufflenet_v2_x0_5", 10, pretrained=True, weights_dir=tmp_path)


def test_shape_mismatches_are_named(weights, tmp_path):
    saved = torch.load(weights / "mnasnet0_5.pth", weights_only=True)
    saved["classifier.1.weight"] = saved["classifier.1.weight"][:10]
    torch.save(saved, tmp_path / "mnasnet0_5.pth")
    with pytest.raises(ValueError, match=r"mismatched keys, e.g. classifier.1.weight \(10, 1280\)"):
        dl.zoo.build("mnasnet0_5", 1000, pretrained=True, weights_dir=tmp_path)


def test_write_weights_is_deterministic_atomic_and_skips_good_files(tmp_path):
    rng = torch.get_rng_state()
    first = dl.zoo.write_weights(tmp_path / "a", ["mnasnet0_5"], seed=7)
    assert torch.equal(torch.get_rng_state(), rng)  # the caller's random stream is untouched
    second = dl.zoo.write_weights(tmp_path / "b", ["mnasnet0_5@2"], seed=7)
    a = torch.load(first / "mnasnet0_5.pth", weights_only=True)
    b = torch.load(second / "mnasnet0_5.pth", weights_only=True)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert a["classifier.1.weight"].shape == (1000, 1280)
    assert sorted(p.name for p in first.iterdir()) == ["mnasnet0_5.pth"]  # no temporary left

    path = first / "mnasnet0_5.pth"
    stamp = path.stat().st_mtime_ns
    dl.zoo.write_weights(first, ["mnasnet0_5"], seed=8)
    assert path.stat().st_mtime_ns == stamp  # it loads: kept
    path.write_bytes(b"truncated")
    dl.zoo.write_weights(first, ["mnasnet0_5"], seed=7)
    again = torch.load(path, weights_only=True)
    assert all(torch.equal(again[k], a[k]) for k in a)
    with pytest.raises(ValueError, match="demo architecture"):
        dl.zoo.write_weights(tmp_path, ["lenet"])


def test_demo_architectures_have_no_published_weights(tmp_path):
    with pytest.raises(ValueError, match="no published weights"):
        dl.zoo.build("lenet", 10, pretrained=True, weights_dir=tmp_path)


# --- downloading ----------------------------------------------------------------------------


def _offline(monkeypatch, tmp_path):
    """Every download helper fails as it does without a network; records that it was asked."""
    calls = []

    def fail(*args, **kwargs):
        calls.append(args)
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.delenv("DUOLIB_WEIGHTS", raising=False)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))  # no cached checkpoint to fall back on
    monkeypatch.setattr(torch.hub, "download_url_to_file", fail)
    monkeypatch.setattr(timm.models._hub, "hf_hub_download", fail)
    return calls


@pytest.mark.parametrize("name", LOCAL)
def test_a_failed_download_says_how_to_run_offline(name, monkeypatch, tmp_path):
    calls = _offline(monkeypatch, tmp_path)
    with pytest.raises(RuntimeError) as err:
        dl.zoo.build(name, 1000, pretrained=True)
    assert calls, "the download helper was not reached"
    message = str(err.value)
    assert name in message and f"{name}.pth" in message and "DUOLIB_WEIGHTS" in message
    assert isinstance(err.value.__cause__, urllib.error.URLError)


def test_ensemble_checkpoints_fit_the_papers_ten_resnet50s():
    """Appendix A.5 / Table 1: ten ResNet-50s from timm and torchvision, 79.82% +- 0.51 top-1."""
    ten = dl.zoo.ENSEMBLE_CHECKPOINTS
    assert len(set(ten)) == 10 and "resnet50.tv_in1k" not in ten  # V1 weights: 76.13%
    assert any("." not in n for n in ten) and any("." in n for n in ten)  # both sources
    top1 = [dl.zoo.get(n).imagenet_top1 for n in ten]
    assert all(np.isfinite(top1))
    # Published at up to 288 px, evaluated at 224: their mean may sit a little above 79.82.
    assert 79.3 <= np.mean(top1) <= 80.4 and min(top1) > 78.5
    for name in ten:
        assert dl.zoo.preprocessing(name).crop_size == 224

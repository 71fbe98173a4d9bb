"""LP-FT, resuming, and the model builders (weights-free, no network)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch
import torchvision
from PIL import Image
from torchvision.transforms import v2

import duolib as dl
from duolib import train
from duolib.architectures import DEMO_ARCHITECTURES
from duolib.data import ArrayDataset


def easy_task(n, seed):
    """4 classes: a bright square in one of the four quadrants, on noise."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 4, n)
    images = rng.integers(0, 90, (n, 3, 32, 32)).astype(np.uint8)
    for i, label in enumerate(labels):
        r, c = divmod(int(label), 2)
        top, left = r * 16 + rng.integers(2, 6), c * 16 + rng.integers(2, 6)
        images[i, :, top : top + 9, left : left + 9] = 230
    return ArrayDataset(torch.from_numpy(images), torch.from_numpy(labels), list("abcd"))


@pytest.fixture(scope="module")
def task():
    return easy_task(384, 0), easy_task(128, 1)


def test_linear_probe_only_touches_the_head(task):
    train_set, val_set = task
    model = dl.zoo.build("resnet_mini", num_classes=4)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    head = dl.zoo.classifier(model)
    head_names = {f"fc.{n}" for n, _ in head.named_parameters()}
    acc, history = train.linear_probe(
        model, train_set, val_set, epochs=2, lr=1e-2, batch_size=64, seed=0, rt=train.runtime()
    )
    after = {k: v.cpu() for k, v in model.state_dict().items()}  # on a GPU LP moves the model
    for name, value in before.items():
        if name in head_names:
            assert not torch.equal(value, after[name]), f"head {name} did not train"
        else:
            assert torch.equal(value, after[name]), f"backbone {name} changed during LP"
    assert len(history) == 2 and 0 <= acc <= 1


def test_fine_tuning_improves_on_the_linear_probe(task, tmp_path):
    train_set, val_set = task
    model = dl.zoo.build("resnet_mini", num_classes=4)
    rt = train.runtime()
    lp_acc, _ = train.linear_probe(
        model, train_set, val_set, epochs=2, lr=1e-2, batch_size=64, seed=0, rt=rt
    )
    _, ft_acc, history = train.run_epochs(
        model,
        train_set,
        val_set,
        epochs=3,
        lr=3e-3,
        weight_decay=1e-4,
        batch_size=32,
        checkpoint=tmp_path / "ft.pt",
        seed=0,
        rt=rt,
    )
    assert ft_acc > lp_acc + 0.1, (lp_acc, ft_acc, history)


def test_interrupted_training_resumes_to_the_same_weights(task, tmp_path):
    train_set, val_set = task
    settings = dict(
        epochs=3,
        lr=3e-3,
        weight_decay=1e-4,
        batch_size=64,
        seed=3,
        augment=train.randaugment((2, 5)),
    )
    reference, ref_acc, ref_history = train.run_epochs(
        dl.zoo.build("lenet", 4), train_set, val_set, checkpoint=tmp_path / "a.pt", **settings
    )
    with pytest.raises(train.loop._StopAfter):
        train.run_epochs(
            dl.zoo.build("lenet", 4),
            train_set,
            val_set,
            checkpoint=tmp_path / "b.pt",
            stop_after_epochs=1,
            **settings,
        )
    assert torch.load(tmp_path / "b.pt", weights_only=False)["epoch"] == 1
    resumed, acc, history = train.run_epochs(
        dl.zoo.build("lenet", 4), train_set, val_set, checkpoint=tmp_path / "b.pt", **settings
    )
    assert acc == ref_acc and len(history) == 3
    for name, value in reference.items():
        assert torch.equal(value, resumed[name]), name


@pytest.mark.parametrize("content", [b"PK\x03\x04 torn zip", None])
def test_a_corrupted_checkpoint_is_named_and_training_restarts(task, tmp_path, content):
    train_set, val_set = task
    settings = dict(epochs=1, lr=3e-3, weight_decay=1e-4, batch_size=64, seed=1)
    fresh, fresh_acc, _ = train.run_epochs(
        dl.zoo.build("lenet", 4), train_set, val_set, checkpoint=tmp_path / "a.pt", **settings
    )
    bad = tmp_path / "bad.pt"
    if content is None:  # a readable file that is not a training state
        torch.save({"epoch": 3}, bad)
    else:
        bad.write_bytes(content)
    with pytest.warns(UserWarning, match=r"checkpoint .*bad\.pt is corrupted"):
        state, acc, history = train.run_epochs(
            dl.zoo.build("lenet", 4), train_set, val_set, checkpoint=bad, **settings
        )
    assert acc == fresh_acc and len(history) == 1  # trained from scratch, same seed
    for name, value in fresh.items():
        assert torch.equal(value, state[name]), name
    assert train.load_checkpoint(bad)["epoch"] == 1  # the new checkpoint replaced the bad one


def test_search_space_stays_in_the_recipe_ranges():
    recipe = dl.profiles.get("paper").recipe
    trials = train.search_space(recipe, seed=0)
    assert len(trials) == recipe.trials
    assert trials[0]["lr"] == pytest.approx(np.sqrt(1e-6 * 3e-4))
    for t in trials:
        assert 1e-6 <= t["lr"] <= 3e-4 and 1e-8 <= t["weight_decay"] <= 1e-5


def test_warmup_cosine_schedule():
    factor = train.warmup_cosine(100, 0.1)
    assert factor(0) == pytest.approx(0.1) and factor(9) == pytest.approx(1.0)
    assert factor(55) == pytest.approx(0.5) and factor(100) == pytest.approx(0.0)


@pytest.mark.parametrize(
    "name",
    [
        "resnet50",
        "mnasnet0_75",
        "efficientnet_b2",
        "swin_t",
        "convnext_tiny",
        "vit_base_patch16_clip_224.laion2b_ft_in12k_in1k",
    ],
)
def test_paper_architectures_build_with_a_new_head(name):
    model = dl.zoo.build(name, num_classes=257)
    assert dl.zoo.classifier(model).out_features == 257
    size = dl.zoo.get(name).input_size if name.startswith("vit") else 64
    with torch.no_grad():
        assert model.eval()(torch.zeros(1, 3, size, size)).shape == (1, 257)


def test_demo_zoo_spans_fifty_fold_compute_and_has_no_name_clash():
    flops = [dl.zoo.get(name).gflops for name in DEMO_ARCHITECTURES]
    assert max(flops) / min(flops) >= 50
    assert not set(DEMO_ARCHITECTURES) & set(dl.zoo.names())
    assert set(dl.profiles.get("demo").zoo) <= set(DEMO_ARCHITECTURES)
    with pytest.raises(ValueError, match="no published weights"):
        dl.zoo.build("lenet", 10, pretrained=True)


def _ddp_worker(rank, world_size, port, out_dir):
    import os

    os.environ.update(
        {
            "MASTER_ADDR": "127.0.0.1",
            "MASTER_PORT": str(port),
            "WORLD_SIZE": str(world_size),
            "RANK": str(rank),
            "LOCAL_RANK": str(rank),
        }
    )
    torch.set_num_threads(1)
    rt = train.runtime(device="cpu", amp=False)
    train_set, val_set = easy_task(128, 0), easy_task(64, 1)
    state, _, _ = train.run_epochs(
        dl.zoo.build("lenet", 4),
        train_set,
        val_set,
        epochs=1,
        lr=3e-3,
        weight_decay=0.0,
        batch_size=16,
        checkpoint=out_dir / "ddp.pt",
        seed=0,
        rt=rt,
    )
    torch.save(state, out_dir / f"rank{rank}.pt")
    torch.distributed.destroy_process_group()


def test_distributed_data_parallel_keeps_ranks_in_sync(tmp_path):
    """Two CPU processes under the gloo backend, as torchrun would start them."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    torch.multiprocessing.spawn(_ddp_worker, args=(2, port, tmp_path), nprocs=2, join=True)
    a, b = (torch.load(tmp_path / f"rank{r}.pt") for r in (0, 1))
    for name in a:
        assert torch.equal(a[name], b[name]), name
    assert (tmp_path / "ddp.pt").exists()  # only rank 0 writes, once


def test_longer_searches_extend_shorter_ones(smoke_cache):
    one = train.finetune_trials("lenet", "smoke", count=1)
    three = train.finetune_trials("lenet", "smoke", count=3)
    assert len(three) == 3
    assert three[0]["directory"] == one[0]["directory"]  # reused, not retrained
    assert len({t["directory"] for t in three}) == 3
    assert len({(t["lr"], t["weight_decay"]) for t in three}) == 3


def test_replicas_are_independently_trained(smoke_cache):
    a, _ = train.finetuned("lenet", "smoke")
    b, meta = train.finetuned("lenet@1", "smoke")
    assert meta["model"] == "lenet@1"
    pairs = zip(a.state_dict().values(), b.state_dict().values(), strict=True)
    assert any(not torch.equal(x, y) for x, y in pairs)


class _SpyAugment(torch.nn.Module):
    """RandAugment that records what it was given (the paper path augments PIL images), in a
    file: data loader workers run it in other processes."""

    def __init__(self, log):
        super().__init__()
        self.log, self.augment = log, v2.RandAugment()

    def forward(self, image):
        with open(self.log, "a") as f:
            f.write(("PIL" if isinstance(image, Image.Image) else type(image).__name__) + "\n")
        return self.augment(image)


def test_lpft_fine_tunes_a_torchvision_model_on_a_fake_caltech_folder(tmp_path, monkeypatch):
    """The paper path end to end for one model: generated Caltech 256 folder, weights file,
    per-model transform, RandAugment on the PIL image, one LP epoch and one FT epoch, and a
    fine-tune that reloads (MNASNet needs its module versions in the state dict)."""
    monkeypatch.setenv("DUOLIB_CACHE", str(tmp_path))
    rehearsal = dl.profiles.get("paper-rehearsal")
    settings = replace(
        rehearsal,
        name="lpft-on-caltech",
        zoo=("mnasnet0_5",),
        recipe=replace(rehearsal.recipe, trials=1),
        baselines=None,
    )
    log = tmp_path / "augmented.txt"
    monkeypatch.setattr(train.lpft, "randaugment", lambda *_: _SpyAugment(log))
    (trial,) = train.finetune_trials("mnasnet0_5", settings, "caltech256")
    assert [h["epoch"] for h in trial["history"]] == [1]
    assert [h["epoch"] for h in trial["lp_history"]] == [1]
    train_set = dl.data.load("caltech256", "train", settings)
    seen = log.read_text().split()
    assert set(seen) == {"PIL"} and len(seen) == len(train_set)
    model = train.load_trial(trial, num_classes=len(train_set.classes))
    assert dl.zoo.classifier(model).out_features == len(train_set.classes) == 5


def test_cpu_state_dict_keeps_module_versions_for_mnasnet():
    source = torchvision.models.mnasnet0_5(weights=None)
    state = train.cpu_state_dict(source)
    plain = {k: v.clone() for k, v in state.items()}  # what a dict copy loses: _metadata
    target = torchvision.models.mnasnet0_5(weights=None)
    target.load_state_dict(state)
    assert all(torch.equal(target.state_dict()[k], v) for k, v in state.items())
    with pytest.raises(ValueError, match="version"):
        target.load_state_dict(plain)


def test_released_linear_probe_search_draws_log_uniform_rates_in_its_range():
    recipe = dl.profiles.get("paper").recipe
    assert recipe.lp_lr_range == (1e-4, 1e-2)  # train/hp_tune.py:157, tune.loguniform(1e-4, 1e-2)
    rates = train.lpft.lp_learning_rates(recipe, seed=0)
    assert len(rates) == recipe.lp_trials == 4  # hp_tune.py:174, num_samples=4
    assert rates[0] == pytest.approx(1e-3)  # the geometric centre first
    assert all(1e-4 <= r <= 1e-2 for r in rates)
    assert train.lpft.lp_learning_rates(dl.profiles.get("demo").recipe, 0) == [1e-2]
    many = train.lpft.lp_learning_rates(replace(recipe, lp_trials=2001), seed=1)[1:]
    logs = np.log10(many)
    # Log-uniform: the log10 rates are uniform on [-4, -2] (mean -3, sd 2 / sqrt(12)).
    assert abs(logs.mean() + 3) < 0.05 and abs(logs.std() - 2 / np.sqrt(12)) < 0.03
    with pytest.raises(ValueError, match="lp_trials"):
        train.lpft.lp_learning_rates(replace(recipe, lp_trials=0), 0)


def test_constant_rate_probe_keeps_its_learning_rate(task):
    """schedule=False (the released probe) trains at one rate: with lr 0 nothing moves."""
    train_set, val_set = task
    model = dl.zoo.build("resnet_mini", num_classes=4)
    head_before = {k: v.clone() for k, v in dl.zoo.classifier(model).state_dict().items()}
    train.linear_probe(
        model, train_set, val_set, epochs=1, lr=0.0, batch_size=64, seed=0,
        rt=train.runtime(), schedule=False,
    )  # fmt: skip
    for name, value in dl.zoo.classifier(model).state_dict().items():
        assert torch.equal(value, head_before[name])


def test_selection_by_macro_f1_scores_like_scikit_learn():
    from sklearn.metrics import f1_score

    rng = np.random.default_rng(0)
    labels = rng.integers(0, 5, 300)
    logits = torch.from_numpy(2 * np.eye(5)[labels] + rng.normal(size=(300, 5)))
    scores = train.loop.validation_scores(logits, torch.from_numpy(labels), "macro_f1")
    prediction = logits.argmax(1).numpy()
    assert scores["val_macro_f1"] == pytest.approx(f1_score(labels, prediction, average="macro"))
    assert scores["val_accuracy"] == pytest.approx(float((prediction == labels).mean()))
    assert "val_macro_f1" not in train.loop.validation_scores(logits, labels, "accuracy")
    with pytest.raises(ValueError, match="select_by"):
        train.loop.validation_scores(logits, labels, "auroc")
    # The epoch kept by F1 can differ from the one accuracy would keep; its accuracy is reported.
    history = [
        {"val_accuracy": 0.9, "val_macro_f1": 0.5},
        {"val_accuracy": 0.8, "val_macro_f1": 0.7},
        {"val_accuracy": 0.7, "val_macro_f1": 0.7},
    ]
    assert train.lpft._accuracy_at_best(history, "macro_f1") == 0.8  # first of equal scores
    assert train.lpft._accuracy_at_best(history, "accuracy") == 0.9


def test_paper_recipes_follow_the_released_code():
    paper = dl.profiles.get("paper")
    # train/hp_tune.py:100 selects iWildCam trials by macro-F1, the others by accuracy.
    assert paper.recipe_for("iwildcam").select_by == "macro_f1"
    assert paper.recipe_for("caltech256").select_by == "accuracy"
    assert paper.recipe.hflip  # load_models/transforms.py: RandomHorizontalFlip after RandAugment
    b = paper.baselines
    # train/ivon_train.py: lr default 1e-3 (141), 36 epochs (164), ivon-opt's defaults
    # otherwise, starting from the fine-tuned checkpoint (151-156).
    assert (b.ivon_lr, b.ivon_hess_init, b.ivon_weight_decay) == (1e-3, 1.0, 1e-4)
    assert (b.ivon_epochs, b.ivon_start) == (36, "finetuned")

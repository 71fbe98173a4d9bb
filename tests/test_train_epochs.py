"""Shared augmented epochs (duolib.train.epochs): the same training as augmenting on the fly."""

from __future__ import annotations

import pytest
import torch
from test_train import easy_task
from torchvision.transforms import v2

import duolib as dl
from duolib import train
from duolib.train import epochs
from duolib.train.runtime import loader


def _on_the_fly(train_set, augment, seed, epoch, batch_size):
    """The reference: what the loader yields when it augments every image as it is read."""
    torch.manual_seed(seed * 1_000 + epoch)
    batches = list(
        loader(train_set.with_augmentation(augment), batch_size, True, seed, epoch, train.runtime())
    )
    return batches, torch.get_rng_state()


@pytest.mark.parametrize("batch_size", [7, 64, 500])
def test_a_shared_epoch_is_the_loaders_and_leaves_the_rng_as_it(tmp_path, monkeypatch, batch_size):
    monkeypatch.setenv("DUOLIB_CACHE", str(tmp_path))
    train_set, augment = easy_task(200, 0), v2.RandAugment(num_ops=2, magnitude=9)
    expected, rng_after = _on_the_fly(train_set, augment, seed=3, epoch=1, batch_size=batch_size)
    for attempt in ("drawn", "read from the cache"):
        torch.manual_seed(3 * 1_000 + 1)
        images, labels = epochs.augmented_epoch(train_set, augment, 3, 1, train.runtime())
        got = epochs.batches(images, labels, batch_size)
        assert len(got) == len(expected), attempt
        for (gi, gl), (ei, el) in zip(got, expected, strict=True):
            assert torch.equal(gi, ei) and torch.equal(gl, el), attempt
        assert torch.equal(torch.get_rng_state(), rng_after), attempt
    # The augmentation really changed the images, and another epoch draws other ones.
    assert sorted(labels.tolist()) == sorted(train_set.labels.tolist())
    assert not torch.equal(images, train_set.images)
    other, _ = epochs.augmented_epoch(train_set, augment, 3, 2, train.runtime())
    assert not torch.equal(other, images)
    assert len(list((tmp_path / "epochs").iterdir())) == 2


def test_training_on_shared_epochs_gives_bitwise_the_same_model(tmp_path, monkeypatch):
    monkeypatch.setenv("DUOLIB_CACHE", str(tmp_path))
    train_set, val_set = easy_task(192, 0), easy_task(64, 1)

    def fit(checkpoint):
        model = dl.zoo.build("lenet", num_classes=4)
        state, acc, history = train.run_epochs(
            model,
            train_set,
            val_set,
            epochs=2,
            lr=3e-3,
            weight_decay=1e-4,
            batch_size=48,
            checkpoint=tmp_path / checkpoint,
            seed=5,
            augment=v2.RandAugment(num_ops=2, magnitude=9),
        )
        return state, [h["val_accuracy"] for h in history]

    monkeypatch.setattr(epochs, "shareable", lambda *args: False)
    reference, reference_acc = fit("reference.pt")
    assert not (tmp_path / "epochs").exists()
    monkeypatch.undo()
    monkeypatch.setenv("DUOLIB_CACHE", str(tmp_path))
    for run in ("first", "second"):  # drawn, then read back
        state, acc = fit(f"{run}.pt")
        assert acc == reference_acc
        for name, value in reference.items():
            assert torch.equal(state[name], value), f"{run}: {name} differs"
    assert len(list((tmp_path / "epochs").iterdir())) == 2


def test_another_dataset_or_augmentation_gets_its_own_epoch(tmp_path, monkeypatch):
    monkeypatch.setenv("DUOLIB_CACHE", str(tmp_path))
    rt = train.runtime()
    first, second = easy_task(100, 0), easy_task(100, 1)
    weak, strong = v2.RandAugment(num_ops=1, magnitude=3), v2.RandAugment(num_ops=2, magnitude=9)
    a, _ = epochs.augmented_epoch(first, weak, 0, 0, rt)
    b, _ = epochs.augmented_epoch(second, weak, 0, 0, rt)
    c, _ = epochs.augmented_epoch(first, strong, 0, 0, rt)
    assert not torch.equal(a, b) and not torch.equal(a, c)
    assert len(list((tmp_path / "epochs").iterdir())) == 3
    assert epochs.fingerprint(first) != epochs.fingerprint(second)


def test_a_corrupted_epoch_is_drawn_again(tmp_path, monkeypatch):
    monkeypatch.setenv("DUOLIB_CACHE", str(tmp_path))
    rt, train_set = train.runtime(), easy_task(100, 0)
    augment = v2.RandAugment(num_ops=2, magnitude=9)
    torch.manual_seed(0)
    images, _ = epochs.augmented_epoch(train_set, augment, 0, 0, rt)
    (entry,) = (tmp_path / "epochs").iterdir()
    (entry / "images.npy").write_bytes(b"torn")
    torch.manual_seed(0)
    with pytest.warns(UserWarning, match="augmented epoch"):
        again, _ = epochs.augmented_epoch(train_set, augment, 0, 0, rt)
    assert torch.equal(again, images)


def test_only_in_memory_single_process_training_is_shared():
    augment = v2.RandAugment()
    assert epochs.shareable(easy_task(10, 0), augment, world_size=1)
    assert not epochs.shareable(easy_task(10, 0), None, world_size=1)
    assert not epochs.shareable(torch.utils.data.TensorDataset(torch.zeros(2)), augment)
    assert not epochs.shareable(easy_task(10, 0), augment, world_size=2)

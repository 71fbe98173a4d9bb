"""Where training and inference run: device, mixed precision, data loaders, torchrun.

One code path serves CPU, one GPU and several GPUs: the device is chosen automatically; on CUDA
it uses mixed precision (bf16 where supported, else fp16 with loss scaling) and channels_last; on
a CPU with bf16 support it uses bf16 autocast; under ``torchrun`` (``WORLD_SIZE > 1``) it joins
the process group, and the training loop wraps the model in DistributedDataParallel and shards
batches with a DistributedSampler. Datasets yield uint8 images already resized and cropped for
the model (``duolib.data``); they are normalised on the device with the mean and std of the
model's own preprocessing, which the dataset carries (``dataset.preprocessing``; ImageNet
statistics for the generated benchmark).
"""

from __future__ import annotations

import os
from collections import OrderedDict
from contextlib import nullcontext
from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.data import DataLoader, DistributedSampler
from tqdm.auto import tqdm

from .. import data, zoo


@dataclass(frozen=True)
class Runtime:
    device: torch.device
    amp_dtype: torch.dtype | None
    world_size: int = 1
    rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def autocast(self):
        if self.amp_dtype is None:
            return nullcontext()
        return torch.autocast(self.device.type, dtype=self.amp_dtype)


def runtime(device: str | None = None, amp: bool = True) -> Runtime:
    """The device to train on and its mixed precision; joins torchrun's process group if any."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    if world_size > 1 and not torch.distributed.is_initialized():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        torch.distributed.init_process_group(backend)
    if device is None:
        if torch.cuda.is_available():
            device = f"cuda:{int(os.environ.get('LOCAL_RANK', '0'))}"
        else:
            device = "cpu"
    dev = torch.device(device)
    amp_dtype = None
    if amp and dev.type == "cuda":
        amp_dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    elif amp and dev.type == "cpu" and torch.ops.mkldnn._is_mkldnn_bf16_supported():
        amp_dtype = torch.bfloat16
    return Runtime(dev, amp_dtype, world_size, rank)


def normalisation(dataset) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """(mean, std) that the model fed by ``dataset`` expects: its preprocessing's statistics."""
    preprocessing = getattr(dataset, "preprocessing", None)
    if preprocessing is None:
        return zoo.IMAGENET_MEAN, zoo.IMAGENET_STD
    return tuple(preprocessing.mean), tuple(preprocessing.std)


def to_input(
    images: torch.Tensor, device: torch.device, mean=zoo.IMAGENET_MEAN, std=zoo.IMAGENET_STD
) -> torch.Tensor:
    """uint8 (B, 3, H, W) -> float on ``device`` normalised by ``mean``/``std``, channels_last."""
    x = images.to(device, non_blocking=True).float().div_(255)
    mean = torch.tensor(mean, device=device).view(1, 3, 1, 1)
    std = torch.tensor(std, device=device).view(1, 3, 1, 1)
    return ((x - mean) / std).contiguous(memory_format=torch.channels_last)


def loader(dataset, batch_size, shuffle, seed=0, epoch=0, rt: Runtime | None = None):
    workers = 0 if isinstance(dataset, data.ArrayDataset) else min(8, os.cpu_count() or 1)
    sampler, generator = None, None
    if rt is not None and rt.world_size > 1:
        sampler = DistributedSampler(dataset, shuffle=shuffle, seed=seed)
        sampler.set_epoch(epoch)
        shuffle = False
    elif shuffle:
        generator = torch.Generator().manual_seed(seed * 100_003 + epoch)
    return DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=shuffle,
        sampler=sampler,
        generator=generator,
        num_workers=workers,
        pin_memory=rt is not None and rt.device.type == "cuda",
        persistent_workers=False,
    )


@torch.no_grad()
def predict_logits(model, dataset, batch_size=512, rt: Runtime | None = None, desc=None):
    """float32 logits (N, K) and labels of ``model`` on ``dataset`` (eval mode, no autocast)."""
    rt = rt or runtime()
    model = model.to(rt.device).eval()
    outputs, labels = [], []
    mean, std = normalisation(dataset)
    batches = loader(dataset, batch_size, shuffle=False)
    # One iterator: tqdm.auto would otherwise start the loader's workers twice (see loop.py).
    bar = tqdm(iter(batches), total=len(batches), desc=desc, leave=False, disable=desc is None)
    for images, targets in bar:
        outputs.append(model(to_input(images, rt.device, mean, std)).float().cpu())
        labels.append(targets)
    return torch.cat(outputs).numpy(), torch.cat(labels).numpy()


def cpu_state_dict(model) -> OrderedDict:
    """A copy of ``model.state_dict()`` on the CPU that keeps the module versions
    (``_metadata``): torchvision's MNASNet, for one, refuses a state dict without them."""
    state = model.state_dict()
    copy = OrderedDict((k, v.detach().cpu().clone()) for k, v in state.items())
    copy._metadata = getattr(state, "_metadata", None)
    return copy


def accuracy(logits: np.ndarray, labels: np.ndarray) -> float:
    return float((logits.argmax(1) == labels).mean())


def barrier(rt: Runtime):
    """Under torchrun, wait until rank 0 has written what the other ranks are about to read."""
    if rt.world_size > 1:
        torch.distributed.barrier()


@torch.no_grad()
def head_features(model, dataset, rt: Runtime, batch_size=512):
    """Inputs to the classifier (the backbone's features) for every example, in eval mode."""
    captured = []
    hook = zoo.classifier(model).register_forward_hook(
        lambda module, inputs, output: captured.append(inputs[0].float().cpu())
    )
    try:
        _, labels = predict_logits(model, dataset, batch_size, rt)
    finally:
        hook.remove()
    return torch.cat(captured), torch.as_tensor(labels)

"""Training: the paper's LP-FT recipe, IVON, and pretraining of the demo zoo.

* ``runtime``: device, mixed precision, loaders and inference (``predict_logits``);
* ``loop``: the resumable epoch loop (``run_epochs``);
* ``epochs``: augmented epochs of in-memory datasets, drawn once per seed and shared by every
  model (bitwise the same training as augmenting on the fly);
* ``ivon``: the IVON optimizer;
* ``lpft``: linear probe, fine-tuning trials (``finetune_trials``, ``finetuned``) and pretraining.
"""

from .ivon import ivon_optimizer
from .loop import load_checkpoint, randaugment, run_epochs, warmup_cosine
from .lpft import (
    TRAIN_VERSION,
    finetune_trials,
    finetuned,
    linear_probe,
    load_trial,
    pretrained,
    search_space,
)
from .runtime import (
    Runtime,
    accuracy,
    barrier,
    cpu_state_dict,
    head_features,
    predict_logits,
    runtime,
    to_input,
)

__all__ = [
    "TRAIN_VERSION",
    "Runtime",
    "accuracy",
    "barrier",
    "cpu_state_dict",
    "finetune_trials",
    "finetuned",
    "head_features",
    "ivon_optimizer",
    "linear_probe",
    "load_checkpoint",
    "load_trial",
    "predict_logits",
    "pretrained",
    "randaugment",
    "run_epochs",
    "runtime",
    "search_space",
    "to_input",
    "warmup_cosine",
]

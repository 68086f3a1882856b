"""The Python side of a run in progress: one typed record that the trainer
advances and a checkpoint saves and restores whole."""
import dataclasses
from dataclasses import dataclass, field

__all__ = ["RunState"]


@dataclass
class RunState:
    """Where a run stands; JSON-able through ``to_dict`` / ``from_dict``.

    ``phase`` is 'pretrain', 'cluster' or 'done'. Pretraining keeps its
    per-epoch rows, the losses of the current epoch's mini-batches so far
    and the mini-batch order's position; clustering the iteration, whether a
    target update is due, the rows of the updates so far, the losses since
    the last update and its own mini-batch order. ``saves`` numbers the
    checkpoints across phases and resumes.
    """
    phase: str = "pretrain"
    epochs: int = 0
    pretrain_history: list = field(default_factory=list)
    epoch_losses: list = field(default_factory=list)
    pretrain_order: dict = None
    pretrain_s: float = 0.0
    ite: int = 0
    pending: bool = True
    history: list = field(default_factory=list)
    losses: list = field(default_factory=list)
    init_metrics: dict = None
    cluster_s: float = 0.0
    converged: bool = False
    cluster_order: dict = None
    lamda: float = None          # DCN: the weight of the k-means term in use
    resets: int = 0              # BRB resets done (brb_interval)
    saves: int = 0

    def to_dict(self):
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values):
        """From a checkpoint's record (keys it does not know, such as the
        signature, are left out; missing ones take their defaults)."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in names})

    def stop(self):
        """A callback asked to stop: the current phase ends where it is (a
        resumed run does not train it on)."""
        if self.phase == "pretrain":
            self.epochs = len(self.pretrain_history)
        elif self.phase == "cluster":
            self.phase = "done"

    def where(self, maxiter=None):
        """'pretraining epoch 80/400', 'clustering iteration 300/2000', ..."""
        if self.phase == "pretrain":
            part = len(self.epoch_losses)
            return (f"pretraining epoch {len(self.pretrain_history)}/{self.epochs}"
                    + (f" (+{part} batches)" if part else ""))
        if self.phase == "done":
            return f"the end (iteration {self.ite})"
        return f"clustering iteration {self.ite}/{maxiter}"

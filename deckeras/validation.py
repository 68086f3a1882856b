"""Input checks shared by the data readers and the estimators.

``check_data`` turns what a file or a caller gives into float32 features
(and int64 labels) or says in one line what is wrong; ``as_images`` views
flat vectors as images. The estimators check their inputs with
scikit-learn's ``check_array`` / ``validate_data`` (its messages) and use
``labels_for_logging`` for the labels ``fit`` only logs.
"""
import numpy as np
from sklearn.utils import check_array

__all__ = ["check_data", "as_images", "image_view", "fit_scaling", "labels_for_logging"]


def fit_scaling(scale, flat):
    """``scale`` ('minmax', 'standard' or 'none') fitted on ``flat`` samples:
    ``{"input_scale_": a, "input_offset_": c}`` for x' = x * a + c per
    feature (scikit-learn's MinMaxScaler to [0, 1] or StandardScaler), or
    both None."""
    from sklearn.preprocessing import MinMaxScaler, StandardScaler
    scaler = {"minmax": MinMaxScaler, "standard": StandardScaler}.get(scale)
    if scaler is None:
        return {"input_scale_": None, "input_offset_": None}
    s = scaler().fit(flat)
    if scale == "minmax":
        a, c = s.scale_, s.min_
    else:
        a = 1.0 / s.scale_
        c = -s.mean_ * a
    return {"input_scale_": np.asarray(a, np.float32), "input_offset_": np.asarray(c, np.float32)}


def image_view(x):
    """The (H, W, C) a sample of ``x`` is viewed as for conv layers and
    augmentation: its own shape for image arrays, a square single-channel
    image for flat vectors of a square length, else None."""
    if x.ndim >= 3:
        return tuple(int(s) for s in x.shape[1:]) + ((1,) if x.ndim == 3 else ())
    side = int(round(float(np.sqrt(x.shape[1]))))
    return (side, side, 1) if side * side == x.shape[1] else None


def check_data(x, y=None, name="data"):
    """Validate and convert: float32 ``x`` with >= 1 sample and finite values,
    int64 ``y`` of the same length (or None)."""
    x = np.asarray(x)
    # Kept by hand: these name the file, the dtype or the shape, and the first
    # bad sample, which scikit-learn's messages do not; check_array converts.
    if x.dtype == object or not (np.issubdtype(x.dtype, np.number) or x.dtype == bool):
        raise ValueError(f"{name}: features must be numeric, got dtype {x.dtype}")
    if x.ndim < 2 or x.shape[0] == 0 or x[0].size == 0:
        raise ValueError(f"{name}: expected an array of shape (n_samples, n_features) "
                         f"with at least one sample, got shape {x.shape}")
    try:
        x = check_array(x, allow_nd=True, dtype=np.float32, ensure_all_finite=False,
                        input_name=str(name))
    except ValueError as e:          # complex values, ...
        raise ValueError(f"{name}: {str(e).splitlines()[0]}") from None
    if not np.isfinite(x).all():
        bad = ~np.isfinite(x)
        i = int(np.argwhere(bad.reshape(len(x), -1).any(1))[0, 0])
        raise ValueError(f"{name}: {int(bad.sum())} NaN or infinite values "
                         f"(first in sample {i}); clean or impute them first")
    if y is not None:
        y = np.asarray(y).ravel()
        if len(y) != len(x):
            raise ValueError(f"{name}: {len(y)} labels for {len(x)} samples")
        if not np.issubdtype(y.dtype, np.integer):
            try:
                yi = y.astype(np.int64)
            except (TypeError, ValueError):
                raise ValueError(f"{name}: labels must be integers") from None
            if not np.array_equal(yi, y.astype(np.float64)):
                raise ValueError(f"{name}: labels must be integers")
            y = yi
        y = y.astype(np.int64)
    return x, y


def as_images(x, shape=None, name="data"):
    """View ``x`` as ``(N, H, W, C)``; flat square vectors become ``s x s x 1``."""
    if shape is None:
        if x.ndim == 4:
            return x
        if x.ndim == 3:
            return x[..., None]
        side = int(round(np.sqrt(x.shape[1])))
        if side * side != x.shape[1]:
            raise ValueError(f"{name}: {x.shape[1]} features cannot be viewed as a square "
                             "image; use a dense (Fc) method without augmentation")
        shape = (side, side, 1)
    return x.reshape((len(x),) + tuple(shape))


def labels_for_logging(y, n):
    """``y`` as int64 labels of ``n`` samples (``fit`` uses them only to log metrics)."""
    return check_data(np.zeros((n, 1), np.float32), y, "y")[1]

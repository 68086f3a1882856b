"""Input checks shared by the data readers and the estimators.

``check_data`` turns what a file or a caller gives into float32 features
(and int64 labels) or says in one line what is wrong; ``as_images`` views
flat vectors as images. The estimators check their inputs with
scikit-learn's ``check_array`` / ``validate_data`` (its messages) and use
``labels_for_logging`` for the labels ``fit`` only logs.
"""
import warnings

import numpy as np
from sklearn.utils import check_array

__all__ = ["check_data", "as_images", "image_view", "NOT_IMAGES", "value_range",
           "warn_if_out_of_range", "InputRangeWarning", "survey", "weight_arrays", "labels_for_logging"]


class InputRangeWarning(UserWarning):
    """Input values far outside the range the model was fitted on."""


# how far outside the training range (in spans of it) input may lie before a warning
RANGE_SLACK = 0.5


def _parts(x):
    """``(parts, on_disk)``: ``x`` whole when it is in memory, in chunks when
    it is read from disk."""
    from .source import chunks_of, is_streamed
    return (chunks_of(x), True) if is_streamed(x) else ([x], False)


def check_finite(x, name, start=0):
    """A one-line ValueError when ``x`` (samples from number ``start`` on)
    holds NaN or infinite values, naming how many and the first sample."""
    bad = ~np.isfinite(x)
    if bad.any():
        i = start + int(np.argwhere(bad.reshape(len(x), -1).any(1))[0, 0])
        raise ValueError(f"{name}: {int(bad.sum())} NaN or infinite values "
                         f"(first in sample {i}); clean or impute them first")


def value_range(x):
    """``[min, max]`` over all values of ``x`` (float32; an array, or an
    on-disk source read in chunks, refused if it holds NaN or infinity)."""
    return survey(x, None)["input_range_"]


def survey(x, scale, name="X"):
    """What ``fit`` records about its input ``x`` (float32 samples in memory,
    or an on-disk source), in one pass: the value range and the fitted
    ``scale`` (``fit_scaling``). A source read from disk is also checked for
    NaN and infinite values here (arrays in memory were checked before)."""
    from sklearn.preprocessing import MinMaxScaler, StandardScaler
    scaler = {"minmax": MinMaxScaler, "standard": StandardScaler}.get(scale)
    scaler = scaler() if scaler else None
    lo, hi, start = np.inf, -np.inf, 0
    parts, on_disk = _parts(x)
    for part in parts:
        flat = part.reshape(len(part), -1)
        if on_disk:                 # arrays in memory: scikit-learn's checks did it
            check_finite(flat, name, start)
        lo, hi = min(lo, float(flat.min())), max(hi, float(flat.max()))
        if scaler is not None:
            scaler.partial_fit(flat)
        start += len(part)
    return {"input_range_": np.array([lo, hi], np.float32), **_scaling_of(scale, scaler)}


def warn_if_out_of_range(x, fitted, name="X"):
    """Warn when the values of ``x`` lie far outside the ``fitted`` range (the
    training data's ``[min, max]``): a model clusters inputs scaled as its
    training data was, and gives meaningless labels for others."""
    if fitted is None or not len(x):
        return None
    lo, hi = (float(v) for v in fitted)
    span = max(hi - lo, 1e-12)
    got = value_range(x)
    if got[0] < lo - RANGE_SLACK * span or got[1] > hi + RANGE_SLACK * span:
        msg = (f"{name} spans [{got[0]:g}, {got[1]:g}] but the model was fitted on values in "
               f"[{lo:g}, {hi:g}]: give samples scaled as its training data was (the named "
               "data sets come scaled, e.g. digits / 16 and MNIST / 255)")
        warnings.warn(msg, InputRangeWarning, stacklevel=3)
        return msg
    return None


def weight_arrays(found):
    """The arrays saved beside a model's weights: its input scaling (``scale``,
    ``offset``) when it has one, and the training data's ``range``."""
    arrays = {}
    if found.get("input_scale_") is not None:
        arrays.update(scale=found["input_scale_"], offset=found["input_offset_"])
    if found.get("input_range_") is not None:
        arrays["range"] = np.asarray(found["input_range_"], np.float32)
    return arrays or None


def _scaling_of(scale, scaler):
    if scaler is None:
        return {"input_scale_": None, "input_offset_": None}
    if scale == "minmax":
        a, c = scaler.scale_, scaler.min_
    else:
        a = 1.0 / scaler.scale_
        c = -scaler.mean_ * a
    return {"input_scale_": np.asarray(a, np.float32), "input_offset_": np.asarray(c, np.float32)}


def image_view(x):
    """The (H, W, C) a sample of ``x`` is viewed as for conv layers,
    augmentation and plots: its own shape for image arrays ``(N, H, W)`` or
    ``(N, H, W, C)``; None for flat samples, whatever their length (a table
    of 4 or 4,096 features is not an image)."""
    if x.ndim >= 3:
        return tuple(int(s) for s in x.shape[1:]) + ((1,) if x.ndim == 3 else ())
    return None


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
    check_finite(x, name)
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


NOT_IMAGES = ("flat samples are not images: conv methods and augmentation need image data "
              "(an image data set or folder, or an array of shape (N, H, W) or (N, H, W, C)); "
              "use a dense (Fc) method without augmentation for tables")


def as_images(x, shape=None, name="data"):
    """View ``x`` as ``(N, H, W, C)``: by ``shape``, or by its own image shape."""
    if shape is None:
        if x.ndim == 4:
            return x
        if x.ndim == 3:
            return x[..., None]
        raise ValueError(f"{name}: {x.shape[1]} features: {NOT_IMAGES}")
    return x.reshape((len(x),) + tuple(shape))


def labels_for_logging(y, n):
    """``y`` as int64 labels of ``n`` samples (``fit`` uses them only to log metrics)."""
    return check_data(np.zeros((n, 1), np.float32), y, "y")[1]

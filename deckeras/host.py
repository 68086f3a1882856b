"""The host a run or a timing ran on: CPU, its vector extensions, cores, GPUs.

Timings differ between hosts, so every run's config.json and every
benchmark records ``machine()``; ``bfloat16_is_native`` decides whether
the mixed-bfloat16 policy is worth a warning.
"""
import os
import platform

import tensorflow as tf

__all__ = ["cpu_info", "BF16_CPU_FLAGS", "bfloat16_is_native", "resolve_precision", "machine"]


def cpu_info(cpuinfo="/proc/cpuinfo"):
    """The first processor's fields in ``/proc/cpuinfo`` ({} where it cannot be read)."""
    try:
        with open(cpuinfo) as f:
            first = f.read().split("\n\n", 1)[0]
    except OSError:
        return {}
    fields = (line.partition(":") for line in first.splitlines())
    return {k.strip(): v.strip() for k, _, v in fields if k.strip()}


BF16_CPU_FLAGS = {"avx512_bf16", "amx_bf16"}     # /proc/cpuinfo flags of bfloat16 hardware


def _cpu_has_bfloat16(cpuinfo):
    """Whether the CPU reports AVX512-BF16 or AMX; None when it cannot be inspected."""
    flags = cpu_info(cpuinfo).get("flags")
    return None if flags is None else bool(BF16_CPU_FLAGS & set(flags.split()))


def bfloat16_is_native(cpuinfo="/proc/cpuinfo"):
    """Whether bfloat16 math runs in hardware here: a GPU, or a CPU that
    reports AVX512-BF16 or AMX. True when the CPU cannot be inspected."""
    if tf.config.list_physical_devices("GPU"):
        return True
    return _cpu_has_bfloat16(cpuinfo) is not False


def resolve_precision(precision, cpuinfo="/proc/cpuinfo"):
    """The dtype policy that ``precision`` names here: 'auto' is
    'mixed_bfloat16' on a CPU that reports AVX512-BF16 or AMX and has no GPU
    beside it (faster than float32 there at the same accuracy), 'float32'
    anywhere else (CPUs that emulate bfloat16 are slower in it; GPUs are not
    measured yet); bench/README.md has the figures. Any other value is
    returned as it is."""
    if precision != "auto":
        return precision
    if tf.config.list_physical_devices("GPU"):
        return "float32"
    return "mixed_bfloat16" if _cpu_has_bfloat16(cpuinfo) else "float32"


def machine(cpuinfo="/proc/cpuinfo"):
    """What a timing depends on: the CPU (name, family/model, the vector
    extensions that decide float32 and bfloat16 speed), its cores and the
    GPUs. Recorded beside every run (config.json) and benchmark, because the
    same code runs 2x faster on one 2-core host than on another."""
    info = cpu_info(cpuinfo)
    flags = set(info.get("flags", "").split())
    return {"cpu": info.get("model name", platform.machine()),
            "cpu_family_model": f"{info.get('cpu family', '?')}/{info.get('model', '?')}",
            "cpu_isa": sorted(flags & ({"avx2", "avx512f"} | BF16_CPU_FLAGS)),
            "cores": os.cpu_count(),
            "gpus": [d.name for d in tf.config.list_physical_devices("GPU")]}

#!/usr/bin/env python
"""How fast this machine multiplies matrices of the dense autoencoder's shapes.

    python bench/matmul_shapes.py [--batch 256] [--dims 784 500 500 2000 10]

The matmul peak in bench/throughput.py comes from large square products.
A training step of DEC's dense autoencoder instead multiplies a batch of 256
rows by each layer's weights (forward), by their transposes (gradient of the
input, dX) and the transposed inputs by the output gradients (gradient of the
weights, dW). This times each of those products alone, one compiled op per
call, and adds them up into the fastest a forward + backward pass can run
if nothing but its matmuls took time: the bound that the step's fraction of
the peak should be read against.
"""
import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from throughput import matmul_peak, matmul_seconds  # noqa: E402  (bench/, beside this file)


def seconds(m, k, n, ta=False, tb=False, reps=100):
    return matmul_seconds(m, k, n, ta, tb, reps=reps, rounds=5)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--dims", type=int, nargs="+", default=[784, 500, 500, 2000, 10])
    p.add_argument("--square", type=int, default=2048, help="size of the square product")
    a = p.parse_args()
    s = a.square
    peak = matmul_peak(s, reps=10)
    print(f"square {s}: {peak:.0f} GFLOP/s")
    layers = list(zip(a.dims[:-1], a.dims[1:]))
    layers += [(o, i) for i, o in reversed(layers)]          # the mirrored decoder
    m = a.batch
    fwd_s = step_s = flops = 0.0
    for i, (k, n) in enumerate(layers):
        f = seconds(m, k, n)
        dw = seconds(k, m, n, ta=True)
        dx = seconds(m, n, k, tb=True) if i else 0.0            # no gradient for the input
        g = lambda t: 2 * m * k * n / t / 1e9 if t else float("nan")  # noqa: E731
        print(f"{m}x{k}x{n}: forward {g(f):.0f}, dX {g(dx):.0f}, dW {g(dw):.0f} GFLOP/s")
        fwd_s += f
        step_s += f + dw + dx
        flops += 2 * m * k * n * (3 if i else 2)
    print(f"matmuls of one forward pass: {fwd_s * 1e3:.2f} ms")
    print(f"matmuls of one forward + backward pass: {step_s * 1e3:.2f} ms, "
          f"{flops / step_s / 1e9:.0f} GFLOP/s = {flops / step_s / 1e9 / peak:.2f} of the square peak")


if __name__ == "__main__":
    main()

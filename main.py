#!/usr/bin/env python
"""Train or test one deep clustering method on one data set (DEC-DA compatible).

    python main.py --method FcDEC --dataset digits
    python main.py --method FcDEC -t --weights results/FcDEC-digits/model_final.h5 --dataset digits
"""
import sys

from deckeras.cli import main

if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python
"""Multi-trial benchmarks, resumable: results.csv, summary.csv and summary.md.

    python run_exp.py --trials 10 --methods FcDEC ConvDEC-DA DCN --datasets digits
"""
import sys

from deckeras.experiment import main

if __name__ == "__main__":
    sys.exit(main())

"""``python -m deckeras COMMAND``: see ``deckeras.commands``."""
import sys

from .commands import main

sys.exit(main())

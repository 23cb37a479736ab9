"""``python -m dailypapers``: the same as the ``dailypapers`` command."""

from dailypapers.cli import main

if __name__ == "__main__":  # guarded: the ingest parser process re-imports this module
    main()

"""The site and its JSON API (FastAPI)."""

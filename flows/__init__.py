"""Prefect flows and everything that touches the world: files, the store, PDFs, mail, the CLI."""

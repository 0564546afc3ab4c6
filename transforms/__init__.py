"""Pure polars transforms: LazyFrame in, LazyFrame out. No IO, no Prefect, no settings."""

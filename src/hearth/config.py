"""Server configuration from CLI flags and environment (HEARTH_* variables)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_HTTP = "127.0.0.1:8090"
DEFAULT_DIR = "./hearth_data"
DEFAULT_MAX_BODY_SIZE = 32 << 20


@dataclass(frozen=True, slots=True)
class Config:
    data_dir: Path = Path(DEFAULT_DIR)
    db_url: str = ""  # "" = SQLite in data_dir; postgresql://… = PostgreSQL
    max_body_size: int = DEFAULT_MAX_BODY_SIZE
    pg_pool_size: int = 10

    @property
    def is_postgres(self) -> bool:
        return self.db_url.startswith(("postgres://", "postgresql://"))

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "data.db"

    def to_env(self) -> dict[str, str]:
        return {
            "HEARTH_DIR": str(self.data_dir),
            "HEARTH_DB": self.db_url,
            "HEARTH_MAX_BODY_SIZE": str(self.max_body_size),
            "HEARTH_PG_POOL_SIZE": str(self.pg_pool_size),
        }

    @classmethod
    def from_env(cls) -> Config:
        return cls(
            data_dir=Path(os.environ.get("HEARTH_DIR", DEFAULT_DIR)),
            db_url=os.environ.get("HEARTH_DB", ""),
            max_body_size=int(os.environ.get("HEARTH_MAX_BODY_SIZE", DEFAULT_MAX_BODY_SIZE)),
            pg_pool_size=int(os.environ.get("HEARTH_PG_POOL_SIZE", 10)),
        )

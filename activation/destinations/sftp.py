"""CSV file drop over SFTP (paramiko).

Each batch becomes one file of at most `rows_per_file` rows: UTF-8 without BOM, a header, the
key column first (named `email` or `customer_key`, option `key_column`), then the mapped
fields. Upload goes to `.<name>.tmp` and is renamed to the final name, so readers never see
a partial file. Mirror removals go to `<prefix>_<batch>_remove.csv` with the key column only; erasures
(GDPR) to `<prefix>_<batch>_erase.csv`, the same shape, which the receiver must apply to
every copy it holds. A key whose erasure is pending is never written in an upsert file.
Options: `host`, `port`, `username`, `remote_dir`, `key_path_env` (env var naming a private
key file) or `password_env`, `known_hosts` (file; unknown host keys are rejected),
`channel` (consent channel, default email), `rows_per_file`, `prefix`, and the
DeliveryOptions: `connect_timeout` (TCP, banner and authentication), `read_timeout` (every
SFTP operation). File names carry the
journal's batch id (`<prefix>_<batch>_<upsert|remove>.csv`), so a batch sent again after a
crash replaces its own file rather than adding a copy; a receipt `.<name>.sent` uploaded before
the rename tells a resumed batch already delivered (and perhaps taken by the reader) from one
that was not (`files.receipt_name`), so a consumed file is not dropped again.
"""

from __future__ import annotations

import contextlib
import os
from typing import Any

from activation.destinations.base import (
    KEY,
    BatchResult,
    Destination,
    DestinationConfigError,
    TransientError,
    secret_from_env,
)
from activation.destinations.files import (
    batch_file_name,
    cell,
    csv_bytes,
    drop_kind,
    receipt_name,
    receipt_text,
    temporary_name,
)


class SftpCsv(Destination):
    type = "sftp"
    channel = None
    supported_modes = frozenset({"upsert", "mirror"})
    default_batch_size = 50_000
    max_batch_size = 1_000_000
    required_options = ("host", "username", "remote_dir", "channel")

    @classmethod
    def validate_options(cls, options):
        super().validate_options(options)
        if options.get("key_column", "email") not in ("email", "customer_key"):
            raise ValueError("sftp: key_column must be email or customer_key")
        if not options.get("key_path_env") and not options.get("password_env"):
            raise ValueError("sftp: one of key_path_env or password_env is required")

    def __init__(self, options, sync_name, run_id):
        super().__init__(options, sync_name, run_id)
        self.batch_size = int(options.get("rows_per_file", options.get("batch_size", 50_000)))
        self.key_column = str(options.get("key_column", "email"))
        self.prefix = str(options.get("prefix", sync_name))
        self.remote_dir = str(options["remote_dir"]).rstrip("/") or "/"
        self._n = 0
        self._ssh = None
        self._sftp = None
        self.uploaded: list[str] = []
        self._receipts: list[str] = []

    def describe(self) -> str:
        return f"sftp://{self.options['host']}:{self.options.get('port', 22)}{self.remote_dir}"

    def _connect(self):
        if self._sftp is not None:
            return self._sftp
        import paramiko

        ssh = paramiko.SSHClient()
        known = self.options.get("known_hosts")
        if known:
            ssh.load_host_keys(os.path.expanduser(str(known)))
        else:
            ssh.load_system_host_keys()
        ssh.set_missing_host_key_policy(paramiko.RejectPolicy())
        kwargs: dict[str, Any] = {
            "hostname": str(self.options["host"]),
            "port": int(self.options.get("port", 22)),
            "username": str(self.options["username"]),
            "timeout": self.delivery.connect_timeout,
            "banner_timeout": self.delivery.connect_timeout,
            "auth_timeout": self.delivery.connect_timeout,
            "allow_agent": False,
            "look_for_keys": False,
        }
        if self.options.get("key_path_env"):
            kwargs["key_filename"] = secret_from_env(self.options, "key_path_env")
        else:
            kwargs["password"] = secret_from_env(self.options, "password_env")
        try:
            ssh.connect(**kwargs)
        except paramiko.BadHostKeyException as exc:
            raise DestinationConfigError(f"sftp: host key mismatch for {exc.hostname}") from None
        except paramiko.SSHException as exc:
            if "not found in known_hosts" in str(exc):
                raise DestinationConfigError(
                    "sftp: unknown host key (add it to known_hosts)"
                ) from None
            raise TransientError(f"sftp: {type(exc).__name__}") from None
        except OSError as exc:
            raise TransientError(f"sftp connection error: {type(exc).__name__}") from None
        self._ssh = ssh
        self._sftp = ssh.open_sftp()
        # a server that stops answering mid-upload raises instead of hanging the sync
        self._sftp.get_channel().settimeout(self.delivery.read_timeout)
        return self._sftp

    def _paths(self, kind: str) -> tuple[str, str, str]:
        """The batch's final, temporary and receipt paths (files.receipt_name)."""
        name = batch_file_name(self.prefix, self.batch_id or f"{self.run_id}_{self._n:04d}", kind)
        return tuple(  # type: ignore[return-value]
            f"{self.remote_dir}/{n}" for n in (name, temporary_name(name), receipt_name(name))
        )

    def _upload(self, kind: str, header: list[str], rows: list[list[Any]]) -> None:
        sftp = self._connect()
        self._n += 1
        final, tmp, receipt = self._paths(kind)
        try:
            with sftp.open(tmp, "wb") as fh:
                fh.write(csv_bytes(header, rows))
            with sftp.open(receipt, "wb") as fh:
                fh.write(receipt_text(self.batch_id, len(rows)))
            sftp.posix_rename(tmp, final)
        except OSError as exc:
            self._close()
            raise TransientError(f"sftp upload failed: {type(exc).__name__}") from None
        self._receipts.append(receipt)
        self.uploaded.append(final)

    def _exists(self, path: str) -> bool:
        try:
            self._connect().stat(path)
        except FileNotFoundError:
            return False
        except OSError as exc:
            self._close()
            raise TransientError(f"sftp stat failed: {type(exc).__name__}") from None
        return True

    def reconcile(self, op, records):
        """A resumed batch whose file was renamed into place was delivered, even if the
        reader has taken the file since (files.receipt_name)."""
        _, tmp, receipt = self._paths(drop_kind(op, "upsert"))
        if not self._exists(receipt) or self._exists(tmp):
            return {}
        self._receipts.append(receipt)
        return {r[KEY]: True for r in records}

    def committed(self) -> None:
        sftp = self._sftp
        for receipt in self._receipts if sftp is not None else ():
            with contextlib.suppress(OSError):
                sftp.remove(receipt)
        self._receipts.clear()

    def upsert(self, records):
        fields = [k for k in records[0] if k != KEY] if records else []
        fields = [f for f in fields if f != self.key_column]
        rows = [[r[KEY], *(cell(r.get(f)) for f in fields)] for r in records]
        self._upload("upsert", [self.key_column, *fields], rows)
        return BatchResult(confirmed={r[KEY]: True for r in records})

    def delete(self, keys):
        self._upload("remove", [self.key_column], [[k] for k in keys])
        return BatchResult(confirmed={k: True for k in keys})

    def erase(self, keys):
        self._upload("erase", [self.key_column], [[k] for k in keys])
        return BatchResult(confirmed={k: None for k in keys})

    def _close(self) -> None:
        for obj in (self._sftp, self._ssh):
            if obj is not None:
                with contextlib.suppress(Exception):
                    obj.close()
        self._sftp = self._ssh = None

    def finish(self) -> None:
        self._close()

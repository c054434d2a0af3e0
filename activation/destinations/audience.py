"""Hashed audience files for ad platforms, written as CSV into a local directory.

platform `google` (Customer Match): columns Email, Phone — SHA-256 of the trimmed lower-case
e-mail and of the E.164 phone with `+`. platform `meta` (Custom Audiences): columns email,
phone — SHA-256 of the normalised e-mail and of the digits-only phone with country code.
Each batch becomes one file `<prefix>_<batch>_<add|remove>.csv` named after the journal's
batch id (a batch sent again after a crash replaces its own file), written under a temporary
name, then renamed, at most `rows_per_file` rows; a receipt written before the rename tells a
resumed batch whose file was already delivered, and perhaps taken by the uploader, from one
that was not (`files.receipt_name`). Records need `email` and/or `phone`
fields; the consent channel is `ads`. Plain values never reach the files. An erasure is a
removal list (`..._remove.csv`) of the person's hashed key, which the platform upload applies
as a removal, and the hashed key is taken out of the add files written before. A file that
cannot be written (full disk, missing folder) is a transient error: the batch is retried,
then left to the next run.
"""

from __future__ import annotations

import os
from pathlib import Path

from activation.destinations.base import KEY, BatchResult, Destination, TransientError
from activation.destinations.files import (
    batch_file_name,
    csv_bytes,
    drop_kind,
    receipt_name,
    receipt_text,
    temporary_name,
)
from activation.hashing import (
    hash_or_none,
    normalise_email,
    normalise_phone_google,
    normalise_phone_meta,
)

PLATFORMS = {
    "google": (("Email", "Phone"), normalise_phone_google),
    "meta": (("email", "phone"), normalise_phone_meta),
}


class AudienceFile(Destination):
    type = "audience_file"
    channel = "ads"
    supported_modes = frozenset({"upsert", "mirror"})
    default_batch_size = 100_000
    max_batch_size = 1_000_000
    required_options = ("platform", "directory")

    @classmethod
    def validate_options(cls, options):
        super().validate_options(options)
        if options.get("platform") not in PLATFORMS:
            raise ValueError("audience_file: platform must be google or meta")

    def __init__(self, options, sync_name, run_id):
        super().__init__(options, sync_name, run_id)
        self.batch_size = int(options.get("rows_per_file", options.get("batch_size", 100_000)))
        self.platform = options["platform"]
        self.directory = Path(str(options["directory"]))
        self.prefix = str(options.get("prefix", sync_name))
        self._n = 0
        self.files: list[Path] = []
        self._receipts: list[Path] = []

    def describe(self) -> str:
        return f"{self.platform} audience files in {self.directory}"

    def _hashed(self, records) -> tuple[list[tuple], BatchResult]:
        """The file's rows and the answer for `records` (no usable identifier: failed)."""
        phone_norm = PLATFORMS[self.platform][1]
        rows, result = [], BatchResult()
        for r in records:
            email = hash_or_none(normalise_email(r.get("email")))
            phone = hash_or_none(phone_norm(r.get("phone")))
            if not email and not phone:
                result.failed[r[KEY]] = "no usable email or phone"
                continue
            rows.append((email, phone))
            result.confirmed[r[KEY]] = True
        return rows, result

    def _final(self, kind: str) -> Path:
        self._n += 1
        batch = self.batch_id or f"{self.run_id}_{self._n:04d}"
        return self.directory / batch_file_name(self.prefix, batch, kind)

    def _write(self, kind: str, records) -> BatchResult:
        rows, result = self._hashed(records)
        if rows:
            final = self._final(kind)
            tmp = final.with_name(temporary_name(final.name))
            receipt = final.with_name(receipt_name(final.name))
            try:
                self.directory.mkdir(parents=True, exist_ok=True)
                tmp.write_bytes(csv_bytes(PLATFORMS[self.platform][0], rows))
                receipt.write_bytes(receipt_text(self.batch_id, len(rows)))
                os.replace(tmp, final)
            except OSError as exc:
                raise TransientError(f"audience file not written: {type(exc).__name__}") from None
            self._receipts.append(receipt)
            self.files.append(final)
        return result

    def reconcile(self, op, records):
        """A resumed batch whose file was renamed into place (see `files.receipt_name`) was
        delivered, even if the ad platform's uploader has taken the file since."""
        final = self.directory / batch_file_name(self.prefix, self.batch_id, drop_kind(op, "add"))
        tmp, receipt = (final.with_name(f(final.name)) for f in (temporary_name, receipt_name))
        if not receipt.exists() or tmp.exists():
            return {}
        self._receipts.append(receipt)
        records = [self._removal(r[KEY]) for r in records] if op == "remove" else records
        return self._hashed(records)[1].confirmed

    def committed(self) -> None:
        for receipt in self._receipts:
            receipt.unlink(missing_ok=True)
        self._receipts.clear()

    def upsert(self, records):
        return self._write("add", records)

    def erase(self, keys):
        """The removal list for the platform, then the erased hashes taken out of the add
        files this sync wrote before (they are ours, under the data dir)."""
        result = self.delete(keys)
        _, phone_norm = PLATFORMS[self.platform]
        gone = {hash_or_none(normalise_email(k)) for k in keys}
        gone |= {hash_or_none(phone_norm(k)) for k in keys}
        gone -= {None, ""}
        for path in sorted(self.directory.glob(f"{self.prefix}_*_add.csv")):
            lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
            kept = [ln for ln in lines if not gone.intersection(ln.strip().split(","))]
            if len(kept) != len(lines):
                tmp = path.with_name("." + path.name + ".tmp")
                tmp.write_text("".join(kept), encoding="utf-8")
                os.replace(tmp, path)
        return result

    def delete(self, keys):
        # removal lists need the identifiers; the engine passes only keys for removals, so the
        # key itself must be the e-mail (or phone) for mirror syncs
        return self._write("remove", [self._removal(k) for k in keys])

    @staticmethod
    def _removal(key: str) -> dict[str, str]:
        return {KEY: key, ("phone" if key.startswith("+") else "email"): key}

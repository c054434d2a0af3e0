"""Event sign-ups and the hand-kept xlsx / Latin-1 CSV files."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd

from cdp.settings import PROJECT_ROOT
from cdp_demo.generator import noise as Z
from cdp_demo.generator import writers as W
from cdp_demo.generator.behaviour import DAY
from cdp_demo.generator.context import (
    STAFF_NAME_NOISE,
    Ctx,
)
from cdp_demo.generator.records import log_view, person_view
from ingestion.config import load_sources_config

EVENTS = (  # name, store index, month offset from window start, file kind
    ("Vernissage Croisière Saint-Honoré", 0, 4, "xlsx"),
    ("Soirée VIP Montaigne", 1, 10, "xlsx"),
    ("Atelier gravure Lyon", 6, 15, "csv"),
    ("Défilé privé Cannes", 9, 20, "xlsx"),
    ("Cocktail Bordeaux Grands Hommes", 10, 26, "csv"),
    ("Ventes privées Marais", 3, 32, "xlsx"),
)
# The header row the event teams type, as the platform reads it: the titles the shipped
# config/sources.yaml maps (`column_mapping` of spreadsheets.event_signups, in sheet order).
SHEET_HEADER = list(
    load_sources_config(PROJECT_ROOT / "config" / "sources.yaml")
    .sources["spreadsheets"]
    .tables["event_signups"]
    .column_mapping
)


def build_signups(ctx: Ctx) -> pd.DataFrame:
    P, rng = ctx.P, ctx.rng
    persons = np.flatnonzero(P["in_spreadsheet"].to_numpy())
    ev = rng.integers(0, len(EVENTS), persons.size)
    ev_s = np.array([ctx.start_s + e[2] * 30 * DAY + 19 * 3600 for e in EVENTS])[ev]
    return pd.DataFrame(
        {"pidx": persons, "event": ev, "event_s": np.minimum(ev_s, ctx.end_s - DAY)}
    )


def write_spreadsheets(ctx: Ctx, signups: pd.DataFrame) -> None:
    P, rng = ctx.P, ctx.rng
    out = ctx.landing / "spreadsheets"
    out.mkdir(parents=True, exist_ok=True)
    for e_i, (ev_name, _store, _month, kind) in enumerate(EVENTS):
        part = signups[signups["event"] == e_i]
        pidx = part["pidx"].to_numpy()
        t = part["event_s"].to_numpy()
        n_test = 1 if e_i % 2 == 0 else 0
        view = person_view(
            P,
            pidx,
            t - 10 * DAY,
            rng,
            name_noise=STAFF_NAME_NOISE,
            email_noise={
                Z.E_CASE: 0.08,
                Z.E_UPPER: 0.05,
                Z.E_DOMAIN_TYPO: 0.02,
                Z.E_ALT: 0.08,
                Z.E_MISSING: 0.05,
                Z.E_SPACES: 0.03,
            },
            swap_names=0.04,
            missing={"birth_day": 0.35, "phone": 0.1},
            profile=ctx.profile,
        )
        email, phone = view["email"], view["phone"]
        ph = rng.random(pidx.size) < 0.02
        email[ph] = "noemail@noemail.com"
        php = rng.random(pidx.size) < 0.01
        phone[php] = "0000000000"
        day = datetime.fromtimestamp(int(t[0]) if t.size else ctx.start_s, tz=UTC).date()
        stem = f"inscriptions_{day.isoformat()}_{e_i + 1:02d}"
        fname = f"{stem}.{kind}"
        n = pidx.size + n_test
        rows_last = np.concatenate([view["last"], np.full(n_test, "Test", dtype=object)])
        rows_first = np.concatenate([view["first"], np.full(n_test, "Test", dtype=object)])
        rows_email = np.concatenate([email, np.full(n_test, "test@test.com", dtype=object)])
        rows_phone = np.concatenate([phone, np.full(n_test, "0600000000", dtype=object)])
        bd = view["birth_day"]
        bd_missing = pd.isna(bd) if bd.dtype == object else np.zeros(pidx.size, bool)
        bd_days = np.where(bd_missing, 0, bd).astype(np.int64)
        bd_text = W.ymd(bd_days, bd_missing, fmt="%d/%m/%Y").to_numpy(zero_copy_only=False)
        keys = (f"{fname}#" + pd.Series(np.arange(1, n + 1)).astype(str)).to_numpy(dtype=object)
        if kind == "xlsx":
            # phones typed as numbers lose their leading zero; some birth dates are real dates
            digits = pd.Series(rows_phone, dtype=object).str.replace(r"[ .]", "", regex=True)
            as_number = (rng.random(n) < 0.3) & digits.str.fullmatch(r"0\d{9}").fillna(
                False
            ).to_numpy()
            phone_cells = np.where(
                as_number, pd.to_numeric(digits.where(as_number), errors="coerce"), rows_phone
            )
            as_date = rng.random(pidx.size) < 0.6
            bd_cells = np.where(
                as_date & ~bd_missing, pd.to_datetime(bd_days, unit="D").to_pydatetime(), bd_text
            )
            bd_cells = np.concatenate([bd_cells, np.full(n_test, None)])
            ev_date = datetime.fromtimestamp(int(t[0]) if t.size else ctx.start_s, tz=UTC).replace(
                tzinfo=None, hour=0
            )
            postcode = np.concatenate([view["postcode"], np.full(n_test, None)])
            city = np.concatenate([view["city"], np.full(n_test, None)])
            rows = zip(
                rows_last,
                rows_first,
                rows_email,
                [int(x) if isinstance(x, float) and not np.isnan(x) else x for x in phone_cells],
                bd_cells,
                postcode,
                city,
                [ev_name] * n,
                [ev_date] * n,
                strict=True,
            )
            W.write_xlsx(
                out / fname, SHEET_HEADER, ([None if pd.isna(v) else v for v in r] for r in rows)
            )
            ctx.log.add(
                "spreadsheet",
                keys,
                "phone",
                np.full(n, "number_lost_leading_zero", dtype=object),
                as_number,
            )
        else:
            df = pd.DataFrame(
                {
                    SHEET_HEADER[0]: rows_last,
                    SHEET_HEADER[1]: rows_first,
                    SHEET_HEADER[2]: rows_email,
                    SHEET_HEADER[3]: rows_phone,
                    SHEET_HEADER[4]: np.concatenate([bd_text, np.full(n_test, None)]),
                    SHEET_HEADER[5]: np.concatenate([view["postcode"], np.full(n_test, None)]),
                    SHEET_HEADER[6]: np.concatenate([view["city"], np.full(n_test, None)]),
                    SHEET_HEADER[7]: ev_name,
                    SHEET_HEADER[8]: day.strftime("%d/%m/%Y"),
                }
            )
            df.to_csv(
                out / fname,
                sep=";",
                index=False,
                encoding="latin-1",
                errors="replace",
                lineterminator="\r\n",
            )
        ctx.files[str(out / fname)] = n
        real_keys = keys[: pidx.size]
        log_view(ctx.log, "spreadsheet", real_keys, view)
        ctx.add_identity(
            "spreadsheet",
            keys,
            np.concatenate([pidx, np.full(n_test, -1)]),
            np.concatenate([np.full(pidx.size, ""), [f"TEST-7{e_i:05d}"] * n_test]),
        )
        ctx.add_seen("spreadsheet", real_keys, pidx, email=email, phone=phone)
        ctx.add_seen(
            "spreadsheet",
            keys[pidx.size :],
            np.full(n_test, -1),
            email=rows_email[pidx.size :],
            phone=rows_phone[pidx.size :],
        )

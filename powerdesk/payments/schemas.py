from datetime import datetime

from ninja import Schema
from pydantic import StrictInt


class PaymentOrderCreateIn(Schema):
    account_number: str
    # StrictInt: 12.5, "1250" and true are refused by validation (422), not coerced.
    amount_fen: StrictInt
    gateway: str


class PaymentOrderCreateOut(Schema):
    out_trade_no: str
    status: str
    amount_fen: int
    gateway: str
    pay_url: str
    pay_params: dict


class PaymentOrderOut(Schema):
    out_trade_no: str
    account_number: str
    amount_fen: int
    gateway: str
    status: str
    status_label: str
    created_at: datetime
    paid_at: datetime | None

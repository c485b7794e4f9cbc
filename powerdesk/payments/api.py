"""/api/v1/payments/: a customer opens an order and reads its status (app token or H5 session).

Reading the status never credits anything: only a verified gateway notification does.
"""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Status

from powerdesk.access.auth import CustomerTokenAuth, customer_channel
from powerdesk.payments import selectors, services
from powerdesk.payments.schemas import PaymentOrderCreateIn, PaymentOrderCreateOut, PaymentOrderOut
from powerdesk.privacy.services import client_ip

router = Router(auth=CustomerTokenAuth(), tags=["payments"])


@router.post("orders", response={201: PaymentOrderCreateOut})
def order_create(request: HttpRequest, payload: PaymentOrderCreateIn):
    order, instruction = services.payment_order_create(
        customer_user=request.auth,
        account_number=payload.account_number,
        amount_fen=payload.amount_fen,
        gateway=payload.gateway,
        channel=customer_channel(request),
        client_ip=client_ip(request) or "",
    )
    return Status(
        201,
        {
            "out_trade_no": order.out_trade_no,
            "status": order.status,
            "amount_fen": order.amount_fen,
            "gateway": order.gateway,
            "pay_url": instruction.pay_url,
            "pay_params": instruction.params,
        },
    )


@router.get("orders/{out_trade_no}", response=PaymentOrderOut)
def order_get(request: HttpRequest, out_trade_no: str):
    order = selectors.payment_order_for_customer(customer_user=request.auth, out_trade_no=out_trade_no)
    return {
        "out_trade_no": order.out_trade_no,
        "account_number": order.account.number,
        "amount_fen": order.amount_fen,
        "gateway": order.gateway,
        "status": order.status,
        "status_label": order.get_status_display(),
        "created_at": order.created_at,
        "paid_at": order.paid_payment.paid_at if order.paid_payment_id else None,
    }

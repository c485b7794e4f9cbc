"""Event kinds this domain records."""

from powerdesk.events.registry import define_event

BILL_IMPORTED = define_event("bill.imported", "电费账单导入")
BILL_CORRECTED = define_event("bill.corrected", "电费账单退补")
BILL_VIEWED = define_event("bill.viewed", "查看电费账单")
PAYMENT_RECEIVED = define_event("payment.received", "缴费到账")
PAYMENT_REFUNDED = define_event("payment.refunded", "缴费退款")
LEDGER_ADJUSTED = define_event("ledger.adjusted", "账务调整")
BILL_STATEMENT_DOWNLOADED = define_event("bill.statement_downloaded", "下载电费清单")

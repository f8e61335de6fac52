package simulator

import "time"

// Transaction is a WeChat Pay transaction a refund can name: a successful deduction of a Pay
// Score order through Pay Score (a collection.details[] entry with paid_type NEWTON). A payment
// the merchant collected itself and reported with sync went through no WeChat transaction, so
// it has none: the Pay Score refund page says transaction_id exists only "支付分渠道扣款成功后"
// (pay.weixin.qq.com/docs/merchant/apis/weixin-pay-score/refunds/create.html).
type Transaction struct {
	MchID         string
	TransactionID string
	// OutTradeNo is the deduction's WeChat-generated merchant order number, which production
	// also accepts as the refund key; it is not the order's out_order_no.
	OutTradeNo string
	OutOrderNo string
	Amount     int64
	PaidAt     time.Time
}

// Transactions returns the order's deductions through Pay Score, in the order they were made.
func (o *Order) Transactions() []Transaction {
	ts := make([]Transaction, 0, len(o.Sim.Deductions))
	for _, d := range o.Sim.Deductions {
		ts = append(ts, Transaction{
			MchID: o.MchID, TransactionID: d.TransactionID, OutTradeNo: d.OutTradeNo,
			OutOrderNo: o.OutOrderNo, Amount: d.Amount, PaidAt: d.Time,
		})
	}
	return ts
}

// TransactionKey names a transaction within a merchant: by transaction_id or by out_trade_no.
// A refund request giving both is looked up by transaction_id, as production prefers it.
type TransactionKey struct {
	TransactionID string
	OutTradeNo    string
}

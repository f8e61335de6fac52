// Package simulator is the domain of payscore-sim: WeChat Pay Score as a merchant meets it,
// with no HTTP and no SQL in it.
//
// # What it holds
//
// The records and their rules:
//
//   - Order, a service order, and its state machine (order_state.go): Confirm, Cancel,
//     Complete, Modify, RequestPayment, Sync, UserPays and Expire check, then change the order,
//     and queue the notifications the change causes in the order's outbox. How a completed
//     order's deduction goes is its DeductionMode.
//   - Permission, a user's authorization of a merchant's service (免确认模式), with Authorize,
//     Terminate, Revoke and Reapply.
//   - Visit, the user's visit to the Pay Score mini-program, opened by the merchant's front end.
//     A visit carries its subject: the Order a wxpayScoreUse or wxpayScoreDetail visit shows, or
//     the Permission a wxpayScoreEnable visit grants. The user's actions (Confirm, Return, Back,
//     Authorize) change the visit and its subject together.
//   - Notification, a callback owed to a merchant, and its delivery: RetrySchedule, Attempted,
//     Resend.
//   - Merchant (ids, keys, settings) and MerchantRegistration (a merchant as the control API
//     registers it), Clocks (each merchant's simulated time), and Error, a rejection as WeChat
//     words it, with the diagnosis a developer needs in its detail.
//
// Service applies the rules for a caller: the merchant's API calls, the user's actions and the
// control API's test hooks all go through its methods, so the API, the page, the control API and
// the scenario runner cannot disagree. Build one with NewService.
//
// # How the adapters relate
//
// The package declares what it needs from the outside as interfaces, and adapters implement
// them, in the style of github.com/benbjohnson/wtf:
//
//   - simulator/sqlite implements the stores (OrderStore, VisitStore, PermissionStore,
//     NotificationStore, ClockStore, MerchantStore, RefundStore), the RequestLog and the
//     Resetter. The stores that keep due work (notifications, deductions, refund outcomes)
//     keep the clocks too, and answer what is due by each record's merchant's clock. A store keeps what it is
//     given, atomically: an update loads a record, lets a domain function change it, and saves
//     it with the notifications it queued, in one transaction.
//   - simulator/notify implements Notifier: the outbox worker that delivers notifications.
//   - simulator/http serves the Service: the APIv3 at production's paths, the control API, the
//     pages and the dashboard. A screen asks the domain what it may offer; it never decides.
//   - simulator/wxcrypto is WeChat's signing and encryption, which the domain uses to check what
//     the front end signed.
//
// Adapters import this package (and wxcrypto), never one another. simulator/app wires them
// into a running simulator, which cmd/payscore-sim serves and simulator/simtest starts for
// tests; simulator/scenario drives a Service with QA scenario files.
package simulator

package simulator

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/google/uuid"
)

// OpenVisit validates what the merchant's front end passed and opens the Pay Score page, as
// WeChat does when the merchant calls wx.openBusinessView or its H5 and navigate forms.
func (s *Service) OpenVisit(ctx context.Context, r OpenVisitRequest) (*Visit, error) {
	bt, form, params, verr := r.visitParams()
	if verr != nil {
		return nil, verr
	}
	if err := checkVisitUser(r.OpenID, r.InvokerAppID); err != nil {
		return nil, err
	}
	v := &Visit{ID: uuid.NewString(), BusinessType: bt, Form: form, Params: params, InvokerAppID: r.InvokerAppID}
	var err error
	switch bt {
	case BusinessUse:
		v.Order, err = s.openUse(ctx, v)
	case BusinessDetail:
		v.Order, err = s.openDetail(ctx, v)
	default:
		v.Permission, err = s.openEnable(ctx, v)
	}
	if err != nil {
		return nil, err
	}
	appid := v.subjectAppID()
	if v.InvokerAppID != "" && v.InvokerAppID != appid {
		return nil, frontendError(CodeInvalidRequest, errCodeAppIDMismatch, "appid 与下单 appid 不一致",
			fmt.Sprintf("the invoking appid %s is not the appid %s the merchant created the %s with; call Pay Score from the mini-program (or APP) of that appid", v.InvokerAppID, appid, v.subjectName())).
			With("field", "invoker_appid")
	}
	v.OpenID = r.OpenID
	if v.OpenID == "" {
		v.OpenID = DefaultOpenID(appid)
	}
	if o := v.Order; o != nil {
		v.MchID, v.OutOrderNo = o.MchID, o.OutOrderNo
	}
	// The visit happens on its merchant's clock, which is known once its subject is found.
	v.CreatedAt = s.Clocks.Now(v.MchID)
	v.UpdatedAt = v.CreatedAt
	if err := s.Visits.CreateVisit(ctx, v); err != nil {
		return nil, fmt.Errorf("open visit: %w", err)
	}
	return v, nil
}

// checkVisitUser checks the user and the invoking appid a caller names, when it names them.
func checkVisitUser(openid, invokerAppID string) error {
	var c check
	if openid != "" {
		c.openID(openid)
	}
	c.str("invoker_appid", invokerAppID, 0, 32)
	if c.err != nil {
		return c.err
	}
	return nil
}

// subjectAppID is the appid of the visit's order or permission: the appid its openids belong to.
func (v *Visit) subjectAppID() string {
	if v.Order != nil {
		return v.Order.AppID
	}
	if v.Permission != nil {
		return v.Permission.AppID
	}
	return ""
}

func (v *Visit) subjectName() string {
	if v.Permission != nil {
		return "authorization " + v.Permission.AuthorizationCode
	}
	if v.Order != nil {
		return "order " + v.Order.OutOrderNo
	}
	return "visit"
}

// signedMerchant checks a signed form and returns the merchant it names.
func (s *Service) signedMerchant(v *Visit, fields []string, c *check) (*Merchant, error) {
	v.Signed = true
	v.Warnings = append(v.Warnings, c.signedFields(v.Params, fields)...)
	if c.err != nil {
		return nil, c.err
	}
	if ts := v.Params["timestamp"]; len(ts) == 13 {
		v.Warnings = append(v.Warnings, "timestamp is in milliseconds (WxJava sends it so); WeChat documents seconds and accepts both")
	}
	m := s.Merchants.Merchant(v.Params["mch_id"])
	if m == nil {
		return nil, frontendError(CodeInvalidRequest, errCodeAccountMismatch, "商户号不存在",
			fmt.Sprintf("mch_id %s is not a merchant of this simulator", v.Params["mch_id"])).With("field", "mch_id")
	}
	warning, err := verifyFrontendSign(m, v.Params, fields)
	if err != nil {
		return nil, err
	}
	if warning != "" {
		v.Warnings = append(v.Warnings, warning)
	}
	return m, nil
}

// openUse accepts the current unsigned form ({package}) and the older signed one, and checks
// that the package is the live, unused package of a merchant's order.
func (s *Service) openUse(ctx context.Context, v *Visit) (*Order, error) {
	p := v.Params
	pkg := p["package"]
	if pkg == "" {
		return nil, frontendError(CodeParamError, errCodePackageMissing, "package 不能为空",
			"extraData.package is required: pass the package the create-order API returned").With("field", "package")
	}
	var c check
	c.str("package", pkg, 1, 300)
	c.match("package", pkg, packagePattern, "digits, letters, _ and -")
	if c.err != nil {
		return nil, c.err.With("err_code", errCodePackageInvalid)
	}
	var m *Merchant
	if len(p) > 1 {
		var err error
		if m, err = s.signedMerchant(v, signedUseFields, &c); err != nil {
			return nil, err
		}
	}
	o, err := s.Orders.FindOrderByPackage(ctx, pkg)
	if err != nil {
		return nil, withErrCode(err, errCodePackageInvalid, "no order has this package: pass the package of a create-order response unchanged")
	}
	now := s.Clocks.Now(o.MchID)
	switch {
	case m != nil && o.MchID != m.MchID:
		return nil, frontendError(CodeInvalidRequest, errCodeAccountMismatch, "package 与商户号不匹配",
			fmt.Sprintf("the package belongs to an order of merchant %s, not of mch_id %s", o.MchID, m.MchID))
	case o.State == StateDoing || o.State == StateDone:
		return nil, frontendError(CodeInvalidRequest, errCodePackageInvalid, "订单未获得权益,系统繁忙",
			fmt.Sprintf("the package was already used: order %s is %s. A package is single-use; query the order instead", o.OutOrderNo, o.stateName()))
	case o.State != StateCreated:
		return nil, frontendError(CodeInvalidRequest, errCodeOrderNoInvalid, "订单状态无效",
			fmt.Sprintf("order %s is %s and can no longer be confirmed", o.OutOrderNo, o.State))
	case now.Sub(o.Sim.CreatedAt) > packageLifetime:
		return nil, frontendError(CodeInvalidRequest, errCodePackageInvalid, "package 已过期",
			fmt.Sprintf("a package is valid for one hour; this one was issued at %s", FormatRFC3339(o.Sim.CreatedAt)))
	}
	return o, nil
}

// openDetail accepts the signed detail form and finds the order it names.
func (s *Service) openDetail(ctx context.Context, v *Visit) (*Order, error) {
	var c check
	c.str("service_id", v.Params["service_id"], 1, 32)
	c.outOrderNo(v.Params["out_order_no"])
	m, err := s.signedMerchant(v, signedDetailFields, &c)
	if err != nil {
		return nil, err
	}
	serviceID := v.Params["service_id"]
	if !m.HasService(serviceID) {
		return nil, frontendError(CodeNoAuth, errCodeServiceInvalid, "service_id 无效",
			fmt.Sprintf("service_id %s is not bound to merchant %s", serviceID, m.MchID)).With("field", "service_id")
	}
	o, err := s.Orders.FindOrder(ctx, m.MchID, OrderKey{OutOrderNo: v.Params["out_order_no"]})
	if err != nil {
		return nil, withErrCode(err, errCodeOrderNotFound, "the merchant has no order with this out_order_no")
	}
	if o.ServiceID != serviceID {
		return nil, frontendError(CodeOrderNotExist, errCodeOrderNotFound, "订单不存在",
			fmt.Sprintf("order %s belongs to service %s, not %s", o.OutOrderNo, o.ServiceID, serviceID))
	}
	return o, nil
}

// withErrCode adds the front-end error code and an explanation to a store's not-found error.
func withErrCode(err error, errCode int, issue string) error {
	var e *Error
	if !errors.As(err, &e) {
		return err
	}
	return e.With("err_code", errCode).With("issue", issue)
}

// FindVisit returns a visit with its subject (its order, or its permission).
func (s *Service) FindVisit(ctx context.Context, id string) (*Visit, error) {
	return s.Visits.FindVisit(ctx, id)
}

// updateVisit applies the user's step to a visit and its subject in one transaction. An
// order's history names the step as cause.
func (s *Service) updateVisit(ctx context.Context, id, cause string, step func(*Visit) error) (*Visit, error) {
	// The store empties the outboxes as it saves them; wake the notifier only when the step
	// queued a notification (see storeNew).
	notifies := false
	v, err := s.Visits.UpdateVisit(ctx, id, func(v *Visit) error {
		now := s.Clocks.Now(v.MchID)
		v.UpdatedAt = now
		if o := v.Order; o != nil {
			err := o.track(cause, now, func() error { return step(v) })
			notifies = len(o.Sim.Outbox) > 0
			return err
		}
		if err := step(v); err != nil {
			return err
		}
		if p := v.Permission; p != nil {
			p.UpdatedAt = now
			notifies = len(p.Outbox) > 0
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if notifies {
		s.wake()
	}
	return v, nil
}

// ConfirmVisit is the user confirming the order, as openid; empty openid is the visit's user.
func (s *Service) ConfirmVisit(ctx context.Context, id, openid string) (*Visit, error) {
	if err := checkVisitUser(openid, ""); err != nil {
		return nil, err
	}
	return s.updateVisit(ctx, id, "user: confirm", func(v *Visit) error { return v.Confirm(openid, s.Clocks.Now(v.MchID)) })
}

// DeclineVisit is the user leaving through the in-page return without confirming.
func (s *Service) DeclineVisit(ctx context.Context, id string) (*Visit, error) {
	return s.updateVisit(ctx, id, "user: decline (return without confirming)", func(v *Visit) error { return v.Decline(newQueryID) })
}

// NotEligibleVisit is Pay Score finding the user not eligible (暂不满足).
func (s *Service) NotEligibleVisit(ctx context.Context, id string) (*Visit, error) {
	return s.updateVisit(ctx, id, "user: not eligible (暂不满足)", (*Visit).NotEligible)
}

// AndroidBackVisit is the user pressing the phone's back button.
func (s *Service) AndroidBackVisit(ctx context.Context, id string) (*Visit, error) {
	return s.updateVisit(ctx, id, "user: android back button", (*Visit).AndroidBack)
}

// ReturnVisit is the user tapping the in-page return button.
func (s *Service) ReturnVisit(ctx context.Context, id string) (*Visit, error) {
	return s.updateVisit(ctx, id, "user: return with params", func(v *Visit) error { return v.Return(newQueryID) })
}

// BackVisit is the user tapping the top-left back icon.
func (s *Service) BackVisit(ctx context.Context, id string) (*Visit, error) {
	return s.updateVisit(ctx, id, "user: back icon", (*Visit).Back)
}

// newQueryID makes an opaque, URL-safe query_id, well within the 64 characters the
// mini-program return documents.
func newQueryID() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

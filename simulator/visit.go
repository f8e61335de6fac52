package simulator

import (
	"context"
	"fmt"
	"time"
)

// PayScoreAppID is the appid of WeChat's Pay Score mini-program: what a merchant's
// navigateToMiniProgram targets, and the referrerInfo.appId it gets back.
const PayScoreAppID = "wxd8f3793ea3b935b8"

// SceneFromMiniProgram is the App.onShow scene of a return from another mini-program.
const SceneFromMiniProgram = 1038

// BusinessType is what a merchant asks the Pay Score mini-program to show.
type BusinessType string

const (
	BusinessUse    BusinessType = "wxpayScoreUse"    // confirm an order
	BusinessDetail BusinessType = "wxpayScoreDetail" // show an order
	BusinessEnable BusinessType = "wxpayScoreEnable" // authorize a service
)

// navigatePaths are the Pay Score mini-program pages that navigateToMiniProgram opens.
var navigatePaths = map[string]BusinessType{
	"pages/use/use":       BusinessUse,
	"pages/record/detail": BusinessDetail,
	"pages/use/enable":    BusinessEnable,
}

// VisitOutcome is how the user left the Pay Score mini-program.
type VisitOutcome string

const (
	// ReturnWithParams is the in-page return button: the merchant gets extraData back.
	ReturnWithParams VisitOutcome = "return_with_params"
	// BackWithoutParams is the top-left back icon (or a swipe back): nothing comes back.
	BackWithoutParams VisitOutcome = "back_without_params"
	// AndroidBackButton is the phone's own back button (Android): nothing comes back, and
	// wx.openBusinessView ends in fail (reference 9.3).
	AndroidBackButton VisitOutcome = "android_back"
)

// Visit is one visit of the user to the Pay Score mini-program, opened by the merchant's
// front end with extraData (mini-program, APP) or a queryString (H5).
type Visit struct {
	ID           string       `json:"visit_id"`
	BusinessType BusinessType `json:"businessType"`
	// Form is how the merchant invoked it: extraData (wx.openBusinessView, APP),
	// navigateToMiniProgram, or queryString (H5's wx.invoke).
	Form       string            `json:"form"`
	Params     map[string]string `json:"params"`
	Signed     bool              `json:"signed"`
	MchID      string            `json:"mchid"`
	OutOrderNo string            `json:"out_order_no"`
	Confirmed  bool              `json:"confirmed"`
	// Declined is set when the user left an order through the in-page return without
	// confirming it; Ineligible when Pay Score told the user 暂不满足 (a low score). In both
	// cases the merchant gets a query_id for an order that is still CREATED.
	Declined   bool `json:"declined,omitempty"`
	Ineligible bool `json:"not_eligible,omitempty"`
	// InvokerAppID is the appid of the merchant's mini-program (or APP, or official account)
	// that opened Pay Score, when the caller names it; it must be the order's appid (4108).
	InvokerAppID string       `json:"invoker_appid,omitempty"`
	Outcome      VisitOutcome `json:"outcome,omitempty"`
	QueryID      string       `json:"query_id,omitempty"`
	Warnings     []string     `json:"warnings,omitempty"`
	CreatedAt    time.Time    `json:"created_at"`
	UpdatedAt    time.Time    `json:"updated_at"`

	// OpenID is the user of the visit: the openid the caller named, else DefaultOpenID of the
	// subject's appid. Confirming stores it on the order; authorizing binds it to the permission.
	OpenID string `json:"openid,omitempty"`

	// A wxpayScoreEnable visit grants the permission PermissionID (authorization_code
	// AuthorizationCode).
	PermissionID      string `json:"permission_id,omitempty"`
	AuthorizationCode string `json:"authorization_code,omitempty"`
	Authorized        bool   `json:"authorized,omitempty"`

	// The visit's subject, as it is now: the Order a wxpayScoreUse or wxpayScoreDetail visit
	// shows, or the Permission a wxpayScoreEnable visit grants. A visit the VisitStore returns
	// carries exactly one; the store keeps each in its own table, not with the visit.
	Order      *Order      `json:"-"`
	Permission *Permission `json:"-"`
}

// Invocation forms.
const (
	FormExtraData   = "extraData"
	FormNavigate    = "navigateToMiniProgram"
	FormQueryString = "queryString"
)

// Ended reports whether the user has left the mini-program.
func (v *Visit) Ended() bool { return v.Outcome != "" }

// order is the order of a wxpayScoreUse or wxpayScoreDetail visit.
func (v *Visit) order() (*Order, error) {
	if v.Order == nil {
		return nil, fmt.Errorf("visit %s (%s): its order is not loaded", v.ID, v.BusinessType)
	}
	return v.Order, nil
}

// permission is the permission of a wxpayScoreEnable visit.
func (v *Visit) permission() (*Permission, error) {
	if v.Permission == nil {
		return nil, fmt.Errorf("visit %s (%s): its permission is not loaded", v.ID, v.BusinessType)
	}
	return v.Permission, nil
}

func (v *Visit) endedError(action string) *Error {
	return Errorf(CodeInvalidRequest, "用户已离开支付分页面").
		With("issue", fmt.Sprintf("the visit already ended with %s; %s is no longer possible", v.Outcome, action))
}

// Confirm is the user tapping 确认 on the confirmation page, as openid ("" is the visit's
// user). Confirming an already confirmed visit changes nothing, so a double tap or a retried
// request is harmless.
func (v *Visit) Confirm(openid string, now time.Time) error {
	if err := v.refusal(ActionConfirm); err != nil {
		if v.Confirmed && !v.Ended() {
			return nil // a repeat: not an action the page offers, but harmless
		}
		return err
	}
	o, err := v.order()
	if err != nil {
		return err
	}
	if openid == "" {
		openid = v.OpenID
	}
	if openid == "" { // a visit stored before visits had a user
		openid = DefaultOpenID(o.AppID)
	}
	if err := o.Confirm(openid, now); err != nil {
		return err
	}
	v.Confirmed, v.OpenID = true, openid
	return nil
}

// Return is the in-page return button. For a confirmed order it issues the query_id that
// App.onShow receives; the merchant resolves it with the query API. A wxpayScoreEnable visit
// returns nothing whether or not the user authorized: WeChat documents that the front end cannot
// tell, and the merchant must ask the permission query API or wait for USER_OPEN_SERVICE.
func (v *Visit) Return(newQueryID func() string) error {
	if err := v.refusal(ActionReturn); err != nil {
		return err
	}
	return v.returnWithParams(newQueryID)
}

// returnWithParams ends the visit through the in-page return button; an order's visit issues a
// query_id, whatever the order's state.
func (v *Visit) returnWithParams(newQueryID func() string) error {
	if v.BusinessType == BusinessUse {
		o, err := v.order()
		if err != nil {
			return err
		}
		v.QueryID = newQueryID()
		o.Sim.QueryIDs = append(o.Sim.QueryIDs, v.QueryID)
	}
	v.Outcome = ReturnWithParams
	return nil
}

// Decline is the user leaving the confirmation page through the in-page return button without
// confirming: the merchant gets a query_id as after a confirmation, for an order still
// CREATED ("带有返回参数不代表订单确认成功", reference 1.7 and 9.3).
func (v *Visit) Decline(newQueryID func() string) error {
	if err := v.refusal(ActionDecline); err != nil {
		return err
	}
	if err := v.returnWithParams(newQueryID); err != nil {
		return err
	}
	v.Declined = true
	return nil
}

// NotEligible is Pay Score refusing the user (a low Pay Score): the page becomes "暂不满足",
// whose only button is the in-page return; the order stays CREATED.
func (v *Visit) NotEligible() error {
	if err := v.refusal(ActionNotEligible); err != nil {
		return err
	}
	v.Ineligible = true
	return nil
}

// AndroidBack is the phone's own back button: the visit ends and the merchant gets nothing
// back; wx.openBusinessView calls fail.
func (v *Visit) AndroidBack() error {
	if err := v.refusal(ActionAndroidBack); err != nil {
		return err
	}
	v.Outcome = AndroidBackButton
	return nil
}

// Back is the top-left back icon: the visit ends and the merchant gets nothing back, whether
// or not the user confirmed.
func (v *Visit) Back() error {
	if err := v.refusal(ActionBack); err != nil {
		return err
	}
	v.Outcome = BackWithoutParams
	return nil
}

// AppShow is what the merchant mini-program's App.onShow (and every wx.onAppShow listener)
// receives when the user comes back.
type AppShow struct {
	Scene        int          `json:"scene"`
	ReferrerInfo ReferrerInfo `json:"referrerInfo"`
}

// ReferrerInfo names the mini-program the user came back from and what it passed back.
type ReferrerInfo struct {
	AppID     string            `json:"appId"`
	ExtraData map[string]string `json:"extraData,omitempty"`
}

// H5Callback is what an H5 page's wx.invoke('openBusinessView') callback receives. WeChat
// documents extraData only for err_code 0; what the back icon yields is not documented, so the
// simulator answers it as a cancel.
type H5Callback struct {
	ErrCode   int               `json:"err_code"`
	ErrMsg    string            `json:"err_msg"`
	ExtraData map[string]string `json:"extraData,omitempty"`
}

// AppShow returns what the merchant's App.onShow gets, once the visit has ended.
func (v *Visit) AppShow() *AppShow {
	if !v.Ended() {
		return nil
	}
	show := &AppShow{Scene: SceneFromMiniProgram, ReferrerInfo: ReferrerInfo{AppID: PayScoreAppID}}
	if v.QueryID != "" {
		show.ReferrerInfo.ExtraData = map[string]string{"query_id": v.QueryID}
	}
	return show
}

// H5Callback returns what an H5 page's callback gets, once the visit has ended.
func (v *Visit) H5Callback() *H5Callback {
	switch v.Outcome {
	case ReturnWithParams:
		cb := &H5Callback{ErrCode: 0, ErrMsg: "openBusinessView:ok"}
		if v.QueryID != "" {
			cb.ExtraData = map[string]string{"query_id": v.QueryID}
		}
		return cb
	case BackWithoutParams, AndroidBackButton:
		return &H5Callback{ErrCode: 1, ErrMsg: "openBusinessView:cancel"}
	}
	return nil
}

// VisitStore persists visits, each tied to its subject: an order, or for wxpayScoreEnable a
// permission. Every visit it returns carries its subject as it is now.
type VisitStore interface {
	// CreateVisit stores v, tied to v.Order or v.Permission (exactly one must be set).
	CreateVisit(ctx context.Context, v *Visit) error
	// FindVisit returns the visit with its subject, or a VISIT_NOT_EXIST *Error.
	FindVisit(ctx context.Context, id string) (*Visit, error)
	// UpdateVisit loads the visit and its subject, lets fn change both and saves both (with the
	// notifications and query_ids the subject gained) in one transaction; if fn fails nothing
	// is saved and its error is returned.
	UpdateVisit(ctx context.Context, id string, fn func(*Visit) error) (*Visit, error)
	// ListVisits returns visits newest first, each with its subject.
	ListVisits(ctx context.Context, f VisitFilter) ([]*Visit, error)
}

// VisitFilter narrows ListVisits. Zero fields match everything; Limit 0 means 100.
// OutOrderNo keeps the visits of orders numbered so, and so no wxpayScoreEnable visit.
type VisitFilter struct {
	MchID      string
	OutOrderNo string
	// Before keeps the visits listed after the one of this ID (its visit_id): the next page of a
	// listing whose previous page ended there.
	Before string
	Limit  int
}

package simulator

import (
	"fmt"
	"strings"
)

// VisitActionName names something the user can do on the Pay Score page. The names are the last
// segment of the control API's POST /sim/v1/visits/{id}/{action} and of the page's forms.
type VisitActionName string

const (
	ActionConfirm   VisitActionName = "confirm"
	ActionAuthorize VisitActionName = "authorize"
	// ActionDecline is the in-page return without confirming; ActionNotEligible plays Pay Score
	// refusing the user (the "暂不满足" page).
	ActionDecline     VisitActionName = "decline"
	ActionNotEligible VisitActionName = "not_eligible"
	ActionReturn      VisitActionName = "return"
	ActionBack        VisitActionName = "back"
	// ActionAndroidBack is the phone's own back button, outside the page.
	ActionAndroidBack VisitActionName = "android_back"
)

// visitActionNames lists every action in the order a page offers them: the page's own buttons
// first, then the top-left back icon, then the phone's back button.
var visitActionNames = []VisitActionName{
	ActionConfirm, ActionAuthorize, ActionDecline, ActionNotEligible, ActionReturn, ActionBack, ActionAndroidBack,
}

// ParseVisitActionName reads an action's name, refusing one the Pay Score page does not have.
func ParseVisitActionName(s string) (VisitActionName, error) {
	return parseEnum("action", s, visitActionNames)
}

// Leaves reports whether the action ends the visit: the user is then back at the merchant.
func (n VisitActionName) Leaves() bool {
	return n == ActionReturn || n == ActionBack || n == ActionDecline || n == ActionAndroidBack
}

// VisitAction is one action a visit offers the user now, with what it does, so that the page,
// the dashboard and the shims show the same choices and the same words.
type VisitAction struct {
	Name VisitActionName `json:"name"`
	// Label is what the page shows, in Chinese then English: "确认订单 confirm".
	Label string `json:"label"`
	// Effect says what the action does and what the merchant receives.
	Effect string `json:"effect"`
	// Leaves is set for the actions that end the visit (decline, return, back, android_back).
	Leaves bool `json:"leaves"`
}

// LabelZH and LabelEN are the two halves of the label, for a page that styles them apart.
func (a VisitAction) LabelZH() string { zh, _, _ := strings.Cut(a.Label, " "); return zh }

// LabelEN is the English half of the label.
func (a VisitAction) LabelEN() string { _, en, _ := strings.Cut(a.Label, " "); return en }

// Actions lists what the user may do on the visit's page now, in the order the page shows them:
// none once the user has left (an empty list, never nil, so that JSON shows []). It follows the
// same rule (Visit.refusal) that Confirm, Authorize, Decline, NotEligible, Return, Back and
// AndroidBack apply, so a screen cannot offer what the API would refuse. The
// order or permission may still refuse an offered action for its own reasons (an expired
// package or apply_permissions_token, an order revoked meanwhile), as on WeChat's page.
func (v *Visit) Actions() []VisitAction {
	actions := []VisitAction{}
	for _, n := range visitActionNames {
		if v.refusal(n) == nil {
			actions = append(actions, v.describe(n))
		}
	}
	return actions
}

// refusal is the one rule of what a visit offers: nil when the user may take the action now,
// else the WeChat-shaped error that refuses it.
func (v *Visit) refusal(n VisitActionName) *Error {
	if v.Ended() {
		return v.endedError(string(n))
	}
	switch n {
	case ActionConfirm:
		return v.confirmRefusal()
	case ActionDecline, ActionNotEligible:
		return v.unconfirmedRefusal(n)
	case ActionAuthorize:
		if v.BusinessType != BusinessEnable {
			return Errorf(CodeInvalidRequest, "当前页面无授权操作").
				With("issue", fmt.Sprintf("a %s visit has nothing to authorize; only wxpayScoreEnable visits do", v.BusinessType))
		}
		if v.Authorized {
			// Authorize takes a repeat by the same user as a harmless no-op; the page only
			// loses the button.
			issue := "this visit already authorized as openid " + v.OpenID
			if v.Permission != nil {
				issue += fmt.Sprintf(" (the permission is now %s)", v.Permission.State)
			}
			return Errorf(CodeInvalidRequest, "用户已授权").With("issue", issue)
		}
	case ActionReturn:
		if v.BusinessType == BusinessUse && !v.Confirmed && !v.Ineligible {
			return Errorf(CodeInvalidRequest, "用户尚未确认订单").
				With("issue", "the in-page return button appears after the user confirms (or on the 暂不满足 page); before that the user leaves through decline (the in-page return without confirming) or the back icon")
		}
	case ActionBack, ActionAndroidBack:
	default:
		return ParamError("action", string(n), "is not an action of the Pay Score page")
	}
	return nil
}

// confirmRefusal is the rule of the confirm button: an order's page, not yet confirmed, whose
// user Pay Score did not find ineligible.
func (v *Visit) confirmRefusal() *Error {
	switch {
	case v.BusinessType != BusinessUse:
		return Errorf(CodeInvalidRequest, "当前页面无确认操作").
			With("issue", fmt.Sprintf("a %s visit has nothing to confirm; only wxpayScoreUse visits do", v.BusinessType))
	case v.Confirmed:
		// Confirm takes a repeat as a harmless no-op; the page only loses the button.
		return Errorf(CodeInvalidRequest, "用户已确认订单").
			With("issue", "the user already confirmed this order; the page now offers the in-page return button")
	case v.Ineligible:
		return notEligibleError()
	}
	return nil
}

// unconfirmedRefusal is the rule of the choices an unconfirmed order's page offers besides
// confirming: declining, and Pay Score finding the user not eligible.
func (v *Visit) unconfirmedRefusal(n VisitActionName) *Error {
	switch {
	case v.BusinessType != BusinessUse:
		return Errorf(CodeInvalidRequest, "当前页面无此操作").
			With("issue", fmt.Sprintf("%s belongs to the confirmation page of a wxpayScoreUse visit, not to a %s visit", n, v.BusinessType))
	case v.Confirmed:
		return Errorf(CodeInvalidRequest, "用户已确认订单").
			With("issue", fmt.Sprintf("the user already confirmed this order; %s is a choice of an unconfirmed order", n))
	case v.Ineligible:
		return notEligibleError()
	}
	return nil
}

func notEligibleError() *Error {
	return Errorf(CodeInvalidRequest, "暂不满足使用条件").
		With("issue", "Pay Score found the user not eligible: the 暂不满足 page offers only the in-page return (and WeChat's back icon and the phone's back button)")
}

// describe says what action n does on this visit.
func (v *Visit) describe(n VisitActionName) VisitAction {
	switch n {
	case ActionConfirm:
		return VisitAction{Name: n, Label: "确认订单 confirm",
			Effect: "confirms the order (CREATED → DOING · USER_CONFIRM, notifying PAYSCORE.USER_CONFIRM); the in-page return button appears"}
	case ActionAuthorize:
		return VisitAction{Name: n, Label: "同意并开启 authorize",
			Effect: "binds the user's openid to the permission (UNBINDUSER → AVAILABLE) and notifies PAYSCORE.USER_OPEN_SERVICE"}
	case ActionDecline:
		return VisitAction{Name: n, Label: "不确认并返回 decline, return with params", Leaves: true,
			Effect: "leaves through the in-page return without confirming: the merchant gets a query_id for an order still CREATED, and must query it"}
	case ActionNotEligible:
		return VisitAction{Name: n, Label: "暂不满足 not eligible (low score)",
			Effect: "plays Pay Score refusing the user: the page becomes 暂不满足 with only the in-page return, which hands back a query_id; the order stays CREATED"}
	case ActionReturn:
		return VisitAction{Name: n, Label: "返回商户 return with params", Leaves: n.Leaves(), Effect: v.returnEffect()}
	case ActionAndroidBack:
		return VisitAction{Name: n, Label: "手机返回键 android back button", Leaves: true,
			Effect: "ends the visit with the phone's own back button: App.onShow without extraData; wx.openBusinessView calls fail"}
	}
	return VisitAction{Name: ActionBack, Label: "左上角返回 back icon without params", Leaves: ActionBack.Leaves(),
		Effect: "ends the visit and hands the merchant nothing (App.onShow without extraData; H5 err_code 1, openBusinessView:cancel)"}
}

func (v *Visit) returnEffect() string {
	switch v.BusinessType {
	case BusinessUse:
		if v.Ineligible {
			return "ends the visit and issues a query_id for the order, which stays CREATED: the merchant must query it"
		}
		return "ends the visit and issues a query_id (App.onShow referrerInfo.extraData, H5 extraData) that the merchant resolves with the query API"
	case BusinessEnable:
		return "ends the visit; nothing tells the merchant whether the user authorized: it queries the permission or waits for USER_OPEN_SERVICE"
	}
	return "ends the visit; the detail page hands back no query_id, so the merchant queries the order by out_order_no"
}

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
	ActionReturn    VisitActionName = "return"
	ActionBack      VisitActionName = "back"
)

// visitActionNames lists every action in the order a page offers them: the page's own buttons
// first, the top-left back icon last.
var visitActionNames = []VisitActionName{ActionConfirm, ActionAuthorize, ActionReturn, ActionBack}

// ParseVisitActionName reads an action's name, refusing one the Pay Score page does not have.
func ParseVisitActionName(s string) (VisitActionName, error) {
	return parseEnum("action", s, visitActionNames)
}

// Leaves reports whether the action ends the visit: the user is then back at the merchant.
func (n VisitActionName) Leaves() bool { return n == ActionReturn || n == ActionBack }

// VisitAction is one action a visit offers the user now, with what it does, so that the page,
// the dashboard and the shims show the same choices and the same words.
type VisitAction struct {
	Name VisitActionName `json:"name"`
	// Label is what the page shows, in Chinese then English: "确认订单 confirm".
	Label string `json:"label"`
	// Effect says what the action does and what the merchant receives.
	Effect string `json:"effect"`
	// Leaves is set for the actions that end the visit (return, back).
	Leaves bool `json:"leaves"`
}

// LabelZH and LabelEN are the two halves of the label, for a page that styles them apart.
func (a VisitAction) LabelZH() string { zh, _, _ := strings.Cut(a.Label, " "); return zh }

// LabelEN is the English half of the label.
func (a VisitAction) LabelEN() string { _, en, _ := strings.Cut(a.Label, " "); return en }

// Actions lists what the user may do on the visit's page now, in the order the page shows them:
// none once the user has left (an empty list, never nil, so that JSON shows []). It follows the same rule (Visit.refusal) that Confirm,
// Authorize, Return and Back apply, so a screen cannot offer what the API would refuse. The
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
		if v.BusinessType != BusinessUse {
			return Errorf(CodeInvalidRequest, "当前页面无确认操作").
				With("issue", fmt.Sprintf("a %s visit has nothing to confirm; only wxpayScoreUse visits do", v.BusinessType))
		}
		if v.Confirmed {
			// Confirm takes a repeat as a harmless no-op; the page only loses the button.
			return Errorf(CodeInvalidRequest, "用户已确认订单").
				With("issue", "the user already confirmed this order; the page now offers the in-page return button")
		}
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
		if v.BusinessType == BusinessUse && !v.Confirmed {
			return Errorf(CodeInvalidRequest, "用户尚未确认订单").
				With("issue", "the in-page return button appears after the user confirms; before that only the back icon leaves the page")
		}
	case ActionBack:
	default:
		return ParamError("action", string(n), "is not an action of the Pay Score page")
	}
	return nil
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
	case ActionReturn:
		return VisitAction{Name: n, Label: "返回商户 return with params", Leaves: n.Leaves(), Effect: v.returnEffect()}
	}
	return VisitAction{Name: ActionBack, Label: "左上角返回 back icon without params", Leaves: ActionBack.Leaves(),
		Effect: "ends the visit and hands the merchant nothing (App.onShow without extraData; H5 err_code 1, openBusinessView:cancel)"}
}

func (v *Visit) returnEffect() string {
	switch v.BusinessType {
	case BusinessUse:
		return "ends the visit and issues a query_id (App.onShow referrerInfo.extraData, H5 extraData) that the merchant resolves with the query API"
	case BusinessEnable:
		return "ends the visit; nothing tells the merchant whether the user authorized: it queries the permission or waits for USER_OPEN_SERVICE"
	}
	return "ends the visit; the detail page hands back no query_id, so the merchant queries the order by out_order_no"
}

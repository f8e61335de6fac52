package simulator

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"time"
)

// AuthorizationState is a permission's authorization_state.
type AuthorizationState string

const (
	// AuthorizationUnbindUser: the merchant pre-authorized (POST /v3/payscore/permissions) and
	// no user has authorized yet (未绑定用户).
	AuthorizationUnbindUser AuthorizationState = "UNBINDUSER"
	// AuthorizationAvailable: the user authorized the service (已授权).
	AuthorizationAvailable AuthorizationState = "AVAILABLE"
	// AuthorizationUnavailable: the authorization ended, by the merchant or the user (未授权/已解除).
	AuthorizationUnavailable AuthorizationState = "UNAVAILABLE"
)

// Who ended a permission.
const (
	CancelledByMerchant = "merchant" // terminate API
	CancelledByUser     = "user"     // the user revoking in WeChat (control API)
)

// PermissionTokenLifetime is how long an apply_permissions_token is valid.
const PermissionTokenLifetime = time.Hour

// userServiceStatus values of the open and close service notifications.
const (
	userOpenService  = "USER_OPEN_SERVICE"
	userCloseService = "USER_CLOSE_SERVICE"
)

// Permission is a user's authorization of a merchant's Pay Score service (免确认模式): the
// merchant asks for it with an authorization_code, the user grants it on the wxpayScoreEnable
// page, and from then on the merchant may create orders for the user's openid with
// need_user_confirm false, until the merchant terminates it or the user revokes it.
//
// Its JSON form is the control API's view; the APIv3 query answers have their own shape.
type Permission struct {
	ID                string             `json:"id"`
	MchID             string             `json:"mchid"`
	ServiceID         string             `json:"service_id"`
	AppID             string             `json:"appid"`
	AuthorizationCode string             `json:"authorization_code"`
	OpenID            string             `json:"openid,omitempty"`
	State             AuthorizationState `json:"authorization_state"`
	NotifyURL         string             `json:"notify_url,omitempty"`
	// Token is the live apply_permissions_token: a repeated pre-authorization replaces it.
	Token          string    `json:"apply_permissions_token,omitempty"`
	TokenExpiresAt time.Time `json:"token_expires_at,omitzero"`
	AuthorizedAt   time.Time `json:"authorized_at,omitzero"`
	CancelledAt    time.Time `json:"cancelled_at,omitzero"`
	CancelledBy    string    `json:"cancelled_by,omitempty"`
	CancelReason   string    `json:"cancel_reason,omitempty"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
	// Warnings are what the simulator noticed and production would have handled otherwise,
	// such as a notification not sent for want of a notify_url.
	Warnings []string `json:"warnings,omitempty"`
	// Outbox holds the notifications a change caused, for the store to save with the
	// permission in one transaction.
	Outbox []*Notification `json:"-"`
}

// PermissionNotice is the decrypted resource of PAYSCORE.USER_OPEN_SERVICE and
// PAYSCORE.USER_CLOSE_SERVICE.
type PermissionNotice struct {
	AppID             string `json:"appid"`
	MchID             string `json:"mchid"`
	ServiceID         string `json:"service_id"`
	OpenID            string `json:"openid"`
	UserServiceStatus string `json:"user_service_status"`
	// OpenOrCloseTime is yyyyMMddHHmmss in China Standard Time.
	OpenOrCloseTime   string `json:"openorclose_time"`
	AuthorizationCode string `json:"authorization_code"`
}

// tokenExpired reports whether the apply_permissions_token has lapsed at now.
func (p *Permission) tokenExpired(now time.Time) bool { return now.After(p.TokenExpiresAt) }

// notify queues an open or close service notification to the permission's notify_url. Without
// a notify_url nothing is queued: production would fall back to a URL configured by WeChat's
// operations staff, which the simulator does not have, so it says so in a warning instead.
func (p *Permission) notify(event EventType, status string, now time.Time) error {
	if p.NotifyURL == "" {
		p.Warnings = append(p.Warnings, fmt.Sprintf(
			"%s at %s was not sent: the permission has no notify_url (pass notify_url to POST /v3/payscore/permissions to receive it)",
			event, FormatRFC3339(now)))
		return nil
	}
	n, err := newNotification(p.MchID, event, p.NotifyURL, PermissionNotice{
		AppID: p.AppID, MchID: p.MchID, ServiceID: p.ServiceID, OpenID: p.OpenID,
		UserServiceStatus: status, OpenOrCloseTime: FormatCompact(now),
		AuthorizationCode: p.AuthorizationCode,
	}, now)
	if err != nil {
		return err
	}
	n.AuthorizationCode, n.OpenID = p.AuthorizationCode, p.OpenID
	p.Outbox = append(p.Outbox, n)
	return nil
}

// stateError explains why an operation does not apply to the permission as it is.
func (p *Permission) stateError(message, op, want string) *Error {
	return Errorf(CodeInvalidRequest, "%s", message).
		With("authorization_code", p.AuthorizationCode).
		With("authorization_state", p.State).
		With("issue", fmt.Sprintf("%s needs a permission in %s; authorization_code %s is %s", op, want, p.AuthorizationCode, p.State))
}

// Reapply is the merchant calling POST /v3/payscore/permissions again with an authorization_code
// no user has authorized yet: the permission gets a fresh token (the previous one stops
// working) and the notify_url of the latest call.
func (p *Permission) Reapply(appid, notifyURL, token string, now time.Time) error {
	switch p.State {
	case AuthorizationAvailable:
		e := p.stateError("该授权协议号已被用户授权", "a repeated pre-authorization", "UNBINDUSER (no user has authorized it yet)")
		return e.With("field", "authorization_code").With("value", p.AuthorizationCode).
			With("issue", fmt.Sprintf("authorization_code %s was already authorized by user %s at %s; an authorization_code is one agreement with one user: query it (GET /v3/payscore/permissions/authorization-code/%s) or use a new authorization_code for a new authorization",
				p.AuthorizationCode, p.OpenID, FormatRFC3339(p.AuthorizedAt), p.AuthorizationCode))
	case AuthorizationUnavailable:
		e := p.stateError("该授权协议号已解除授权", "a repeated pre-authorization", "UNBINDUSER (no user has authorized it yet)")
		return e.With("field", "authorization_code").With("value", p.AuthorizationCode).
			With("issue", fmt.Sprintf("authorization_code %s was ended (%s, by the %s); use a new authorization_code to ask the user again",
				p.AuthorizationCode, FormatRFC3339(p.CancelledAt), p.CancelledBy))
	}
	if appid != p.AppID {
		return Errorf(CodeInvalidRequest, "请确认相同授权协议号是否使用了不同的参数").
			With("field", "appid").With("value", appid).
			With("issue", fmt.Sprintf("authorization_code %s was pre-authorized for appid %s; repeat it with the same appid, or use a new authorization_code", p.AuthorizationCode, p.AppID))
	}
	p.NotifyURL = notifyURL
	p.Token, p.TokenExpiresAt = token, now.Add(PermissionTokenLifetime)
	return nil
}

// Authorize is the user granting the permission: it binds the user's openid and tells the
// merchant with USER_OPEN_SERVICE.
func (p *Permission) Authorize(openid string, now time.Time) error {
	if p.State != AuthorizationUnbindUser {
		return p.stateError("当前授权状态不支持授权", "authorize", "UNBINDUSER")
	}
	p.OpenID, p.State, p.AuthorizedAt = openid, AuthorizationAvailable, now
	return p.notify(EventUserOpenService, userOpenService, now)
}

// Terminate is the merchant ending the permission (解除授权). Terminating an ended permission
// again succeeds and changes nothing, so a retried call is harmless. A permission no user has
// authorized yet ends without a notification: there is no user to name.
//
// Whether production sends USER_CLOSE_SERVICE for a terminate the merchant itself asked for is
// not documented (the reference marks it inferred). The simulator sends it, so that a merchant
// handles the callback whichever side ends the authorization.
func (p *Permission) Terminate(reason string, now time.Time) error {
	switch p.State {
	case AuthorizationUnavailable:
		return nil
	case AuthorizationUnbindUser:
		p.end(CancelledByMerchant, reason, now)
		return nil
	}
	p.end(CancelledByMerchant, reason, now)
	return p.notify(EventUserCloseService, userCloseService, now)
}

// Revoke is the user ending the permission in WeChat (支付分 → 服务管理); the merchant is told
// with USER_CLOSE_SERVICE.
func (p *Permission) Revoke(now time.Time) error {
	if p.State != AuthorizationAvailable {
		return p.stateError("用户未授权该服务", "revoke", "AVAILABLE")
	}
	p.end(CancelledByUser, "", now)
	return p.notify(EventUserCloseService, userCloseService, now)
}

func (p *Permission) end(by, reason string, now time.Time) {
	p.State, p.CancelledAt, p.CancelledBy, p.CancelReason = AuthorizationUnavailable, now, by, reason
}

// Authorize is the user tapping 授权 on the wxpayScoreEnable page. Authorizing again with the
// same openid changes nothing, so a double tap or a retried request is harmless.
func (v *Visit) Authorize(openid string, now time.Time) error {
	if err := v.refusal(ActionAuthorize); err != nil {
		if p := v.Permission; v.Authorized && !v.Ended() && p != nil && p.State == AuthorizationAvailable && p.OpenID == openid {
			return nil // a repeat by the same user: not an action the page offers, but harmless
		}
		return err
	}
	p, err := v.permission()
	if err != nil {
		return err
	}
	if p.State == AuthorizationUnbindUser && p.tokenExpired(now) {
		return Errorf(CodeInvalidRequest, "apply_permissions_token 已过期").
			With("err_code", errCodePackageInvalid).
			With("issue", fmt.Sprintf("the apply_permissions_token expired at %s (one hour after it was issued); the merchant must call POST /v3/payscore/permissions again for a fresh one", FormatRFC3339(p.TokenExpiresAt)))
	}
	if err := p.Authorize(openid, now); err != nil {
		return err
	}
	v.Authorized, v.OpenID = true, openid
	v.Warnings = append(v.Warnings, p.Warnings...)
	return nil
}

// DefaultOpenID is the openid of the simulated user under appid, for a visit whose caller names
// no user: shaped like production's (28 characters, "oUpF8u" and URL-safe base64), the same
// every time for the same appid, and different for another appid, as an openid is per user and
// per appid (reference 9.1).
func DefaultOpenID(appid string) string {
	sum := sha256.Sum256([]byte("payscore-sim default user\x00" + appid))
	return "oUpF8u" + base64.RawURLEncoding.EncodeToString(sum[:])[:22]
}

// newPermissionToken makes an apply_permissions_token shaped like production's: the prefix and
// alphabet (letters, digits, _ and -) of the documentation's sample, within 300 characters.
func newPermissionToken() string {
	b := make([]byte, 168)
	_, _ = rand.Read(b)
	return "AAQTnZoAAAAB" + base64.RawURLEncoding.EncodeToString(b)
}

// PermissionStore persists permissions. The rules live in Service; a store only keeps what it
// is given, atomically. The wxpayScoreEnable visits that grant permissions are a VisitStore's.
type PermissionStore interface {
	// CreatePermission stores p unless the merchant already has a permission with p's
	// service_id and authorization_code; then it stores nothing and returns that one with
	// created false. Notifications in p.Outbox are saved in the same transaction.
	CreatePermission(ctx context.Context, p *Permission) (stored *Permission, created bool, err error)
	// FindPermission returns the merchant's permission of service serviceID named code, or an
	// ORDER_NOT_EXIST *Error (production's code for a missing authorization record).
	FindPermission(ctx context.Context, mchid, serviceID, code string) (*Permission, error)
	// FindPermissionByOpenID returns the user's AVAILABLE permission for the merchant's appid
	// and service, else the user's most recently changed one, else ORDER_NOT_EXIST.
	FindPermissionByOpenID(ctx context.Context, mchid, appid, serviceID, openid string) (*Permission, error)
	// FindPermissionByToken returns the permission whose live apply_permissions_token is token,
	// of any merchant (the front end names none), or ORDER_NOT_EXIST.
	FindPermissionByToken(ctx context.Context, token string) (*Permission, error)
	// UpdatePermission loads the permission with id, lets fn change it and saves it together
	// with the notifications fn queued, in one transaction. If fn fails nothing is saved and
	// its error is returned. A user with two AVAILABLE permissions for one appid and service
	// is refused with INVALID_REQUEST.
	UpdatePermission(ctx context.Context, id string, fn func(*Permission) error) (*Permission, error)
	// ListPermissions returns permissions newest first.
	ListPermissions(ctx context.Context, f PermissionFilter) ([]*Permission, error)
}

// PermissionFilter narrows ListPermissions. Zero fields match everything; Limit 0 means 100.
type PermissionFilter struct {
	MchID             string
	ServiceID         string
	AppID             string
	OpenID            string
	AuthorizationCode string
	State             AuthorizationState
	// Before keeps the permissions listed after the one of this ID (its id): the next page of a
	// listing whose previous page ended there.
	Before string
	Limit  int
}

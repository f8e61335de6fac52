package simulator

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"

	"github.com/google/uuid"
)

// ApplyPermissionRequest is the body of POST /v3/payscore/permissions (商户预授权).
type ApplyPermissionRequest struct {
	ServiceID         string `json:"service_id"`
	AppID             string `json:"appid"`
	AuthorizationCode string `json:"authorization_code"`
	NotifyURL         string `json:"notify_url"`
}

// TerminatePermissionRequest is the body of the two terminate APIs; AppID is the by-openid
// one's only.
type TerminatePermissionRequest struct {
	ServiceID string `json:"service_id"`
	AppID     string `json:"appid"`
	Reason    string `json:"reason"`
}

// SeedPermissionRequest makes an AVAILABLE permission as if the user had authorized, for tests
// (POST /sim/v1/permissions/{mchid}/authorize).
type SeedPermissionRequest struct {
	ServiceID         string `json:"service_id"`
	AppID             string `json:"appid"`
	OpenID            string `json:"openid"`
	AuthorizationCode string `json:"authorization_code"`
	NotifyURL         string `json:"notify_url"`
}

var (
	openIDPattern = regexp.MustCompile(`^[0-9A-Za-z_-]+$`)
	tokenPattern  = packagePattern
)

// authorizeHowTo tells a developer how a user comes to authorize a service in the simulator.
const authorizeHowTo = "a user authorizes through POST /v3/payscore/permissions (apply_permissions_token), " +
	"a wxpayScoreEnable visit with that token (POST /sim/v1/visits) and POST /sim/v1/visits/{visit_id}/authorize; " +
	"a test can also seed one with POST /sim/v1/permissions/{mchid}/authorize"

func permissionNotExist(issue string) *Error {
	return Errorf(CodeOrderNotExist, "请求操作的授权记录不存在").With("issue", issue)
}

// explainPermissionNotExist adds issue to a store's not-found error; others pass unchanged.
func explainPermissionNotExist(err error, issue string) error {
	var e *Error
	if errors.As(err, &e) && e.Code == CodeOrderNotExist {
		return e.With("issue", issue)
	}
	return err
}

func (c *check) authorizationCode(v string) { c.str("authorization_code", v, 1, 32) }

func (c *check) openID(v string) {
	c.str("openid", v, 1, 128)
	c.match("openid", v, openIDPattern, "digits, letters, _ and -")
}

func (c *check) at(location string) *Error {
	if c.err != nil {
		c.err.Detail["location"] = location
	}
	return c.err
}

// ApplyPermission is the merchant's pre-authorization: it returns the apply_permissions_token
// the front end opens wxpayScoreEnable with. Repeating it for an authorization_code no user has
// authorized yet issues a fresh token.
func (s *Service) ApplyPermission(ctx context.Context, m *Merchant, r ApplyPermissionRequest) (*Permission, error) {
	var c check
	c.str("service_id", r.ServiceID, 1, 32)
	c.str("appid", r.AppID, 1, 32)
	c.authorizationCode(r.AuthorizationCode)
	var warnings []string
	if r.NotifyURL != "" {
		if w := c.notifyURL("notify_url", r.NotifyURL, payScoreNotifyURLMax); w != "" {
			warnings = append(warnings, w)
		}
	} else {
		warnings = append(warnings, "no notify_url: the simulator will not send PAYSCORE.USER_OPEN_SERVICE or PAYSCORE.USER_CLOSE_SERVICE for this permission (production falls back to a URL configured by WeChat, which the simulator does not have)")
	}
	if c.err != nil {
		return nil, c.err
	}
	if err := checkBinding(m, r.AppID, r.ServiceID); err != nil {
		return nil, err
	}
	now := s.Clocks.Now(m.MchID)
	p := &Permission{
		ID: uuid.NewString(), MchID: m.MchID, ServiceID: r.ServiceID, AppID: r.AppID,
		AuthorizationCode: r.AuthorizationCode, State: AuthorizationUnbindUser, NotifyURL: r.NotifyURL,
		Token: newPermissionToken(), TokenExpiresAt: now.Add(PermissionTokenLifetime),
		CreatedAt: now, UpdatedAt: now, Warnings: warnings,
	}
	stored, created, err := s.Permissions.CreatePermission(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("apply permission %s: %w", r.AuthorizationCode, err)
	}
	if created {
		return stored, nil
	}
	return s.Permissions.UpdatePermission(ctx, stored.ID, func(p *Permission) error {
		if err := p.Reapply(r.AppID, r.NotifyURL, newPermissionToken(), now); err != nil {
			return err
		}
		p.Warnings = appendNew(p.Warnings, warnings...)
		p.UpdatedAt = now
		return nil
	})
}

// appendNew appends the values not in list yet.
func appendNew(list []string, values ...string) []string {
	for _, v := range values {
		if !slices.Contains(list, v) {
			list = append(list, v)
		}
	}
	return list
}

// QueryPermission finds the merchant's permission by authorization_code.
func (s *Service) QueryPermission(ctx context.Context, m *Merchant, code, serviceID string) (*Permission, error) {
	var c check
	c.authorizationCode(code)
	if err := c.at("path"); err != nil {
		return nil, err
	}
	c.str("service_id", serviceID, 1, 32)
	if err := c.at("query"); err != nil {
		return nil, err
	}
	if !m.HasService(serviceID) {
		return nil, NoAuth("service_id", serviceID, m.ServiceIDs)
	}
	p, err := s.Permissions.FindPermission(ctx, m.MchID, serviceID, code)
	if err != nil {
		return nil, explainPermissionNotExist(err, s.codeNotFoundIssue(ctx, m, code, serviceID))
	}
	return p, nil
}

// codeNotFoundIssue explains why the merchant has no permission code of serviceID, naming the
// service it does exist under when there is one.
func (s *Service) codeNotFoundIssue(ctx context.Context, m *Merchant, code, serviceID string) string {
	issue := fmt.Sprintf("merchant %s has no authorization record with authorization_code %s for service_id %s; records are created by POST /v3/payscore/permissions", m.MchID, code, serviceID)
	others, err := s.Permissions.ListPermissions(ctx, PermissionFilter{MchID: m.MchID, AuthorizationCode: code, Limit: 10})
	if err == nil && len(others) > 0 {
		var services []string
		for _, p := range others {
			services = append(services, p.ServiceID)
		}
		sort.Strings(services)
		issue += fmt.Sprintf(" (it exists under service_id %v)", services)
	}
	return issue
}

// QueryPermissionByOpenID finds the user's permission for the merchant's appid and service.
func (s *Service) QueryPermissionByOpenID(ctx context.Context, m *Merchant, openid, appid, serviceID string) (*Permission, error) {
	var c check
	c.openID(openid)
	if err := c.at("path"); err != nil {
		return nil, err
	}
	c.str("appid", appid, 1, 32)
	c.str("service_id", serviceID, 1, 32)
	if err := c.at("query"); err != nil {
		return nil, err
	}
	if err := checkBinding(m, appid, serviceID); err != nil {
		return nil, err
	}
	p, err := s.Permissions.FindPermissionByOpenID(ctx, m.MchID, appid, serviceID, openid)
	if err != nil {
		return nil, explainPermissionNotExist(err, fmt.Sprintf(
			"openid %s never authorized service_id %s under appid %s of merchant %s; %s", openid, serviceID, appid, m.MchID, authorizeHowTo))
	}
	return p, nil
}

// TerminatePermission is the merchant ending a permission named by authorization_code.
func (s *Service) TerminatePermission(ctx context.Context, m *Merchant, code string, r TerminatePermissionRequest) (*Permission, error) {
	var c check
	c.authorizationCode(code)
	if err := c.at("path"); err != nil {
		return nil, err
	}
	c.str("service_id", r.ServiceID, 1, 32)
	c.str("reason", r.Reason, 1, 50)
	if c.err != nil {
		return nil, c.err
	}
	if !m.HasService(r.ServiceID) {
		return nil, NoAuth("service_id", r.ServiceID, m.ServiceIDs)
	}
	p, err := s.Permissions.FindPermission(ctx, m.MchID, r.ServiceID, code)
	if err != nil {
		return nil, explainPermissionNotExist(err, s.codeNotFoundIssue(ctx, m, code, r.ServiceID))
	}
	return s.updatePermission(ctx, p.ID, func(p *Permission) error { return p.Terminate(r.Reason, s.Clocks.Now(p.MchID)) })
}

// TerminatePermissionByOpenID is the merchant ending the user's permission for its appid and
// service.
func (s *Service) TerminatePermissionByOpenID(ctx context.Context, m *Merchant, openid string, r TerminatePermissionRequest) (*Permission, error) {
	var c check
	c.openID(openid)
	if err := c.at("path"); err != nil {
		return nil, err
	}
	c.str("service_id", r.ServiceID, 1, 32)
	c.str("appid", r.AppID, 1, 32)
	c.str("reason", r.Reason, 1, 50)
	if c.err != nil {
		return nil, c.err
	}
	if err := checkBinding(m, r.AppID, r.ServiceID); err != nil {
		return nil, err
	}
	p, err := s.Permissions.FindPermissionByOpenID(ctx, m.MchID, r.AppID, r.ServiceID, openid)
	if err != nil {
		return nil, explainPermissionNotExist(err, fmt.Sprintf(
			"openid %s has no authorization record for service_id %s under appid %s of merchant %s", openid, r.ServiceID, r.AppID, m.MchID))
	}
	return s.updatePermission(ctx, p.ID, func(p *Permission) error { return p.Terminate(r.Reason, s.Clocks.Now(p.MchID)) })
}

// updatePermission applies step to a permission, and wakes the notifier when the step queued
// a notification (the store empties the outbox as it saves it).
func (s *Service) updatePermission(ctx context.Context, id string, step func(*Permission) error) (*Permission, error) {
	notifies := false
	p, err := s.Permissions.UpdatePermission(ctx, id, func(p *Permission) error {
		if err := step(p); err != nil {
			return err
		}
		p.UpdatedAt = s.Clocks.Now(p.MchID)
		notifies = len(p.Outbox) > 0
		return nil
	})
	if err != nil {
		return nil, err
	}
	if notifies {
		s.wake()
	}
	return p, nil
}

// controlMerchant is the merchant a control API path names.
func (s *Service) controlMerchant(mchid string) (*Merchant, error) {
	m := s.Merchants.Merchant(mchid)
	if m == nil {
		return nil, ParamError("mchid", mchid, "is not a merchant of this simulator").With("location", "path")
	}
	return m, nil
}

// RevokePermission is the user ending an authorization in WeChat. serviceID may be empty when
// the merchant has only one permission with the authorization_code.
func (s *Service) RevokePermission(ctx context.Context, mchid, code, serviceID string) (*Permission, error) {
	m, err := s.controlMerchant(mchid)
	if err != nil {
		return nil, err
	}
	var p *Permission
	if serviceID != "" {
		if p, err = s.Permissions.FindPermission(ctx, m.MchID, serviceID, code); err != nil {
			return nil, explainPermissionNotExist(err, s.codeNotFoundIssue(ctx, m, code, serviceID))
		}
	} else {
		found, err := s.Permissions.ListPermissions(ctx, PermissionFilter{MchID: m.MchID, AuthorizationCode: code, Limit: 2})
		switch {
		case err != nil:
			return nil, err
		case len(found) == 0:
			return nil, permissionNotExist(fmt.Sprintf("merchant %s has no authorization record with authorization_code %s", m.MchID, code)).
				With("authorization_code", code)
		case len(found) > 1:
			return nil, ParamError("service_id", "", fmt.Sprintf("is required: merchant %s has authorization_code %s under more than one service", m.MchID, code))
		}
		p = found[0]
	}
	return s.updatePermission(ctx, p.ID, func(p *Permission) error { return p.Revoke(s.Clocks.Now(p.MchID)) })
}

// SeedPermission makes an AVAILABLE permission as if the user had authorized it on the
// wxpayScoreEnable page, queueing USER_OPEN_SERVICE when it has a notify_url. Seeding the same
// user again returns the permission as it is.
func (s *Service) SeedPermission(ctx context.Context, mchid string, r SeedPermissionRequest) (*Permission, error) {
	m, err := s.controlMerchant(mchid)
	if err != nil {
		return nil, err
	}
	warnings, err := r.validate(m)
	if err != nil {
		return nil, err
	}
	existing, err := s.Permissions.FindPermissionByOpenID(ctx, m.MchID, r.AppID, r.ServiceID, r.OpenID)
	switch {
	case ErrorCode(err) == CodeOrderNotExist:
	case err != nil:
		return nil, err
	case existing.State == AuthorizationAvailable && (r.AuthorizationCode == "" || r.AuthorizationCode == existing.AuthorizationCode):
		return existing, nil
	case existing.State == AuthorizationAvailable:
		return nil, alreadyAuthorized(existing)
	}
	return s.authorizeSeed(ctx, m, r, warnings)
}

// authorizeSeed binds the seed's user to a new permission, or to the pre-authorization its
// authorization_code names.
func (s *Service) authorizeSeed(ctx context.Context, m *Merchant, r SeedPermissionRequest, warnings []string) (*Permission, error) {
	code := r.AuthorizationCode
	if code == "" {
		code = "SIM" + randomDigits(20)
	}
	now := s.Clocks.Now(m.MchID)
	p := &Permission{
		ID: uuid.NewString(), MchID: m.MchID, ServiceID: r.ServiceID, AppID: r.AppID,
		AuthorizationCode: code, State: AuthorizationUnbindUser, NotifyURL: r.NotifyURL,
		CreatedAt: now, UpdatedAt: now, Warnings: warnings,
	}
	if err := p.Authorize(r.OpenID, now); err != nil {
		return nil, err
	}
	stored, created, err := s.Permissions.CreatePermission(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("seed permission %s: %w", code, err)
	}
	if !created {
		// The merchant pre-authorized this code and no user bound it yet: the user does now.
		stored, err = s.updatePermission(ctx, stored.ID, func(p *Permission) error {
			if p.AppID != r.AppID {
				return ParamError("appid", r.AppID, fmt.Sprintf("must be the appid authorization_code %s was pre-authorized for (%s)", code, p.AppID))
			}
			if p.State == AuthorizationAvailable && p.OpenID == r.OpenID {
				return nil
			}
			return p.Authorize(r.OpenID, s.Clocks.Now(p.MchID))
		})
		if err != nil {
			return nil, err
		}
	}
	s.wake()
	return stored, nil
}

// validate checks a seed for merchant m and returns the warnings it earns.
func (r SeedPermissionRequest) validate(m *Merchant) ([]string, error) {
	var c check
	c.str("service_id", r.ServiceID, 1, 32)
	c.str("appid", r.AppID, 1, 32)
	c.openID(r.OpenID)
	if r.AuthorizationCode != "" {
		c.authorizationCode(r.AuthorizationCode)
	}
	var warnings []string
	if r.NotifyURL != "" {
		if w := c.notifyURL("notify_url", r.NotifyURL, payScoreNotifyURLMax); w != "" {
			warnings = append(warnings, w)
		}
	}
	if c.err != nil {
		return nil, c.err
	}
	if err := checkBinding(m, r.AppID, r.ServiceID); err != nil {
		return nil, err
	}
	return warnings, nil
}

// alreadyAuthorized refuses a second authorization of a user who has one in force.
func alreadyAuthorized(p *Permission) *Error {
	return Errorf(CodeInvalidRequest, "用户已开启该服务").
		With("openid", p.OpenID).With("authorization_code", p.AuthorizationCode).
		With("issue", fmt.Sprintf("openid %s already authorized service_id %s under appid %s with authorization_code %s (at %s); a user has one authorization per service: terminate it first",
			p.OpenID, p.ServiceID, p.AppID, p.AuthorizationCode, FormatRFC3339(p.AuthorizedAt)))
}

// ListPermissions lists permissions for the control API.
func (s *Service) ListPermissions(ctx context.Context, f PermissionFilter) ([]*Permission, error) {
	if f.State != "" {
		if _, err := ParseAuthorizationState("state", string(f.State)); err != nil {
			return nil, err
		}
	}
	return s.Permissions.ListPermissions(ctx, f)
}

// openEnable accepts the current wxpayScoreEnable form ({apply_permissions_token}) and returns
// the permission the token was issued for, which the visit grants.
func (s *Service) openEnable(ctx context.Context, v *Visit) (*Permission, error) {
	token := v.Params["apply_permissions_token"]
	if token == "" {
		if v.Params["out_request_no"] != "" || v.Params["sign"] != "" {
			return nil, frontendError(CodeParamError, errCodePackageMissing, "apply_permissions_token 不能为空",
				"the older signed wxpayScoreEnable form (mch_id, service_id, out_request_no, timestamp, nonce_str, sign_type, sign) is not simulated; "+
					"pass extraData {apply_permissions_token} from POST /v3/payscore/permissions, as the current documentation does").
				With("field", "apply_permissions_token")
		}
		return nil, frontendError(CodeParamError, errCodePackageMissing, "apply_permissions_token 不能为空",
			"extraData.apply_permissions_token is required: pass the token POST /v3/payscore/permissions returned").
			With("field", "apply_permissions_token")
	}
	var c check
	c.str("apply_permissions_token", token, 1, 2048)
	c.match("apply_permissions_token", token, tokenPattern, "digits, letters, _ and -")
	if c.err != nil {
		return nil, c.err.With("err_code", errCodePackageInvalid)
	}
	var extra []string
	for k := range v.Params {
		if k != "apply_permissions_token" {
			extra = append(extra, k)
		}
	}
	if len(extra) > 0 {
		sort.Strings(extra)
		v.Warnings = append(v.Warnings, fmt.Sprintf("extraData fields %v are not part of the wxpayScoreEnable form and were ignored", extra))
	}
	p, err := s.Permissions.FindPermissionByToken(ctx, token)
	if err != nil {
		return nil, withErrCode(err, errCodePackageInvalid,
			"no pre-authorization has this apply_permissions_token: pass the token of the latest POST /v3/payscore/permissions unchanged (a repeated call for the same authorization_code replaces the token)")
	}
	now := s.Clocks.Now(p.MchID)
	switch {
	case p.State == AuthorizationAvailable:
		return nil, frontendError(CodeInvalidRequest, errCodePackageInvalid, "用户已授权该服务",
			fmt.Sprintf("authorization_code %s was already authorized (openid %s, at %s); a token is used once: query the permission instead",
				p.AuthorizationCode, p.OpenID, FormatRFC3339(p.AuthorizedAt)))
	case p.State == AuthorizationUnavailable:
		return nil, frontendError(CodeInvalidRequest, errCodePackageInvalid, "授权已解除",
			fmt.Sprintf("authorization_code %s was ended at %s (by the %s); pre-authorize a new authorization_code",
				p.AuthorizationCode, FormatRFC3339(p.CancelledAt), p.CancelledBy))
	case p.tokenExpired(now):
		return nil, frontendError(CodeInvalidRequest, errCodePackageInvalid, "apply_permissions_token 已过期",
			fmt.Sprintf("an apply_permissions_token is valid for one hour; this one was issued at %s and expired at %s (simulated time now %s); call POST /v3/payscore/permissions again for a fresh one",
				FormatRFC3339(p.TokenExpiresAt.Add(-PermissionTokenLifetime)), FormatRFC3339(p.TokenExpiresAt), FormatRFC3339(now)))
	}
	v.MchID, v.PermissionID, v.AuthorizationCode = p.MchID, p.ID, p.AuthorizationCode
	return p, nil
}

// AuthorizeVisit is the user authorizing the service on a wxpayScoreEnable page, as openid;
// empty openid is the visit's user (the one it was opened with, else DefaultOpenID).
func (s *Service) AuthorizeVisit(ctx context.Context, id, openid string) (*Visit, error) {
	if openid != "" {
		var c check
		c.openID(openid)
		if c.err != nil {
			return nil, c.err
		}
	}
	v, err := s.Visits.FindVisit(ctx, id)
	if err != nil {
		return nil, err
	}
	// An order's visit has nothing to authorize: Visit.Authorize says so.
	if p := v.Permission; p != nil {
		if openid == "" {
			openid = v.OpenID
		}
		if openid == "" { // a visit stored before visits had a user
			openid = DefaultOpenID(p.AppID)
		}
		// A user has one authorization per appid and service; the store enforces it too, this
		// check only words it.
		if other, err := s.Permissions.FindPermissionByOpenID(ctx, p.MchID, p.AppID, p.ServiceID, openid); err == nil &&
			other.State == AuthorizationAvailable && other.ID != p.ID {
			return nil, alreadyAuthorized(other)
		}
	}
	return s.updateVisit(ctx, id, "user: authorize", func(v *Visit) error { return v.Authorize(openid, s.Clocks.Now(v.MchID)) })
}

// checkAuthorized lets an order without user confirmation through only for a user whose
// permission for the merchant's appid and service is AVAILABLE.
func (s *Service) checkAuthorized(ctx context.Context, m *Merchant, serviceID, appid, openid string) error {
	refuse := func(why string) error {
		return Errorf(CodeInvalidRequest, "用户未授权该服务").
			With("field", "openid").With("value", openid).
			With("issue", fmt.Sprintf("openid %s has not authorized service %s (appid %s) of merchant %s%s, so an order with need_user_confirm false cannot be created for it; %s",
				openid, serviceID, appid, m.MchID, why, authorizeHowTo))
	}
	p, err := s.Permissions.FindPermissionByOpenID(ctx, m.MchID, appid, serviceID, openid)
	switch {
	case ErrorCode(err) == CodeOrderNotExist:
		return refuse("")
	case err != nil:
		return err
	case p.State == AuthorizationUnavailable:
		return refuse(fmt.Sprintf(" (its authorization_code %s was ended at %s by the %s)", p.AuthorizationCode, FormatRFC3339(p.CancelledAt), p.CancelledBy))
	case p.State != AuthorizationAvailable:
		return refuse(fmt.Sprintf(" (authorization_code %s is %s)", p.AuthorizationCode, p.State))
	}
	return nil
}

package simulator

import (
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/payscore-sim/payscore-sim/simulator/wxcrypto"
)

// OpenVisitRequest is the merchant front end opening the Pay Score mini-program: the arguments
// of wx.openBusinessView / wx.navigateToMiniProgram (ExtraData, with AppID and Path for the
// latter) or of H5's wx.invoke('openBusinessView') (QueryString).
type OpenVisitRequest struct {
	BusinessType BusinessType               `json:"businessType"`
	ExtraData    map[string]json.RawMessage `json:"extraData"`
	QueryString  *string                    `json:"queryString"`
	AppID        string                     `json:"appId"`
	Path         string                     `json:"path"`
	// OpenID names the user who visits (a test's or a shim's); empty is the default user of
	// the subject's appid (DefaultOpenID).
	OpenID string `json:"openid"`
	// InvokerAppID is the appid of the mini-program (or APP, or official account) that calls
	// Pay Score, when the caller names it: WeChat refuses one that is not the order's (4108).
	InvokerAppID string `json:"invoker_appid"`
}

// Front-end error codes that the Pay Score mini-program shows, from WeChat's FAQ.
const (
	errCodeOrderNoInvalid   = 271314190 // order number in package invalid
	errCodePackageMissing   = 4185      // package empty, wrong businessType or path
	errCodePackageInvalid   = 4186
	errCodeAccountMismatch  = 4188
	errCodeAppIDMismatch    = 4108
	errCodeServiceInvalid   = 4189
	errCodeOrderNotFound    = 3961
	packageLifetime         = time.Hour
	maxQueryStringLen       = 2048
	frontendSignFailMessage = "商户签名校验失败"
)

var (
	packagePattern = regexp.MustCompile(`^[0-9A-Za-z_-]+$`)
	noncePattern   = regexp.MustCompile(`^[0-9A-Za-z]+$`)
	digitsPattern  = regexp.MustCompile(`^[0-9]+$`)
)

// The fields each signed form carries; the sign covers all of them but sign itself.
var (
	signedUseFields    = []string{"mch_id", "package", "timestamp", "nonce_str", "sign_type", "sign"}
	signedDetailFields = []string{"mch_id", "service_id", "out_order_no", "timestamp", "nonce_str", "sign_type", "sign"}
)

// frontendError is a rejection of extraData; errCode is the number the Pay Score
// mini-program would show, where WeChat documents one.
func frontendError(code string, errCode int, message, issue string) *Error {
	e := Errorf(code, "%s", message).With("issue", issue)
	if errCode != 0 {
		e.Detail["err_code"] = errCode
	}
	return e
}

// visitParams normalizes the request to its business type, form and string parameters.
func (r *OpenVisitRequest) visitParams() (BusinessType, string, map[string]string, *Error) {
	bt, form := r.BusinessType, FormExtraData
	if r.AppID != "" || r.Path != "" {
		form = FormNavigate
		if r.AppID != PayScoreAppID {
			return "", "", nil, frontendError(CodeParamError, errCodePackageMissing, "appId 不是支付分小程序",
				fmt.Sprintf("navigateToMiniProgram must target appId %s (the Pay Score mini-program), not %q", PayScoreAppID, r.AppID))
		}
		pathType, ok := navigatePaths[strings.SplitN(r.Path, "?", 2)[0]]
		switch {
		case !ok:
			return "", "", nil, frontendError(CodeParamError, errCodePackageMissing, "path 错误",
				fmt.Sprintf("path %q is not a Pay Score page; use pages/use/use (confirm), pages/record/detail (detail) or pages/use/enable (authorize)", r.Path))
		case bt != "" && bt != pathType:
			return "", "", nil, frontendError(CodeParamError, errCodePackageMissing, "businessType 与 path 不一致",
				fmt.Sprintf("path %s opens %s, but businessType says %s", r.Path, pathType, bt))
		}
		bt = pathType
	}
	switch bt {
	case BusinessUse, BusinessDetail, BusinessEnable:
	case "":
		return "", "", nil, frontendError(CodeParamError, errCodePackageMissing, "businessType 不能为空",
			"businessType is required: wxpayScoreUse, wxpayScoreDetail or wxpayScoreEnable")
	default:
		return "", "", nil, frontendError(CodeParamError, errCodePackageMissing, "businessType 错误",
			fmt.Sprintf("businessType %q is not one of wxpayScoreUse, wxpayScoreDetail, wxpayScoreEnable", bt))
	}
	switch {
	case r.QueryString != nil && r.ExtraData != nil:
		return "", "", nil, ParamError("queryString", *r.QueryString, "and extraData must not both be given: H5 passes queryString, mini-programs and APPs extraData")
	case r.QueryString != nil:
		params, err := parseQueryString(*r.QueryString)
		return bt, FormQueryString, params, err
	case r.ExtraData == nil:
		return "", "", nil, frontendError(CodeParamError, errCodePackageMissing, "extraData 不能为空",
			"extraData (or, for H5, queryString) is required")
	}
	params := make(map[string]string, len(r.ExtraData))
	for k, raw := range r.ExtraData {
		v, err := extraDataValue(raw)
		if err != nil {
			return "", "", nil, ParamError("extraData."+k, string(raw), err.Error())
		}
		params[k] = v
	}
	return bt, form, params, nil
}

// extraDataValue reads one extraData value as a string. Numbers are taken as written, since
// some merchants pass timestamp as a number.
func extraDataValue(raw json.RawMessage) (string, error) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, nil
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String(), nil
	}
	return "", fmt.Errorf("must be a string, not %s", raw)
}

// parseQueryString reads an H5 queryString, whose values are URL-encoded.
func parseQueryString(qs string) (map[string]string, *Error) {
	if len(qs) > maxQueryStringLen {
		return nil, ParamError("queryString", len(qs), fmt.Sprintf("must have at most %d characters", maxQueryStringLen))
	}
	values, err := url.ParseQuery(qs)
	if err != nil {
		return nil, ParamError("queryString", qs, "is not a valid query string: "+err.Error())
	}
	params := make(map[string]string, len(values))
	for k, vs := range values {
		if len(vs) > 1 {
			return nil, ParamError("queryString."+k, vs, "must be given once")
		}
		params[k] = vs[0]
	}
	return params, nil
}

// checkSignedFields checks presence and shape of the signed form's fields and warns about
// fields the form does not define, which WeChat does not sign.
func (c *check) signedFields(params map[string]string, fields []string) (warnings []string) {
	for _, f := range fields {
		if params[f] == "" {
			c.fail(f, params[f], fmt.Sprintf("is required in the signed form (%s)", strings.Join(fields, ", ")))
		}
	}
	c.str("mch_id", params["mch_id"], 1, 32)
	c.str("timestamp", params["timestamp"], 1, 32)
	c.str("nonce_str", params["nonce_str"], 1, 32)
	c.match("nonce_str", params["nonce_str"], noncePattern, "digits and letters")
	c.str("sign", params["sign"], 1, 64)
	if ts := params["timestamp"]; ts != "" && (!digitsPattern.MatchString(ts) || (len(ts) != 10 && len(ts) != 13)) {
		c.fail("timestamp", ts, "must be Unix time in seconds (10 digits) or milliseconds (13 digits)")
	}
	if st := params["sign_type"]; st != "" && st != wxcrypto.SignTypeHMACSHA256 {
		c.fail("sign_type", st, "仅支持 HMAC-SHA256 (only HMAC-SHA256)")
	}
	var extra []string
	for k := range params {
		if !slices.Contains(fields, k) {
			extra = append(extra, k)
		}
	}
	sort.Strings(extra)
	if len(extra) > 0 {
		warnings = append(warnings, fmt.Sprintf("extraData fields %v are not part of the signed form and were ignored", extra))
	}
	return warnings
}

// verifyFrontendSign checks the sign with the merchant's APIv2 key, as WeChat does. A sign made
// with the APIv3 key (gopay's PaySignOf*Score do that) is named as such; a merchant setting
// accepts it.
func verifyFrontendSign(m *Merchant, params map[string]string, fields []string) (warning string, err *Error) {
	signed := map[string]string{}
	for _, f := range fields {
		signed[f] = params[f]
	}
	got := strings.ToUpper(params["sign"])
	if want, _ := wxcrypto.SignV2(signed, m.APIv2Key, wxcrypto.SignTypeHMACSHA256); got == want {
		return "", nil
	}
	signString := wxcrypto.V2SignString(signed) + "&key=<APIv2 key>"
	e := frontendError(CodeSignError, 0, frontendSignFailMessage,
		"sign is not HMAC-SHA256 of the sorted fields with the merchant's APIv2 key").
		With("sign_string", signString).With("key_tried", "APIv2 key").With("field", "sign").With("value", params["sign"])
	if v3, _ := wxcrypto.SignV2(signed, m.APIv3Key, wxcrypto.SignTypeHMACSHA256); got == v3 {
		if m.Settings.AcceptAPIv3KeySign {
			return "the sign was made with the APIv3 key; WeChat rejects that, this merchant's accept_apiv3_key_sign setting lets it through", nil
		}
		return "", e.With("issue", "the sign was made with the APIv3 key (as gopay's PaySignOfAppletScore does); WeChat requires the APIv2 key and answers 商户签名校验失败. Sign with the APIv2 key, or set accept_apiv3_key_sign for this merchant").
			With("other_key_matches", "APIv3 key")
	}
	if md5, _ := wxcrypto.SignV2(signed, m.APIv2Key, wxcrypto.SignTypeMD5); got == md5 {
		return "", e.With("issue", "the sign is the MD5 sign with the APIv2 key; Pay Score only accepts HMAC-SHA256").
			With("other_key_matches", "APIv2 key with MD5")
	}
	return "", e
}

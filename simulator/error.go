package simulator

import (
	"errors"
	"fmt"
)

// WeChat Pay error codes, as the APIv3 documentation names them. The HTTP adapter maps each to
// its status; the domain only decides which one applies.
const (
	CodeParamError           = "PARAM_ERROR"
	CodeInvalidRequest       = "INVALID_REQUEST"
	CodeSignError            = "SIGN_ERROR"
	CodeNoAuth               = "NO_AUTH"
	CodeOrderNotExist        = "ORDER_NOT_EXIST"
	CodeInvalidOrderState    = "INVALID_ORDER_STATE"
	CodeOrderCanceled        = "ORDER_CANCELED"
	CodeOrderDone            = "ORDER_DONE"
	CodeNotFound             = "NOT_FOUND"
	CodeVisitNotExist        = "VISIT_NOT_EXIST"
	CodeNotificationNotExist = "NOTIFICATION_NOT_EXIST"
	CodeMethodNotAllowed     = "METHOD_NOT_ALLOWED"
	CodeSystemError          = "SYSTEM_ERROR"
)

// Error is a rejection as WeChat Pay words it: a code, a message in WeChat's own language and a
// detail. Because this is a simulator, Detail also carries the diagnosis a developer needs
// (which field, which rule, what we computed on our side).
type Error struct {
	Code    string
	Message string
	Detail  map[string]any
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Errorf returns an *Error with no detail.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ParamError reports a request field that breaks a documented rule. The detail names the field
// the way WeChat does (field, value, issue, location) so a client can point at it.
func ParamError(field string, value any, issue string) *Error {
	return &Error{
		Code:    CodeParamError,
		Message: fmt.Sprintf("参数错误：%s %s", field, issue),
		Detail:  map[string]any{"field": field, "value": value, "issue": issue, "location": "body"},
	}
}

// With returns a copy of e whose detail also holds key=value.
func (e *Error) With(key string, value any) *Error {
	c := *e
	c.Detail = make(map[string]any, len(e.Detail)+1)
	for k, v := range e.Detail {
		c.Detail[k] = v
	}
	c.Detail[key] = value
	return &c
}

// ErrorCode returns the WeChat code of err, or SYSTEM_ERROR when err is not an *Error.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeSystemError
}

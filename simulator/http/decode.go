package http

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"reflect"

	"github.com/labstack/echo/v4"

	"github.com/payscore-sim/payscore-sim/simulator"
)

// maxBodyBytes bounds a request body; Pay Score bodies are a few kilobytes.
const maxBodyBytes = 1 << 20

const keyBody = "payscore.body"

// requestBody reads the body once, bounded, and keeps it for the handler and the request log.
func requestBody(c echo.Context) ([]byte, error) {
	if b, ok := c.Get(keyBody).([]byte); ok {
		return b, nil
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), c.Request().Body, maxBodyBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, simulator.Errorf(simulator.CodeParamError, "请求体过大").
				With("issue", fmt.Sprintf("the body must be at most %d bytes", maxBodyBytes))
		}
		return nil, simulator.Errorf(simulator.CodeParamError, "读取请求体失败").With("issue", err.Error())
	}
	c.Set(keyBody, body)
	return body, nil
}

// decodeBody reads the JSON body that authenticate kept into v, and words every way it can be
// wrong as WeChat's PARAM_ERROR, naming the field where there is one. Unknown fields are
// ignored, as production ignores them.
func decodeBody(c echo.Context, v any) error {
	body, err := requestBody(c)
	if err != nil {
		return err
	}
	if ct := c.Request().Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			return simulator.Errorf(simulator.CodeParamError, "Content-Type 须为 application/json").
				With("field", "Content-Type").With("value", ct).With("location", "header").
				With("issue", "the body must be sent as application/json")
		}
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return simulator.Errorf(simulator.CodeParamError, "请求体为空").
			With("location", "body").With("issue", "this API takes a JSON object body")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		return bodyError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return simulator.Errorf(simulator.CodeParamError, "请求体格式错误").
			With("location", "body").With("issue", "the body holds more than one JSON value")
	}
	return nil
}

func bodyError(err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	e := simulator.Errorf(simulator.CodeParamError, "请求体格式错误").With("location", "body")
	switch {
	case errors.As(err, &syntax):
		return e.With("issue", fmt.Sprintf("the body is not valid JSON: %v (at byte %d)", syntax, syntax.Offset))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return e.With("issue", "the body is not valid JSON: it ends too early")
	case errors.As(err, &typ) && typ.Field == "":
		return e.With("issue", fmt.Sprintf("the body must be a JSON object, not a JSON %s", typ.Value))
	case errors.As(err, &typ):
		return simulator.ParamError(typ.Field, typ.Value,
			fmt.Sprintf("must be a JSON %s, not a JSON %s", jsonKind(typ.Type.Kind()), typ.Value))
	default:
		return e.With("issue", err.Error())
	}
}

// jsonKind names a Go kind the way a JSON client thinks of it.
func jsonKind(k reflect.Kind) string {
	switch k {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Slice, reflect.Array:
		return "array"
	case reflect.Map, reflect.Struct:
		return "object"
	default:
		return "number"
	}
}

// queryParams parses the raw query string strictly: a malformed escape or a repeated
// parameter is an error rather than a silent guess.
func queryParams(c echo.Context, names ...string) (map[string]string, error) {
	values, err := url.ParseQuery(c.Request().URL.RawQuery)
	if err != nil {
		return nil, simulator.Errorf(simulator.CodeParamError, "查询参数格式错误").
			With("location", "query").With("issue", err.Error())
	}
	out := make(map[string]string, len(names))
	for _, n := range names {
		switch vs := values[n]; len(vs) {
		case 0:
		case 1:
			out[n] = vs[0]
		default:
			return nil, simulator.ParamError(n, vs, "must be given once").With("location", "query")
		}
	}
	return out, nil
}

// pathParam returns an unescaped path parameter; clients may percent-encode out_order_no.
func pathParam(c echo.Context, name string) (string, error) {
	v, err := url.PathUnescape(c.Param(name))
	if err != nil {
		return "", simulator.ParamError(name, c.Param(name), "is not a valid path segment").With("location", "path")
	}
	return v, nil
}

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
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/payscore-sim/payscore-sim/simulator"
)

// maxBodyBytes bounds a request body; Pay Score bodies are a few kilobytes.
const maxBodyBytes = 1 << 20

const keyBody = "payscore.body"

// limitBody bounds every request's body, whoever reads it: the APIv3 and control API through
// requestBody, the dashboard's forms through echo's FormValue, which would otherwise take a
// multipart body of any size (16 × 100 MB took the process to 1.6 GB). A body announced too
// large is refused before it is read.
func limitBody(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if r.ContentLength > maxBodyBytes {
			return bodyTooLarge()
		}
		r.Body = http.MaxBytesReader(c.Response(), r.Body, maxBodyBytes)
		if err := parseForm(r); err != nil {
			return err
		}
		return next(c)
	}
}

// parseForm reads the form of a page's or the dashboard's POST now. echo workaround: echo's
// FormValue ignores a form cut short by the limit and returns the fields read before the cut. The APIv3 and the control
// API read their bodies themselves.
func parseForm(r *http.Request) error {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if r.Method != http.MethodPost || controlPath(r.URL.Path) || strings.HasPrefix(r.URL.Path, "/v3/") ||
		(mt != "multipart/form-data" && mt != "application/x-www-form-urlencoded") {
		return nil
	}
	err := r.ParseMultipartForm(maxBodyBytes)
	var tooLarge *http.MaxBytesError
	switch {
	case err == nil || errors.Is(err, http.ErrNotMultipart):
		return nil
	case errors.As(err, &tooLarge):
		return bodyTooLarge()
	default:
		return simulator.Errorf(simulator.CodeParamError, "表单格式错误").With("location", "body").With("issue", err.Error())
	}
}

func bodyTooLarge() error {
	return simulator.Errorf(simulator.CodeParamError, "请求体过大").
		With("issue", fmt.Sprintf("the body must be at most %d bytes", maxBodyBytes))
}

// requestBody reads the body once, bounded, and keeps it for the handler and the request log.
func requestBody(c echo.Context) ([]byte, error) {
	if b, ok := c.Get(keyBody).([]byte); ok {
		return b, nil
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), c.Request().Body, maxBodyBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, bodyTooLarge()
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
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return simulator.Errorf(simulator.CodeParamError, "请求体为空").
			With("location", "body").With("issue", "this API takes a JSON object body")
	}
	// encoding/json would quietly turn invalid UTF-8 into U+FFFD and store the mangled text.
	if !utf8.Valid(body) {
		return simulator.Errorf(simulator.CodeParamError, "请求体不是有效的UTF-8编码").
			With("location", "body").With("issue", fmt.Sprintf(
			"the body is not valid UTF-8 (the first invalid byte is at offset %d): JSON must be UTF-8; was it encoded as GBK?", invalidUTF8At(body)))
	}
	if bytes.Equal(trimmed, []byte("null")) {
		return simulator.Errorf(simulator.CodeParamError, "请求体格式错误").
			With("location", "body").With("issue", "the body must be a JSON object, not a JSON null")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		return bodyError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return simulator.Errorf(simulator.CodeParamError, "请求体格式错误").
			With("location", "body").With("issue", "the body holds more than one JSON value")
	}
	// encoding/json keeps the last of repeated names; which one a server keeps is unspecified.
	if name := duplicateName(body); name != "" {
		return simulator.ParamError(name, nil, "appears more than once in its JSON object: names must be unique, since which value a server keeps is unspecified")
	}
	return nil
}

// invalidUTF8At returns the offset of b's first byte that is not part of valid UTF-8.
func invalidUTF8At(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return -1
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
	case errors.As(err, &typ) && strings.HasPrefix(typ.Value, "number ") && typ.Type.Kind() >= reflect.Int && typ.Type.Kind() <= reflect.Uint64:
		// A number that does not fit the integer field: 1.5, 1e2, 99999999999999999999.
		return simulator.ParamError(typ.Field, strings.TrimPrefix(typ.Value, "number "),
			"must be a whole JSON number within the 64-bit integer range, written without a fraction or an exponent")
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

// Package web holds the templates and static assets of the simulator's pages (the Pay Score
// mini-program as the user sees it), embedded with go:embed so the binary serves them without
// files on disk. The http package renders Templates and serves Static under /static/.
package web

import (
	"embed"
	"fmt"
	"html/template"
	"io/fs"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Shims are the front-end shims, served by the http package under /shim/: shim/*.js (the H5
// and mini-program shims), by name, so that a new shim needs no change here.
//
//go:embed shim/*.js
var Shims embed.FS

// Static is the static assets (app.css), rooted so that "app.css" is served as /static/app.css.
var Static fs.FS = mustSub(staticFS, "static")

// Templates are the pages' templates: "visit.html" (the Pay Score mini-program page of a visit)
// and "error.html" (a rejection, with its diagnostic). Every value goes through html/template, so
// whatever a merchant put in an order is shown as text.
var Templates = template.Must(template.New("").Funcs(funcs).ParseFS(templateFS, "templates/*.html"))

// funcs are the helpers the templates use to show WeChat's wire values to a person
// (format.go).
var funcs = template.FuncMap{
	"yuan":           Yuan,
	"list":           func(s ...string) []string { return s },
	"deref":          deref,
	"wechatTime":     WeChatTime,
	"riskFundName":   func(name string) string { return riskFundNames[name] },
	"stateName":      func(s any) string { return stateNames[fmt.Sprint(s)] },
	"paidTypeName":   func(s string) string { return paidTypeNames[s] },
	"collectionName": func(s any) string { return collectionNames[fmt.Sprint(s)] },
}

func mustSub(f fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(f, dir)
	if err != nil {
		panic(err)
	}
	return sub
}

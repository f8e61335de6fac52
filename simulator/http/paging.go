package http

import (
	"encoding/base64"

	"github.com/labstack/echo/v4"

	"github.com/payscore-sim/payscore-sim/simulator"
)

// A list endpoint answers a page at a time, newest first: {"data": [...]} and, when more items
// follow, "next": the same URL with before set to the cursor of the page's last item. The
// cursor is opaque to clients; it encodes that item's ID, so that a page starts where the
// previous one ended however many items were added since. A client that ignores "next" sees
// the first page, as before paging.

// listPage reads one page of a list endpoint from the query q (its limit and before) with list,
// which returns up to limit items listed after the one whose ID is before ("" for the first
// page); id gives an item's ID. It returns the items and the URL of the next page, "" when no
// items follow.
func listPage[T any](c echo.Context, q map[string]string, list func(before string, limit int) ([]T, error), id func(T) string) ([]T, string, error) {
	limit, err := limitParam(q["limit"])
	if err != nil {
		return nil, "", err
	}
	before, err := cursorParam(q["before"])
	if err != nil {
		return nil, "", err
	}
	items, err := list(before, limit)
	if err != nil || len(items) == 0 {
		return items, "", err
	}
	last := id(items[len(items)-1])
	more, err := list(last, 1)
	if err != nil || len(more) == 0 {
		return items, "", err
	}
	return items, nextPage(c, base64.RawURLEncoding.EncodeToString([]byte(last))), nil
}

// cursorParam decodes the before parameter of a list endpoint to the ID of the item the page
// starts after; "" is the first page.
func cursorParam(v string) (string, error) {
	if v == "" {
		return "", nil
	}
	id, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil || len(id) == 0 {
		return "", simulator.ParamError("before", v, "must be a cursor as the previous page's next gives it").With("location", "query")
	}
	return string(id), nil
}

// nextPage is the URL of the request with before set to cursor.
func nextPage(c echo.Context, cursor string) string {
	u := c.Request().URL
	q := u.Query()
	q.Set("before", cursor)
	return u.Path + "?" + q.Encode()
}

// pageOf is the answer of a list endpoint that pages: listOf(items) and, unless next is "",
// the URL of the next page.
func pageOf[T any](items []T, next string) map[string]any {
	page := listOf(items)
	if next != "" {
		page["next"] = next
	}
	return page
}

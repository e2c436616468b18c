package main

import (
	"context"

	"github.com/cloudwego/hertz/pkg/app"
)

// The query workloads: every parameter required and typed, echoed back.

// QueryFew is query-few's parameters.
type QueryFew struct {
	Page  int64  `json:"page"`
	Limit int64  `json:"limit"`
	Sort  string `json:"sort"`
}

// QueryMedium is query-medium's parameters.
type QueryMedium struct {
	Page     int64   `json:"page"`
	Limit    int64   `json:"limit"`
	Sort     string  `json:"sort"`
	Order    string  `json:"order"`
	Q        string  `json:"q"`
	Active   bool    `json:"active"`
	MinPrice float64 `json:"min_price"`
	Category string  `json:"category"`
}

// QueryMany is query-medium's parameters and seven more, one a list.
type QueryMany struct {
	QueryMedium
	MaxPrice float64  `json:"max_price"`
	Brand    string   `json:"brand"`
	Color    string   `json:"color"`
	Size     string   `json:"size"`
	Tag      []string `json:"tag"`
	InStock  bool     `json:"in_stock"`
	Rating   int64    `json:"rating"`
}

func (q *QueryMedium) read(f *fields) {
	q.Page = f.int("page")
	q.Limit = f.int("limit")
	q.Sort = f.str("sort")
	q.Order = f.str("order")
	q.Q = f.str("q")
	q.Active = f.bool("active")
	q.MinPrice = f.float("min_price")
	q.Category = f.str("category")
}

func queryFew(_ context.Context, c *app.RequestContext) {
	f := fields{args: c.QueryArgs()}
	q := QueryFew{Page: f.int("page"), Limit: f.int("limit"), Sort: f.str("sort")}
	if f.err != nil {
		problem(c, f.err)
		return
	}
	respond(c, &q)
}

func queryMedium(_ context.Context, c *app.RequestContext) {
	f := fields{args: c.QueryArgs()}
	var q QueryMedium
	q.read(&f)
	if f.err != nil {
		problem(c, f.err)
		return
	}
	respond(c, &q)
}

func queryMany(_ context.Context, c *app.RequestContext) {
	f := fields{args: c.QueryArgs()}
	var q QueryMany
	q.read(&f)
	q.MaxPrice = f.float("max_price")
	q.Brand = f.str("brand")
	q.Color = f.str("color")
	q.Size = f.str("size")
	q.Tag = f.strs("tag")
	q.InStock = f.bool("in_stock")
	q.Rating = f.int("rating")
	if f.err != nil {
		problem(c, f.err)
		return
	}
	respond(c, &q)
}

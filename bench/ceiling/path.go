package main

import (
	"context"

	"github.com/cloudwego/hertz/pkg/app"
)

// The path workloads: str parameters echoed, and int, UUID and date
// parameters converted, refused with 422 when they do not convert.

type idAnswer struct {
	ID string `json:"id"`
}

func pathSimple(_ context.Context, c *app.RequestContext) {
	respond(c, &idAnswer{ID: c.Param("id")})
}

type multipleAnswer struct {
	UserID string `json:"user_id"`
	PostID string `json:"post_id"`
}

func pathMultiple(_ context.Context, c *app.RequestContext) {
	respond(c, &multipleAnswer{UserID: c.Param("user_id"), PostID: c.Param("post_id")})
}

type deepAnswer struct {
	Org      string `json:"org"`
	Team     string `json:"team"`
	Project  string `json:"project"`
	Resource string `json:"resource"`
	ID       string `json:"id"`
}

func pathDeep(_ context.Context, c *app.RequestContext) {
	respond(c, &deepAnswer{
		Org:      c.Param("org"),
		Team:     c.Param("team"),
		Project:  c.Param("project"),
		Resource: c.Param("resource"),
		ID:       c.Param("id"),
	})
}

type intAnswer struct {
	Value int64 `json:"value"`
}

func pathInt(_ context.Context, c *app.RequestContext) {
	v, err := toInt(c.Param("value"))
	if err != nil {
		problem(c, err)
		return
	}
	respond(c, &intAnswer{Value: v})
}

func pathUUID(_ context.Context, c *app.RequestContext) {
	v, err := toUUID(c.Param("id"))
	if err != nil {
		problem(c, err)
		return
	}
	respond(c, &idAnswer{ID: v})
}

type dateAnswer struct {
	Date string `json:"date"`
}

func pathDate(_ context.Context, c *app.RequestContext) {
	v, err := toDate(c.Param("date"))
	if err != nil {
		problem(c, err)
		return
	}
	respond(c, &dateAnswer{Date: v})
}

package main

import (
	"encoding/json"
	"strconv"

	"github.com/spikard/spikard/core"
)

// routes are the quick start's two routes, answered by Go Handlers on
// the server's goroutines: GET /users/{user_id:int} returns a fixed user
// with that id, and POST /users echoes a body validated as
// {id:int, name:str, email:str}.
func routes() []core.RouteSpec {
	jsonHeader := []core.Header{{Name: []byte("content-type"), Value: []byte("application/json")}}
	return []core.RouteSpec{
		{
			Method: "GET",
			Path:   "/users/{user_id:int}",
			ParameterSchema: json.RawMessage(`{"type":"object","properties":{
				"user_id":{"type":"integer","source":"path"}},"required":["user_id"]}`),
			Handler: func(req *core.Request) core.Response {
				var p struct {
					UserID int64 `json:"user_id"`
				}
				if err := json.Unmarshal(req.Params, &p); err != nil {
					return core.Response{Status: 500}
				}
				body := `{"id":` + strconv.FormatInt(p.UserID, 10) + `,"name":"Alice","email":"alice@example.com"}`
				return core.Response{Status: 200, Headers: jsonHeader, Body: []byte(body)}
			},
		},
		{
			Method: "POST",
			Path:   "/users",
			BodySchema: json.RawMessage(`{"type":"object","properties":{
				"id":{"type":"integer"},"name":{"type":"string"},"email":{"type":"string"}},
				"required":["id","name","email"]}`),
			Handler: func(req *core.Request) core.Response {
				// The body is already validated; echo the original bytes.
				return core.Response{Status: 200, Headers: jsonHeader, Body: req.Body}
			},
		},
	}
}

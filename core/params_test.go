package core

import (
	"encoding/json"
	"net/http"
	"testing"
)

func TestParams(t *testing.T) {
	schema := json.RawMessage(`{"type":"object","properties":{
		"item_id":{"type":"integer","source":"path"},
		"q":{"type":"string","source":"query"},
		"limit":{"type":"integer","source":"query","default":10,"minimum":1,"maximum":100},
		"ratio":{"type":"number","source":"query"},
		"flag":{"type":"boolean","source":"query"},
		"tags":{"type":"array","items":{"type":"integer"},"source":"query"},
		"kind":{"type":"string","enum":["a","b","c"],"source":"query"},
		"code":{"type":"string","minLength":2,"maxLength":3,"pattern":"^[a-z]+$","source":"query"},
		"uid":{"type":"string","format":"uuid","source":"query"},
		"x_token":{"type":"string","source":"header"},
		"sess":{"type":"string","source":"cookie"}
	},"required":["item_id","q"]}`)
	_, base := startApp(t, nil, RouteSpec{Method: "GET", Path: "/items/{item_id}", ParameterSchema: schema, Handler: echoParams})
	cases := []struct {
		url    string
		status int
		want   string
	}{
		{"/items/5?q=hi", 200, `{"item_id":5,"q":"hi","limit":10}`},
		{"/items/5?q=a+b%21&limit=7&ratio=1.5e2&flag=YES&tags=1&tags=2", 200, `{"item_id":5,"q":"a b!","limit":7,"ratio":150,"flag":true,"tags":[1,2]}`},
		{"/items/5?q=&kind=b", 200, `{"item_id":5,"q":"","limit":10,"kind":"b"}`},
		{"/items/foobar?q=x", 422, `{"type":"https://spikard.dev/errors/validation-error","title":"Request Validation Failed","status":422,"detail":"1 validation error in request","errors":[{"type":"int_parsing","loc":["path","item_id"],"msg":"Input should be a valid integer, unable to parse string as an integer","input":"foobar"}]}`},
		{"/items/5", 422, `{"type":"https://spikard.dev/errors/validation-error","title":"Request Validation Failed","status":422,"detail":"1 validation error in request","errors":[{"type":"missing","loc":["query","q"],"msg":"Field required","input":null}]}`},
		{"/items/5?q=x&limit=0", 422, `{"type":"https://spikard.dev/errors/validation-error","title":"Request Validation Failed","status":422,"detail":"1 validation error in request","errors":[{"type":"greater_than_equal","loc":["query","limit"],"msg":"Input should be greater than or equal to 1","input":"0","ctx":{"ge":1}}]}`},
		{"/items/x?flag=maybe&ratio=abc", 422, `{"type":"https://spikard.dev/errors/validation-error","title":"Request Validation Failed","status":422,"detail":"4 validation errors in request","errors":[
			{"type":"int_parsing","loc":["path","item_id"],"msg":"Input should be a valid integer, unable to parse string as an integer","input":"x"},
			{"type":"missing","loc":["query","q"],"msg":"Field required","input":null},
			{"type":"float_parsing","loc":["query","ratio"],"msg":"Input should be a valid number, unable to parse string as a number","input":"abc"},
			{"type":"bool_parsing","loc":["query","flag"],"msg":"Input should be a valid boolean, unable to interpret input","input":"maybe"}]}`},
		{"/items/5?q=x&kind=z", 422, `{"type":"https://spikard.dev/errors/validation-error","title":"Request Validation Failed","status":422,"detail":"1 validation error in request","errors":[{"type":"enum","loc":["query","kind"],"msg":"Input should be 'a', 'b' or 'c'","input":"z","ctx":{"expected":"'a', 'b' or 'c'"}}]}`},
		{"/items/5?q=x&code=a", 422, ``},
		{"/items/5?q=x&code=abcd", 422, ``},
		{"/items/5?q=x&code=AB", 422, ``},
		{"/items/5?q=x&uid=nope", 422, ``},
		{"/items/5?q=x&tags=1&tags=z", 422, `{"type":"https://spikard.dev/errors/validation-error","title":"Request Validation Failed","status":422,"detail":"1 validation error in request","errors":[{"type":"int_parsing","loc":["query","tags",1],"msg":"Input should be a valid integer, unable to parse string as an integer","input":"z"}]}`},
	}
	for _, c := range cases {
		r := get(t, base+c.url)
		if r.status != c.status {
			t.Errorf("GET %s: status %d, want %d: %s", c.url, r.status, c.status, r.body)
			continue
		}
		if c.status == 422 && r.header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("GET %s: content-type %q", c.url, r.header.Get("Content-Type"))
		}
		if c.want != "" {
			jsonEq(t, r.body, c.want)
		}
	}

	req, _ := http.NewRequest("GET", base+"/items/1?q=x", nil)
	req.Header.Set("X-Token", "secret")
	req.AddCookie(&http.Cookie{Name: "sess", Value: "abc"})
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	json.NewDecoder(resp.Body).Decode(&got)
	resp.Body.Close()
	if got["x_token"] != "secret" || got["sess"] != "abc" {
		t.Errorf("header/cookie params: %v", got)
	}
}

func TestParamsExactBytes(t *testing.T) {
	// The 422 document's bytes are fixed: field order type,title,status,detail,errors.
	schema := json.RawMessage(`{"type":"object","properties":{"item_id":{"type":"integer","source":"path"}},"required":["item_id"]}`)
	_, base := startApp(t, nil, RouteSpec{Method: "GET", Path: "/items/{item_id}", ParameterSchema: schema, Handler: echoParams})
	r := get(t, base+"/items/foobar")
	want := `{"type":"https://spikard.dev/errors/validation-error","title":"Request Validation Failed","status":422,"detail":"1 validation error in request","errors":[{"type":"int_parsing","loc":["path","item_id"],"msg":"Input should be a valid integer, unable to parse string as an integer","input":"foobar"}]}`
	if r.body != want {
		t.Fatalf("got  %s\nwant %s", r.body, want)
	}
}

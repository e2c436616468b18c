package main

import (
	"context"

	"github.com/cloudwego/hertz/pkg/app"
)

// The url-encoded workloads: the body read into a typed form model, every
// field required, echoed back as JSON.

// SimpleForm is form-simple's model.
type SimpleForm struct {
	Username  string `json:"username"`
	Password  string `json:"password"`
	Remember  string `json:"remember"`
	CSRFToken string `json:"csrf_token"`
}

// ComplexForm is form-complex's model; age and newsletter are converted.
type ComplexForm struct {
	FirstName  string `json:"first_name"`
	LastName   string `json:"last_name"`
	Email      string `json:"email"`
	Age        int64  `json:"age"`
	Street     string `json:"street"`
	City       string `json:"city"`
	Zip        string `json:"zip"`
	Country    string `json:"country"`
	Phone      string `json:"phone"`
	Newsletter bool   `json:"newsletter"`
	Plan       string `json:"plan"`
	Referrer   string `json:"referrer"`
}

func formSimple(_ context.Context, c *app.RequestContext) {
	f := fields{args: c.PostArgs()}
	form := SimpleForm{
		Username:  f.str("username"),
		Password:  f.str("password"),
		Remember:  f.str("remember"),
		CSRFToken: f.str("csrf_token"),
	}
	if f.err != nil {
		problem(c, f.err)
		return
	}
	respond(c, &form)
}

func formComplex(_ context.Context, c *app.RequestContext) {
	f := fields{args: c.PostArgs()}
	form := ComplexForm{
		FirstName:  f.str("first_name"),
		LastName:   f.str("last_name"),
		Email:      f.str("email"),
		Age:        f.int("age"),
		Street:     f.str("street"),
		City:       f.str("city"),
		Zip:        f.str("zip"),
		Country:    f.str("country"),
		Phone:      f.str("phone"),
		Newsletter: f.bool("newsletter"),
		Plan:       f.str("plan"),
		Referrer:   f.str("referrer"),
	}
	if f.err != nil {
		problem(c, f.err)
		return
	}
	respond(c, &form)
}

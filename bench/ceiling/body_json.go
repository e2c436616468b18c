package main

import (
	"context"
	"errors"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/common/json"
)

// The JSON models of WORKLOADS.md. Every field is required, as in the
// msgspec Structs: a field is a pointer so that a missing field (or a null
// where null is not allowed) stays nil and validate refuses it. The decoder
// itself refuses a value of the wrong JSON type.

// Small is json-small's model; Tax may be null but not missing.
type Small struct {
	Name        *string       `json:"name"`
	Description *string       `json:"description"`
	Price       *float64      `json:"price"`
	Tax         nullableFloat `json:"tax"`
}

// Order is the model of json-medium, json-large and json-very-large.
type Order struct {
	OrderID  *string   `json:"order_id"`
	Customer *Customer `json:"customer"`
	Items    *[]Item   `json:"items"`
	Notes    *string   `json:"notes"`
	Priority *string   `json:"priority"`
}

// Customer is an Order's customer.
type Customer struct {
	Name    *string  `json:"name"`
	Email   *string  `json:"email"`
	Address *Address `json:"address"`
}

// Address is a Customer's address.
type Address struct {
	Street  *string `json:"street"`
	City    *string `json:"city"`
	Zip     *string `json:"zip"`
	Country *string `json:"country"`
}

// Item is one line of an Order.
type Item struct {
	ID       *int64    `json:"id"`
	SKU      *string   `json:"sku"`
	Name     *string   `json:"name"`
	Price    *float64  `json:"price"`
	Quantity *int64    `json:"quantity"`
	Tags     *[]string `json:"tags"`
	InStock  *bool     `json:"in_stock"`
}

// nullableFloat tells a missing field from an explicit null, which a
// *float64 cannot: msgspec refuses the first and accepts the second.
type nullableFloat struct {
	Value   *float64
	Present bool
}

func (n *nullableFloat) UnmarshalJSON(b []byte) error {
	n.Present = true
	if string(b) == "null" {
		n.Value = nil
		return nil
	}
	var v float64
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	n.Value = &v
	return nil
}

func (n nullableFloat) MarshalJSON() ([]byte, error) {
	if n.Value == nil {
		return []byte("null"), nil
	}
	return json.Marshal(*n.Value)
}

// missing builds the error for a required field that was absent or null.
func missing(field string) error { return errors.New(field + ": required") }

func (s *Small) validate() error {
	switch {
	case s.Name == nil:
		return missing("name")
	case s.Description == nil:
		return missing("description")
	case s.Price == nil:
		return missing("price")
	case !s.Tax.Present:
		return missing("tax")
	}
	return nil
}

func (o *Order) validate() error {
	switch {
	case o.OrderID == nil:
		return missing("order_id")
	case o.Customer == nil:
		return missing("customer")
	case o.Items == nil:
		return missing("items")
	case o.Notes == nil:
		return missing("notes")
	case o.Priority == nil:
		return missing("priority")
	}
	if err := o.Customer.validate(); err != nil {
		return err
	}
	for i := range *o.Items {
		if err := (*o.Items)[i].validate(); err != nil {
			return err
		}
	}
	return nil
}

func (c *Customer) validate() error {
	switch {
	case c.Name == nil:
		return missing("customer.name")
	case c.Email == nil:
		return missing("customer.email")
	case c.Address == nil:
		return missing("customer.address")
	}
	a := c.Address
	switch {
	case a.Street == nil:
		return missing("customer.address.street")
	case a.City == nil:
		return missing("customer.address.city")
	case a.Zip == nil:
		return missing("customer.address.zip")
	case a.Country == nil:
		return missing("customer.address.country")
	}
	return nil
}

func (it *Item) validate() error {
	switch {
	case it.ID == nil:
		return missing("items[].id")
	case it.SKU == nil:
		return missing("items[].sku")
	case it.Name == nil:
		return missing("items[].name")
	case it.Price == nil:
		return missing("items[].price")
	case it.Quantity == nil:
		return missing("items[].quantity")
	case it.Tags == nil:
		return missing("items[].tags")
	case it.InStock == nil:
		return missing("items[].in_stock")
	}
	return nil
}

// validator is a decoded model that checks its own required fields.
type validator interface{ validate() error }

// echoJSON decodes the body into m, validates it and answers it back.
func echoJSON(c *app.RequestContext, m validator) {
	if err := json.Unmarshal(c.Request.Body(), m); err != nil {
		problem(c, err)
		return
	}
	if err := m.validate(); err != nil {
		problem(c, err)
		return
	}
	respond(c, m)
}

func jsonSmall(_ context.Context, c *app.RequestContext) {
	var s Small
	echoJSON(c, &s)
}

func jsonOrder(_ context.Context, c *app.RequestContext) {
	var o Order
	echoJSON(c, &o)
}

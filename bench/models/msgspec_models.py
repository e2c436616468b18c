"""The workloads' models (msgspec), shared by every app that uses msgspec:
the same fields and types everywhere, so every framework validates alike."""

import msgspec


class Small(msgspec.Struct):
    name: str
    description: str
    price: float
    tax: float | None


class Address(msgspec.Struct):
    street: str
    city: str
    zip: str
    country: str


class Customer(msgspec.Struct):
    name: str
    email: str
    address: Address


class Item(msgspec.Struct):
    id: int
    sku: str
    name: str
    price: float
    quantity: int
    tags: list[str]
    in_stock: bool


class Order(msgspec.Struct):
    order_id: str
    customer: Customer
    items: list[Item]
    notes: str
    priority: str


class SimpleForm(msgspec.Struct):
    username: str
    password: str
    remember: str
    csrf_token: str


class ComplexForm(msgspec.Struct):
    first_name: str
    last_name: str
    email: str
    age: int
    street: str
    city: str
    zip: str
    country: str
    phone: str
    newsletter: bool
    plan: str
    referrer: str

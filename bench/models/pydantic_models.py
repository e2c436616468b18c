"""The workloads' models (pydantic), shared by every app that uses pydantic:
the same fields and types everywhere, so every framework validates alike."""

from pydantic import BaseModel


class Small(BaseModel):
    name: str
    description: str
    price: float
    tax: float | None


class Address(BaseModel):
    street: str
    city: str
    zip: str
    country: str


class Customer(BaseModel):
    name: str
    email: str
    address: Address


class Item(BaseModel):
    id: int
    sku: str
    name: str
    price: float
    quantity: int
    tags: list[str]
    in_stock: bool


class Order(BaseModel):
    order_id: str
    customer: Customer
    items: list[Item]
    notes: str
    priority: str


class SimpleForm(BaseModel):
    username: str
    password: str
    remember: str
    csrf_token: str


class ComplexForm(BaseModel):
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

"""A small FastAPI service for loadgate's payload tests (FastAPI 0.92 + pydantic 1.10, Debian packages).

The input model has what real model inputs have: nested models, optional fields, enums (with and
without defaults), constrained strings (lengths, regexes), constrained numbers (inclusive and
exclusive bounds, multiple_of), lists with limits and unique items, a dict, a tuple, dates, a UUID
and an IPv4 address. Types are strict where pydantic allows it (no "42" -> 42 coercion) and extra
fields are forbidden, so a generated body that is even slightly off gets a 422.

Run: /usr/bin/python3 -m uvicorn app:app --host 127.0.0.1 --port PORT (from this folder).
"""
from datetime import date, datetime
from enum import Enum
from ipaddress import IPv4Address
from typing import Dict, Optional, Tuple
from uuid import UUID

from fastapi import FastAPI, HTTPException
from pydantic import BaseModel, StrictBool, confloat, conint, conlist, constr


class Region(str, Enum):
    southwest = "southwest"
    southeast = "southeast"
    northwest = "northwest"
    northeast = "northeast"


class Plan(str, Enum):
    basic = "basic"
    plus = "plus"
    premium = "premium"


class Relation(str, Enum):
    child = "child"
    spouse = "spouse"


class Address(BaseModel):
    """A postal address."""

    street: constr(strict=True, min_length=3, max_length=80)
    city: constr(strict=True, min_length=1, max_length=60)
    postal_code: constr(strict=True, regex=r"^\d{5}(-\d{4})?$")
    country: constr(strict=True, regex=r"^[A-Z]{2}$") = "US"

    class Config:
        extra = "forbid"


class Dependent(BaseModel):
    """A person covered by the policy."""

    name: constr(strict=True, min_length=1, max_length=80)
    age: conint(strict=True, ge=0, le=25)
    relation: Relation

    class Config:
        extra = "forbid"


class CustomerInput(BaseModel):
    """Input of the customer model."""

    customer_id: UUID
    name: constr(strict=True, min_length=1, max_length=80)
    email: Optional[constr(strict=True, regex=r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$")] = None
    age: conint(strict=True, ge=18, le=100)
    bmi: confloat(gt=10, lt=60)
    smoker: StrictBool
    region: Region
    plan: Plan = Plan.basic
    premium: Optional[confloat(ge=0, le=10000, multiple_of=0.5)] = None
    signed_up: datetime
    birthday: Optional[date] = None
    address: Address
    previous_addresses: conlist(Address, max_items=3) = []
    dependents: conlist(Dependent, max_items=5) = []
    tags: conlist(constr(strict=True, min_length=1, max_length=12), max_items=4, unique_items=True) = []
    scores: Dict[constr(strict=True), confloat(ge=0, le=1)] = {}
    location: Optional[Tuple[confloat(ge=-90, le=90), confloat(ge=-180, le=180)]] = None
    ip: Optional[IPv4Address] = None
    notes: Optional[constr(strict=True, max_length=200)] = None

    class Config:
        extra = "forbid"


app = FastAPI(title="loadgate payload test service", version="0.1.0")


@app.get("/api/health/ready")
def ready():
    return {"readiness_status": "ACCEPTING_TRAFFIC"}


@app.post("/api/models/{model_name}/prediction")
def predict(model_name: str, body: CustomerInput):
    if model_name != "customer_model":
        raise HTTPException(status_code=404, detail=f"no model {model_name}")
    score = 0.01 * body.age + (0.5 if body.smoker else 0.0) + 0.1 * len(body.dependents)
    return {"score": round(score, 4)}

"""Manage API (docs/api.md): customers and their keys, for Administrators."""

from __future__ import annotations

from typing import TYPE_CHECKING

import azure.functions as func

from shared.adapters.face import FaceSettings
from shared.api.auth import Principal, Role
from shared.api.http import json_response, page_request, page_response, parse_body
from shared.api.models import (
    AbuseMonitoringSetting,
    CustomerCreateRequest,
    CustomerKeyResponse,
    CustomerView,
    FaceSettingsUpdate,
    FaceSettingsView,
    Page,
    ReasonRequest,
    RepairResponse,
    TerminateRequest,
)
from shared.api.openapi import (
    CONTENDED,
    NOT_FOUND,
    PAGING,
    STAFF,
    UPSTREAM,
)
from shared.api.router import Api
from shared.domain.records import Customer
from shared.services import review_repair

if TYPE_CHECKING:
    from shared.bootstrap import Services

api = Api()
bp = api.bp
TERMINATED = {409: ("conflict",)}  # the customer was terminated: permanent


def _view(customer: Customer) -> CustomerView:
    return CustomerView(
        customer_id=customer.customer_id,
        name=customer.name,
        contact_email=customer.contact_email,
        status=customer.status,
        created_at=customer.created_at,
        key_rotated_at=customer.key_rotated_at,
        suspended_at=customer.suspended_at,
        terminated_at=customer.terminated_at,
    )


@api.route(
    "v1/manage/customers",
    "POST",
    "Register a customer (its api key is shown once)",
    "manage",
    request=CustomerCreateRequest,
    responses={201: CustomerKeyResponse},
    role=Role.ADMINISTRATOR,
    action="customer.create",
)
def create_customer(req: func.HttpRequest, s: Services, admin: Principal) -> func.HttpResponse:
    body = parse_body(req, CustomerCreateRequest, s.settings.max_body_bytes)
    customer, api_key = s.customers.register(body.name, body.contact_email, admin.name)
    return json_response(CustomerKeyResponse(customer_id=customer.customer_id, api_key=api_key), 201)


@api.route(
    "v1/manage/customers",
    "GET",
    "List customers",
    "manage",
    query=PAGING,
    responses={200: Page[CustomerView]},
    role=Role.ADMINISTRATOR,
    action="customer.list",
)
def list_customers(req: func.HttpRequest, s: Services, staff: Principal) -> func.HttpResponse:
    customers, token = s.customers.store.page(*page_request(req))
    return page_response([_view(c) for c in customers], token)


@api.route(
    "v1/manage/customers/{customerId}",
    "GET",
    "Read a customer",
    "manage",
    responses={200: CustomerView},
    errors=[NOT_FOUND],
    role=Role.ADMINISTRATOR,
    action="customer.read",
)
def get_customer(req: func.HttpRequest, s: Services, staff: Principal) -> func.HttpResponse:
    return json_response(_view(s.customers.get(req.route_params.get("customerId", "")).record))


@api.route(
    "v1/manage/customers/{customerId}/keys",
    "POST",
    "Rotate a customer's api key (the old one stops working)",
    "manage",
    responses={200: CustomerKeyResponse},
    errors=[NOT_FOUND, CONTENDED, TERMINATED],
    role=Role.ADMINISTRATOR,
    action="customer.rotate_key",
)
def rotate_customer_key(req: func.HttpRequest, s: Services, admin: Principal) -> func.HttpResponse:
    customer, api_key = s.customers.rotate_key(req.route_params.get("customerId", ""), admin.name)
    return json_response(CustomerKeyResponse(customer_id=customer.customer_id, api_key=api_key))


@api.route(
    "v1/manage/customers/{customerId}/reinstate",
    "POST",
    "Lift a customer's suspension",
    "manage",
    request=ReasonRequest,
    responses={200: CustomerView},
    errors=[NOT_FOUND, CONTENDED, TERMINATED],
    role=Role.ADMINISTRATOR,
    action="customer.reinstate",
)
def reinstate_customer(req: func.HttpRequest, s: Services, admin: Principal) -> func.HttpResponse:
    body = (
        parse_body(req, ReasonRequest, s.settings.max_body_bytes)
        if (req.get_body() or b"").strip()
        else ReasonRequest()
    )
    customer = s.customers.reinstate(req.route_params.get("customerId", ""), admin.name, body.reason)
    return json_response(_view(customer))


@api.route(
    "v1/manage/customers/{customerId}/terminate",
    "POST",
    "Terminate a customer (permanent)",
    "manage",
    request=TerminateRequest,
    responses={200: CustomerView},
    errors=[NOT_FOUND, CONTENDED, TERMINATED],
    role=Role.ADMINISTRATOR,
    action="customer.terminate",
)
def terminate_customer(req: func.HttpRequest, s: Services, admin: Principal) -> func.HttpResponse:
    """End a customer for good: every client call with its keys or session tokens answers 403
    `customer_terminated`, no new key can be issued, and reinstating answers 409. Audited."""
    body = parse_body(req, TerminateRequest, s.settings.max_body_bytes)
    customer = s.customers.terminate(req.route_params.get("customerId", ""), admin.name, body.reason)
    return json_response(_view(customer))


@api.route(
    "v1/manage/repair",
    "POST",
    "Finish interrupted decisions (outbox, successor subjects)",
    "manage",
    responses={200: RepairResponse},
    role=Role.ADMINISTRATOR,
    action="system.repair",
)
def repair(req: func.HttpRequest, s: Services, admin: Principal) -> func.HttpResponse:
    """Finish interrupted work: queue left-behind notifications, create missing successor subjects,
    relay audit entries still waiting beside their change."""
    done = review_repair.repair(s.review)
    s.audit.append(at=s.clock(), actor=admin.name, action="system.repair", detail=done)
    return json_response(
        RepairResponse(
            notifications_queued=done["notificationsQueued"],
            successors_created=done["successorsCreated"],
            audit_relayed=done["auditRelayed"],
        )
    )


FACE_SETTINGS_ERRORS = [STAFF, UPSTREAM, {409: ("face_version_unsupported",)}]


def _face_settings_view(api_version: str, settings: FaceSettings) -> FaceSettingsView:
    return FaceSettingsView(
        api_version=api_version,
        liveness_abuse_monitoring=AbuseMonitoringSetting(enabled=settings.abuse_monitoring_enabled),
    )


@api.route(
    "v1/manage/face-settings",
    "GET",
    "Read the Face resource's liveness abuse monitoring setting (Face v1.3-preview.1)",
    "manage",
    responses={200: FaceSettingsView},
    errors=FACE_SETTINGS_ERRORS,
    role=Role.ADMINISTRATOR,
    action="face.settings.read",
)
def get_face_settings(req: func.HttpRequest, s: Services, staff: Principal) -> func.HttpResponse:
    return json_response(_face_settings_view(s.face_settings.api_version, s.face_settings.read()))


@api.route(
    "v1/manage/face-settings",
    "PATCH",
    "Turn the Face resource's liveness abuse monitoring on or off (audited)",
    "manage",
    request=FaceSettingsUpdate,
    responses={200: FaceSettingsView},
    errors=[*FACE_SETTINGS_ERRORS],
    role=Role.ADMINISTRATOR,
    action="face.settings.update",
)
def update_face_settings(req: func.HttpRequest, s: Services, admin: Principal) -> func.HttpResponse:
    body = parse_body(req, FaceSettingsUpdate, s.settings.max_body_bytes)
    updated = s.face_settings.set_abuse_monitoring(body.liveness_abuse_monitoring.enabled, admin.name, body.reason)
    return json_response(_face_settings_view(s.face_settings.api_version, updated))

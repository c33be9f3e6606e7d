"""Manage API (docs/api.md): customers and their keys, for Administrators."""

from __future__ import annotations

import azure.functions as func

from shared.adapters.face import FaceSettings
from shared.api.auth import Role
from shared.api.http import endpoint, json_response, page_request, page_response, parse_body
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
    documented,
)
from shared.bootstrap import services
from shared.domain.records import Customer

bp = func.Blueprint()
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


@bp.route(route="v1/manage/customers", methods=["POST"], auth_level=func.AuthLevel.ANONYMOUS)
@documented(
    "Register a customer (its api key is shown once)",
    "manage",
    request=CustomerCreateRequest,
    responses={201: CustomerKeyResponse},
)
@endpoint
def create_customer(req: func.HttpRequest) -> func.HttpResponse:
    s = services()
    admin = s.staff.require(req, Role.ADMINISTRATOR, "customer.create")
    body = parse_body(req, CustomerCreateRequest, s.settings.max_body_bytes)
    customer, api_key = s.customers.register(body.name, body.contact_email, admin.name)
    return json_response(CustomerKeyResponse(customer_id=customer.customer_id, api_key=api_key), 201)


@bp.route(route="v1/manage/customers", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
@documented(
    "List customers",
    "manage",
    query=PAGING,
    responses={200: Page[CustomerView]},
)
@endpoint
def list_customers(req: func.HttpRequest) -> func.HttpResponse:
    s = services()
    s.staff.require(req, Role.ADMINISTRATOR, "customer.list")
    customers, token = s.customers.store.page(*page_request(req))
    return page_response([_view(c) for c in customers], token)


@bp.route(route="v1/manage/customers/{customerId}", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
@documented("Read a customer", "manage", responses={200: CustomerView}, errors=[NOT_FOUND])
@endpoint
def get_customer(req: func.HttpRequest) -> func.HttpResponse:
    s = services()
    s.staff.require(req, Role.ADMINISTRATOR, "customer.read")
    return json_response(_view(s.customers.get(req.route_params.get("customerId", "")).record))


@bp.route(route="v1/manage/customers/{customerId}/keys", methods=["POST"], auth_level=func.AuthLevel.ANONYMOUS)
@documented(
    "Rotate a customer's api key (the old one stops working)",
    "manage",
    responses={200: CustomerKeyResponse},
    errors=[NOT_FOUND, CONTENDED, TERMINATED],
)
@endpoint
def rotate_customer_key(req: func.HttpRequest) -> func.HttpResponse:
    s = services()
    admin = s.staff.require(req, Role.ADMINISTRATOR, "customer.rotate_key")
    customer, api_key = s.customers.rotate_key(req.route_params.get("customerId", ""), admin.name)
    return json_response(CustomerKeyResponse(customer_id=customer.customer_id, api_key=api_key))


@bp.route(route="v1/manage/customers/{customerId}/reinstate", methods=["POST"], auth_level=func.AuthLevel.ANONYMOUS)
@documented(
    "Lift a customer's suspension",
    "manage",
    request=ReasonRequest,
    responses={200: CustomerView},
    errors=[NOT_FOUND, CONTENDED, TERMINATED],
)
@endpoint
def reinstate_customer(req: func.HttpRequest) -> func.HttpResponse:
    s = services()
    admin = s.staff.require(req, Role.ADMINISTRATOR, "customer.reinstate")
    body = (
        parse_body(req, ReasonRequest, s.settings.max_body_bytes)
        if (req.get_body() or b"").strip()
        else ReasonRequest()
    )
    customer = s.customers.reinstate(req.route_params.get("customerId", ""), admin.name, body.reason)
    return json_response(_view(customer))


@bp.route(route="v1/manage/customers/{customerId}/terminate", methods=["POST"], auth_level=func.AuthLevel.ANONYMOUS)
@documented(
    "Terminate a customer (permanent)",
    "manage",
    request=TerminateRequest,
    responses={200: CustomerView},
    errors=[NOT_FOUND, CONTENDED, TERMINATED],
)
@endpoint
def terminate_customer(req: func.HttpRequest) -> func.HttpResponse:
    """End a customer for good: every client call with its keys or session tokens answers 403
    `customer_terminated`, no new key can be issued, and reinstating answers 409. Audited."""
    s = services()
    admin = s.staff.require(req, Role.ADMINISTRATOR, "customer.terminate")
    body = parse_body(req, TerminateRequest, s.settings.max_body_bytes)
    customer = s.customers.terminate(req.route_params.get("customerId", ""), admin.name, body.reason)
    return json_response(_view(customer))


@bp.route(route="v1/manage/repair", methods=["POST"], auth_level=func.AuthLevel.ANONYMOUS)
@documented(
    "Finish interrupted decisions (outbox, successor subjects)",
    "manage",
    responses={200: RepairResponse},
)
@endpoint
def repair(req: func.HttpRequest) -> func.HttpResponse:
    """Finish interrupted work: queue left-behind notifications, create missing successor subjects,
    relay audit entries still waiting beside their change."""
    s = services()
    admin = s.staff.require(req, Role.ADMINISTRATOR, "system.repair")
    done = s.review.repair()
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


@bp.route(route="v1/manage/face-settings", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
@documented(
    "Read the Face resource's liveness abuse monitoring setting (Face v1.3-preview.1)",
    "manage",
    responses={200: FaceSettingsView},
    errors=FACE_SETTINGS_ERRORS,
)
@endpoint
def get_face_settings(req: func.HttpRequest) -> func.HttpResponse:
    s = services()
    s.staff.require(req, Role.ADMINISTRATOR, "face.settings.read")
    return json_response(_face_settings_view(s.face_settings.api_version, s.face_settings.read()))


@bp.route(route="v1/manage/face-settings", methods=["PATCH"], auth_level=func.AuthLevel.ANONYMOUS)
@documented(
    "Turn the Face resource's liveness abuse monitoring on or off (audited)",
    "manage",
    request=FaceSettingsUpdate,
    responses={200: FaceSettingsView},
    errors=[*FACE_SETTINGS_ERRORS],
)
@endpoint
def update_face_settings(req: func.HttpRequest) -> func.HttpResponse:
    s = services()
    admin = s.staff.require(req, Role.ADMINISTRATOR, "face.settings.update")
    body = parse_body(req, FaceSettingsUpdate, s.settings.max_body_bytes)
    updated = s.face_settings.set_abuse_monitoring(body.liveness_abuse_monitoring.enabled, admin.name, body.reason)
    return json_response(_face_settings_view(s.face_settings.api_version, updated))

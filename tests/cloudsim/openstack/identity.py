# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Keystone v3 subset: version discovery, tokens (password and application credential), catalog."""

from __future__ import annotations

import secrets

from cloudsim.openstack.routing import Call, Reply, Route
from cloudsim.openstack.state import REGION, OpenStackCloud
from cloudsim.openstack.wire import ApiError, new_id, timestamp

PREFIX = "identity"
TOKEN_LIFETIME_SECONDS = 24 * 3600

# (service type, service name, path under the base URL) as DevStack registers them.
CATALOG_SERVICES = (
    ("identity", "keystone", "/identity"),
    ("compute", "nova", "/compute/v2.1"),
    ("volumev3", "cinderv3", "/volume/v3/{project_id}"),
    ("block-storage", "cinder", "/volume/v3/{project_id}"),
    ("image", "glance", "/image"),
    ("network", "neutron", "/network"),
)


def v3_version(base_url: str) -> dict:
    return {
        "id": "v3.14", "status": "stable", "updated": "2020-04-07T00:00:00Z",
        "links": [{"rel": "self", "href": f"{base_url}/identity/v3/"}],
        "media-types": [{"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}],
    }


def versions(call: Call) -> Reply:
    return Reply(300, {"versions": {"values": [v3_version(call.base_url)]}})


def version_v3(call: Call) -> Reply:
    return Reply(200, {"version": v3_version(call.base_url)})


def catalog(base_url: str, project_id: str) -> list[dict]:
    entries = []
    for service_type, name, path in CATALOG_SERVICES:
        url = base_url + path.format(project_id=project_id)
        endpoints = [{"id": new_id().replace("-", ""), "interface": interface, "region": REGION, "region_id": REGION, "url": url}
                     for interface in ("public", "internal")]
        entries.append({"id": new_id().replace("-", ""), "type": service_type, "name": name, "endpoints": endpoints})
    return entries


def _unauthorized() -> ApiError:
    return ApiError(401, "The request you have made requires authentication.", "Unauthorized")


def _check_domain(cloud: OpenStackCloud, domain: dict | None) -> None:
    domain = domain or {}
    if domain.get("id") not in (None, cloud.identity.domain_id) or domain.get("name") not in (None, cloud.identity.domain_name):
        raise _unauthorized()


def _authenticate_password(cloud: OpenStackCloud, password: dict) -> None:
    user = password.get("user") or {}
    identity = cloud.identity
    if user.get("id") not in (None, identity.user_id) or user.get("name") not in (None, identity.user_name):
        raise _unauthorized()
    if not (user.get("id") or user.get("name")):
        raise ApiError(400, "Expecting to find id or name in user - the server could not comply with the request since it is either "
                            "malformed or otherwise incorrect. The client is assumed to be in error.", "ValidationError")
    if "id" not in user:
        _check_domain(cloud, user.get("domain"))
    if user.get("password") != identity.password:
        raise _unauthorized()


def _authenticate_app_credential(cloud: OpenStackCloud, credential: dict) -> None:
    identity = cloud.identity
    if credential.get("id") not in (None, identity.app_credential_id):
        raise _unauthorized()
    if credential.get("name") not in (None, identity.app_credential_name):
        raise _unauthorized()
    if credential.get("secret") != identity.app_credential_secret:
        raise _unauthorized()


def _check_scope(cloud: OpenStackCloud, scope: dict | None) -> None:
    project = (scope or {}).get("project")
    if project is None:
        return
    if project.get("id") not in (None, cloud.identity.project_id) or project.get("name") not in (None, cloud.identity.project_name):
        raise _unauthorized()
    if "id" not in project:
        _check_domain(cloud, project.get("domain"))


def create_token(call: Call) -> Reply:
    auth = call.body_object("auth")
    methods = (auth.get("identity") or {}).get("methods") or []
    if "password" in methods:
        _authenticate_password(call.cloud, auth["identity"].get("password") or {})
        _check_scope(call.cloud, auth.get("scope"))
    elif "application_credential" in methods:
        # An application credential is bound to its project: a scope in the request is an error in Keystone.
        _authenticate_app_credential(call.cloud, auth["identity"].get("application_credential") or {})
    else:
        raise _unauthorized()
    token_id = "gAAAAA" + secrets.token_urlsafe(48)
    body = _token_body(call, methods[:1], token_id)
    call.cloud.tokens[token_id] = body["token"]
    return Reply(201, body, {"X-Subject-Token": token_id})


def _token_body(call: Call, methods: list, token_id: str) -> dict:
    identity = call.cloud.identity
    domain = {"id": identity.domain_id, "name": identity.domain_name}
    token = {
        "methods": methods, "audit_ids": [token_id[-22:]],
        "user": {"id": identity.user_id, "name": identity.user_name, "domain": domain, "password_expires_at": None},
        "project": {"id": identity.project_id, "name": identity.project_name, "domain": domain},
        "roles": [{"id": f"{role}-role", "name": role} for role in identity.roles],
        "issued_at": timestamp(call.now, fraction=True) + "Z",
        "expires_at": timestamp(call.now + TOKEN_LIFETIME_SECONDS, fraction=True) + "Z",
        "is_domain": False,
        "catalog": catalog(call.base_url, identity.project_id),
    }
    if "application_credential" in methods:
        token["application_credential"] = {"id": identity.app_credential_id, "name": identity.app_credential_name, "restricted": True}
    return {"token": token}


def validate_token(call: Call) -> Reply:
    token = call.cloud.tokens.get(call.headers.get("X-Subject-Token", ""))
    if token is None:
        raise ApiError(404, "Could not find token.", "NotFound")
    return Reply(200, {"token": token}, {"X-Subject-Token": call.headers.get("X-Subject-Token")})


def revoke_token(call: Call) -> Reply:
    call.cloud.tokens.pop(call.headers.get("X-Subject-Token", ""), None)
    return Reply(204)


def show_project(call: Call) -> Reply:
    identity = call.cloud.identity
    if call.params["project_id"] != identity.project_id:
        raise ApiError(404, f"Could not find project: {call.params['project_id']}.", "NotFound")
    return Reply(200, {"project": {"id": identity.project_id, "name": identity.project_name, "domain_id": identity.domain_id,
                                   "enabled": True, "description": "", "is_domain": False, "parent_id": identity.domain_id}})


def error_body(error: ApiError) -> dict:
    return {"error": {"code": error.status, "title": error.code, "message": error.message}}


ROUTES = [
    Route("GET", r"/?", "versions", versions, public=True),
    Route("GET", r"/v3/?", "showVersion", version_v3, public=True),
    Route("POST", r"/v3/auth/tokens", "createToken", create_token, public=True),
    Route("GET", r"/v3/auth/tokens", "validateToken", validate_token),
    Route("HEAD", r"/v3/auth/tokens", "checkToken", validate_token),
    Route("DELETE", r"/v3/auth/tokens", "revokeToken", revoke_token),
    Route("GET", r"/v3/projects/(?P<project_id>[^/]+)", "showProject", show_project),
]
